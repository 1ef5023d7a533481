"""Domain lock files: golden files of format 2 keep loading; loading one stays light."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import normlock as nl
from normlock.domains import KINDS, lock_class
from tests.export.parity import assert_same_bits
from tests.test_imports import loaded_after

GOLDEN = Path(__file__).parent.parent / "golden" / "v2"


def test_golden_image_lock_reproduces_its_normalized_batch() -> None:
    lock = nl.load(GOLDEN / "images.normlock.json")
    expected = json.loads((GOLDEN / "images.expected.json").read_text())["images"]
    pixels = np.array(expected["pixels"], dtype=expected["dtype"]).reshape(expected["shape"])
    normalized = np.array(expected["normalized"], dtype=np.float32).reshape(expected["shape"])
    assert lock.layout == expected["layout"]
    assert_same_bits(lock.transform(pixels), normalized)


def test_golden_window_lock_reproduces_its_windows() -> None:
    lock = nl.load(GOLDEN / "windows.normlock.json")
    expected = json.loads((GOLDEN / "windows.expected.json").read_text())["windows"]
    windows = np.array(expected["values"]).reshape(expected["shape"])
    assert_same_bits(
        lock.transform(windows), np.array(expected["normalized"]).reshape(expected["shape"])
    )


def test_every_domain_has_a_lock_class_and_an_unknown_one_is_a_clear_error(tmp_path) -> None:
    assert all(
        kind == lock_class(kind).KIND for kind in KINDS if kind != "audio" and kind != "boxes"
    )
    text = (GOLDEN / "images.normlock.json").read_text()
    document = json.loads(text)
    document.pop("seal")
    document["domain"] = "hyperspectral"
    from normlock import artifact

    (tmp_path / "x.normlock.json").write_text(artifact.render(artifact.seal(document)))
    with pytest.raises(nl.LockFormatError, match=r"domain 'hyperspectral'.*upgrade normlock"):
        nl.load(tmp_path / "x.normlock.json")


def test_loading_and_applying_an_image_lock_loads_no_heavy_library() -> None:
    path = GOLDEN / "images.normlock.json"
    modules = loaded_after(
        f"import numpy as np, normlock as nl; lock = nl.load({str(path)!r}); "
        "lock.transform(np.zeros((1, 3, 4, 4), np.uint8))"
    )
    assert not modules & {"torch", "onnx", "PIL", "pandas", "sklearn", "typer"}


def test_the_registry_stores_an_image_lock_and_pulls_it_back(tmp_path) -> None:
    from normlock.registry import Registry

    registry = Registry(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    lock = nl.load(GOLDEN / "images.normlock.json")
    pushed = registry.push(GOLDEN / "images.normlock.json", "photos")
    pulled = registry.pull("photos@latest")
    assert pulled.text == (GOLDEN / "images.normlock.json").read_text()
    assert type(pulled.lock) is type(lock) and pulled.lock.fingerprint == lock.fingerprint
    assert registry.push(lock, "photos").version == pushed.version  # the same lock: same version
