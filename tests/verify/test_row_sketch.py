"""The row sketch: hash definition, bottom-k sample, merging, encoding, size, the lock."""

from __future__ import annotations

import itertools
import json
import math
import struct
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import normlock as nl
from normlock import artifact
from normlock.stats.elias_fano import decode, encode
from normlock.stats.rows import DEFAULT_ROW_SKETCH_K, HASH_BITS, RowSketch, row_hashes

MASK = 2**64 - 1
GOLDEN = Path(__file__).parent.parent / "golden"


def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def reference_hash(row: list[float]) -> int:
    """The documented row hash, in plain Python integers."""
    state = mix(len(row))
    for position, value in enumerate(row):
        value = 0.0 if value == 0.0 else value
        bits = (
            0x7FF8000000000000
            if math.isnan(value)
            else struct.unpack("<Q", struct.pack("<d", value))[0]
        )
        state = (
            (state ^ ((bits + 0x9E3779B97F4A7C15 * (position + 1)) & MASK)) * 0xD6E8FEB86659FD93
        ) & MASK
        state ^= state >> 32
    return mix(state) >> (64 - HASH_BITS)


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(st.lists(st.tuples(finite_or_not, finite_or_not), min_size=1, max_size=30))
def test_row_hash_matches_its_documented_definition(rows: list[tuple[float, float]]) -> None:
    columns = [np.array([r[j] for r in rows]) for j in range(2)]
    assert row_hashes(columns).tolist() == [reference_hash(list(r)) for r in rows]


@given(st.lists(st.tuples(finite_or_not, finite_or_not, finite_or_not), min_size=1, max_size=30))
def test_compiled_row_hash_equals_the_numpy_reference(
    rows: list[tuple[float, float, float]],
) -> None:
    from normlock.stats.kernel import HASH_BITS, _numpy_wide_row_hashes

    columns = [np.array([r[j] for r in rows]) for j in range(3)]
    with np.errstate(over="ignore"):
        columns[1] = columns[1].astype(np.float32)
    assert (
        row_hashes(columns).tolist()
        == (_numpy_wide_row_hashes(columns) >> np.uint64(64 - HASH_BITS)).tolist()
    )


def test_canonical_values_hash_alike() -> None:
    payload_nan = np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)
    assert row_hashes([np.array([-0.0])]) == row_hashes([np.array([0.0])])
    assert row_hashes([payload_nan]) == row_hashes([np.array([np.nan])])
    assert row_hashes([np.array([3], dtype=np.int64)]) == row_hashes([np.array([3.0])])
    assert row_hashes([np.array([0.1], dtype=np.float32)]) == row_hashes(
        [np.array([float(np.float32(0.1))])]
    )
    swapped = row_hashes([np.array([1.0]), np.array([2.0])])
    assert swapped != row_hashes([np.array([2.0]), np.array([1.0])])


@given(
    st.lists(st.integers(0, 2**HASH_BITS - 1), max_size=400, unique=True),
)
def test_elias_fano_round_trip_and_size(values: list[int]) -> None:
    array = np.array(sorted(values), dtype=np.uint64)
    coded = encode(array)
    assert np.array_equal(decode(coded), array)
    if values:
        bound = len(values) * (math.log2((max(values) + 1) / len(values)) + 2) / 8 + 2
        assert coded.size_bytes <= bound


@given(
    rows=st.lists(st.tuples(st.integers(-50, 50), st.floats(-1e6, 1e6)), min_size=1, max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=8),
    k=st.sampled_from([1, 7, 64, 1000]),
)
def test_sketch_is_the_bottom_k_of_distinct_rows_in_any_chunking(
    rows: list[tuple[int, float]], cuts: list[int], k: int
) -> None:
    a = np.array([r[0] for r in rows], dtype=np.float64)
    b = np.array([r[1] for r in rows])
    whole = RowSketch(k).update([a, b])
    expected = sorted(
        {reference_hash([x, y]) for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    )[:k]
    assert whole.hashes.tolist() == expected and whole.rows == len(rows)
    bounds = sorted({0, len(rows), *(c for c in cuts if c < len(rows))})
    parts = [RowSketch(k).update([a[i:j], b[i:j]]) for i, j in itertools.pairwise(bounds)]
    merged_forward = parts[0]
    for part in parts[1:]:
        merged_forward = merged_forward.merge(part)
    merged_backward = parts[-1]
    for part in reversed(parts[:-1]):
        merged_backward = part.merge(merged_backward)
    streamed = RowSketch(k)
    for i, j in itertools.pairwise(bounds):
        streamed = streamed.update([a[i:j], b[i:j]])
    assert merged_forward == merged_backward == streamed == whole
    assert RowSketch.from_dict(json.loads(json.dumps(whole.to_dict()))) == whole


@given(
    rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), min_size=1, max_size=400)
    | st.lists(
        st.tuples(st.integers(-(2**40), 2**40), st.integers(0, 9)), min_size=1, max_size=400
    ),
    cuts=st.lists(st.integers(0, 400), max_size=8),
    k=st.sampled_from([1, 7, 30]),
)
def test_a_sketch_fed_only_the_hashes_below_its_cut_ends_the_same(
    rows: list[tuple[int, int]], cuts: list[int], k: int
) -> None:
    """What a fit's pass keeps of each chunk's hashes settles the sketch, or says that it
    does not (few distinct rows), and then all of the chunk's hashes do."""
    a = np.array([r[0] for r in rows], dtype=np.float64)
    b = np.array([r[1] for r in rows], dtype=np.float64)
    bounds = sorted({0, len(rows), *(c for c in cuts if c < len(rows))})
    streamed = RowSketch(k)
    for i, j in itertools.pairwise(bounds):
        hashes = row_hashes([a[i:j], b[i:j]])
        cut = streamed.cut(j - i)
        updated = streamed.update_below(np.unique(hashes[hashes < cut]), j - i, cut)
        streamed = updated if updated is not None else streamed.update([a[i:j], b[i:j]])
    assert streamed == RowSketch(k).update([a, b])


