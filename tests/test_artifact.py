"""The sealed artifact: exact round trips, tamper detection, versions, atomic writes."""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import normlock as nl
from normlock import artifact

SRC = Path(__file__).resolve().parent.parent / "src" / "normlock"


def small_lock() -> nl.Lock:
    return nl.fit({"x": np.array([1.5, -0.0, 3.25, np.nan, 7.0])}, {"x": "minmax"})


def test_save_load_round_trips_bit_for_bit(tmp_path: Path) -> None:
    lock = small_lock()
    path = lock.save(tmp_path / "m.normlock.json")
    loaded = nl.load(path)
    assert loaded == lock
    assert loaded.to_json() == path.read_text(encoding="utf-8")
    assert loaded.fingerprint == lock.fingerprint


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=30))
def test_every_float_round_trips_exactly(values: list[float]) -> None:
    text = artifact.render(
        artifact.seal({"format": artifact.FORMAT, "format_version": 1, "v": values})
    )
    back = artifact.parse(text)["v"]
    for a, b in zip(values, back, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )


def test_every_byte_change_is_detected(tmp_path: Path) -> None:
    data = bytearray(small_lock().to_json().encode("utf-8"))
    path = tmp_path / "t.normlock.json"
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        path.write_bytes(bytes(changed))
        with pytest.raises(nl.LockIntegrityError):
            nl.load(path)


def test_edited_parameter_names_the_problem(tmp_path: Path) -> None:
    lock = small_lock()
    path = lock.save(tmp_path / "m.normlock.json")
    text = path.read_text().replace('"max": 7.0', '"max": 7.5', 1)
    path.write_text(text)
    with pytest.raises(nl.LockIntegrityError, match="modified after it was written"):
        nl.load(path)


def test_future_format_version_is_a_clear_error(tmp_path: Path) -> None:
    document = json.loads(small_lock().to_json())
    document.pop("seal")
    document["format_version"] = artifact.FORMAT_VERSION + 1
    path = tmp_path / "future.normlock.json"
    path.write_text(artifact.render(artifact.seal(document)))
    with pytest.raises(nl.LockFormatError, match="Upgrade normlock"):
        nl.load(path)


def test_not_a_lock_and_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(nl.LockIntegrityError, match="not a normlock lock"):
        nl.load(path)
    path.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(nl.LockIntegrityError, match="not UTF-8"):
        nl.load(path)
    with pytest.raises(nl.InputError, match="does not exist"):
        nl.load(tmp_path / "missing.normlock.json")


def test_failed_save_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # a directory where the file should go: the rename fails
    with pytest.raises(OSError):
        small_lock().save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert list(target.iterdir()) == []


def test_lock_keys_are_self_explanatory() -> None:
    document = json.loads(small_lock().to_json())
    feature = document["features"][0]
    assert feature["name"] == "x"
    assert feature["steps"][0]["params"]["min"] == -0.0
    assert set(document) >= {
        "format",
        "format_version",
        "library_version",
        "created_at",
        "spec",
        "provenance",
        "probes",
        "fingerprint",
        "seal",
        "features",
    }


TRANSPORT = SRC / "engines" / "transport.py"
"""The one module that pickles: summaries between the Spark driver and its workers."""


def test_no_code_execution_primitives_in_the_package() -> None:
    # a module or builtin used, or called with an argument: torch's ``model.eval()`` (a
    # method) and an argument-less ``eval()`` in prose are neither
    pattern = re.compile(
        r"(?<![.\w])(pickle|marshal|eval|exec|__import__)\b\s*(\.|\((?!\)))"
        r"|import pickle|yaml\.load\("
    )
    offenders = [
        f"{path.name}:{n}"
        for path in SRC.rglob("*.py")
        if path != TRANSPORT
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_only_the_spark_engine_uses_the_pickle_transport() -> None:
    """Locks, profiles and every file normlock reads or writes never meet a pickle."""
    users = sorted(
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if path != TRANSPORT and re.search(r"\btransport\b", path.read_text())
    )
    assert users == ["engines/spark.py", "engines/spark_worker.py"]


def test_saved_files_get_the_umask_permissions(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = small_lock().save(tmp_path / "m.normlock.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=5)
        | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=40,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_the_file_text_is_the_standard_librarys_indented_canonical_json(document) -> None:
    """The lock file's own writer gives byte for byte what json.dumps(indent=2,
    sort_keys=True, ensure_ascii=False) gives."""
    expected = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert artifact.render(document) == expected