def test_a_cut_with_too_few_distinct_rows_below_it_asks_for_every_hash() -> None:
    same = [np.full(1000, 2.5), np.full(1000, -1.0)]
    hashes = row_hashes(same)
    sketch = RowSketch(7)
    cut = sketch.cut(1000)
    assert cut < 2**HASH_BITS
    assert sketch.update_below(np.unique(hashes[hashes < cut]), 1000, cut) is None


def test_a_large_fit_of_few_distinct_rows_keeps_each_of_them_once() -> None:
    rows = np.tile(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32), (120_000, 1))
    lock = fit_quietly(rows, None)
    assert lock.row_sketch == RowSketch().update(list(rows.T))
    assert len(lock.row_sketch.hashes) == 3 and lock.row_sketch.rows == 360_000


def test_size_bound_holds_at_its_worst_and_at_ten_million_rows() -> None:
    rng = np.random.default_rng(0)
    worst = RowSketch().update([rng.normal(size=DEFAULT_ROW_SKETCH_K)])
    assert len(worst.hashes) == DEFAULT_ROW_SKETCH_K and worst.saturated
    assert len(json.dumps(worst.to_dict())) < 1_000_000
    ten_million = RowSketch().update([rng.normal(size=10_000_000)])
    assert ten_million.rows == 10_000_000 and ten_million.saturated
    assert ten_million.sampling_rate == pytest.approx(DEFAULT_ROW_SKETCH_K / 1e7, rel=0.02)
    assert len(json.dumps(ten_million.to_dict())) < len(json.dumps(worst.to_dict())) < 1_000_000


def test_damaged_sketches_are_refused() -> None:
    document = RowSketch(4).update([np.arange(10.0)]).to_dict()
    with pytest.raises(ValueError, match="unknown row sketch scheme"):
        RowSketch.from_dict({**document, "hash": "md5"})
    with pytest.raises(ValueError, match="does not fit"):
        RowSketch.from_dict({**document, "rows": 2})
    with pytest.raises(ValueError):
        RowSketch.from_dict({**document, "hashes": {**document["hashes"], "count": 3}})
    with pytest.raises(ValueError, match="cannot merge"):
        RowSketch(4).merge(RowSketch(5))


def fit_quietly(data: object, spec: dict[str, str] | None = None) -> nl.Lock:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return nl.fit(data, spec)


def test_fit_records_the_rows_in_the_file_but_not_the_fingerprint(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    table = {"name": np.array(["x"] * 900), "a": rng.normal(size=900), "b": rng.integers(0, 9, 900)}
    spec = {"name": "passthrough"}
    lock = fit_quietly(table, spec)
    assert lock.row_sketch == RowSketch().update([table["a"], table["b"].astype(float)])
    chunks = [{k: v[i : i + 100] for k, v in table.items()} for i in range(0, 900, 100)]
    assert fit_quietly(chunks[::-1], spec).row_sketch == lock.row_sketch
    assert replace(lock, row_sketch=None).fingerprint == lock.fingerprint
    loaded = nl.load(lock.save(tmp_path / "m.normlock.json"))
    assert loaded.row_sketch == lock.row_sketch and loaded.fingerprint == lock.fingerprint
    assert fit_quietly({"name": np.array(["only"])}, spec).row_sketch is None


def test_a_changed_sketch_breaks_the_seal_and_a_resealed_bad_one_is_refused(tmp_path: Path) -> None:
    lock = fit_quietly({"a": np.arange(50.0)})
    path = lock.save(tmp_path / "m.normlock.json")
    document = json.loads(path.read_text())
    document["row_sketch"]["rows"] = 49
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    with pytest.raises(nl.LockIntegrityError, match="modified after it was written"):
        nl.load(path)
    body = artifact.parse_value(path.read_text())
    body.pop("seal")
    body["row_sketch"]["rows"] = 1
    path.write_text(artifact.render(artifact.seal(body)))
    with pytest.raises(nl.LockIntegrityError, match="row sketch is damaged"):
        nl.load(path)


def test_locks_without_a_sketch_still_load() -> None:
    old = nl.load(GOLDEN / "v1" / "all_methods.normlock.json")
    assert old.row_sketch is None
    assert "row_sketch" not in old.to_document()


def test_golden_sketch_pins_the_row_hash() -> None:
    lock = nl.load(GOLDEN / "v1" / "row_sketch.normlock.json")
    expected = json.loads((GOLDEN / "v1" / "row_sketch.expected.json").read_text())
    columns = [np.array(expected["input"][name]) for name in lock.feature_names]
    assert lock.row_sketch == RowSketch().update(columns)
