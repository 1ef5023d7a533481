"""Mergeable quantile state: every value while they fit a limit, a uniform sample after.

Exact mode keeps every finite value; its quantiles are numpy's ``linear`` quantiles (the
definition scikit-learn's RobustScaler and QuantileTransformer use) of the values in
total order, so they do not depend on chunking or merge order.

Sample mode keeps a *threshold sample*: each value carries a uniform random key in
[0, 1), and the store keeps the values whose key is below ``tau``, with ``tau`` lowered
to keep ``sample_size`` values whenever more than twice that many are held. Two stores
merge by taking the smaller ``tau``, so a merge is again a uniform sample of all values.
Quantiles of a uniform sample of size ``s`` are within
``rank_error = sqrt(ln(2 / 0.01) / (2 s))`` of the asked rank for every probability at
once, with 99% confidence (the Dvoretzky–Kiefer–Wolfowitz inequality; 0.64% for the
default 65,536 values). Keys are never drawn one per value:
the number of values under ``tau`` in a chunk is drawn from its binomial law and only
those are picked, so a chunk costs O(sample) work, not O(chunk). Random draws are seeded
from the counts seen and the content sampled, so the same chunks in the same order give
the same sample, while chunks of other data draw independent keys; another split of the
rows gives another (equally valid) sample, and the lock records the mode and the bound.
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

try:
    from normlock.stats import _moments as _kernel
except ImportError:  # pragma: no cover - only without a C compiler at install time
    _kernel = None

DEFAULT_EXACT_LIMIT = 1_000_000
"""Values per feature kept exactly before switching to the sample."""

DEFAULT_SAMPLE_SIZE = 65_536
CONFIDENCE = 0.99
MAX_PIECES = 64
"""Pieces a sample-mode store holds before it joins them into one."""


def _encode_floats(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def _decode_floats(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text.encode("ascii"), validate=True), dtype="<f8").copy()


def total_order(values: np.ndarray) -> np.ndarray:
    """``values`` sorted, with -0.0 before +0.0 (numpy's sort may swap equal zeros)."""
    negative_zeros = int(np.count_nonzero((values == 0.0) & np.signbit(values)))
    ordered = np.sort(values)
    zeros = ordered == 0.0  # one contiguous run
    if zeros.any():
        ordered[zeros] = np.where(np.arange(int(zeros.sum())) < negative_zeros, -0.0, 0.0)
    return ordered


def _join(pieces: tuple[tuple[np.ndarray, np.ndarray], ...]) -> tuple[np.ndarray, np.ndarray]:
    """The keys and the values of ``pieces``, each concatenated in order."""
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return np.empty(0), np.empty(0)
    return np.concatenate([k for k, _ in pieces]), np.concatenate([v for _, v in pieces])


def _below(pieces: tuple, tau: float, was: float) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """``pieces`` with the keys not below ``tau`` dropped (none when ``tau`` did not drop)."""
    if tau >= was:
        return pieces
    masks = [keys < tau for keys, _ in pieces]
    return tuple((k[m], v[m]) for (k, v), m in zip(pieces, masks, strict=True))


def linear_quantiles(ordered: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """``numpy.quantile(ordered, probabilities, method="linear")`` for sorted finite
    ``ordered``, with numpy's arithmetic step for step (so the same bits), but reading
    the sorted values instead of partitioning a copy."""
    return linear_quantiles_of(ordered.__getitem__, ordered.size, probabilities)


def linear_quantiles_of(
    order_statistic: Callable[[np.ndarray], np.ndarray], size: int, probabilities: np.ndarray
) -> np.ndarray:
    """numpy's ``linear`` quantiles (the same bits) of ``size`` values whose order
    statistics (0-based ranks, in total order) ``order_statistic`` returns."""
    last = size - 1
    virtual = last * probabilities
    previous = np.floor(virtual).astype(np.intp)
    previous[virtual >= last] = last  # numpy's convention: the last value, at gamma + 1
    previous[virtual < 0] = 0
    following = np.minimum(previous + 1, last)
    gamma = virtual - np.where(virtual >= last, -1, previous)
    low, high = order_statistic(previous), order_statistic(following)
    step = high - low
    out = low + step * gamma
    upper = gamma >= 0.5
    out[upper] = (high - step * (1 - gamma))[upper]
    return out


def selected_quantiles(parts: Sequence[np.ndarray], probabilities: np.ndarray) -> np.ndarray:
    """:func:`linear_quantiles` of the unsorted finite values of the arrays ``parts`` by
    selection (linear time, no sort, the arrays unchanged): the compiled radix selection,
    or without it numpy's partition of a copy. Order statistics are in total order (-0.0
    before +0.0)."""
    size = sum(len(p) for p in parts)
    last = size - 1
    found: dict[int, float] = {}

    def order_statistic(ranks: np.ndarray) -> np.ndarray:
        if not found:  # one selection finds every rank the quantiles read: r and r + 1
            wanted = np.unique(np.concatenate([ranks, np.minimum(ranks + 1, last)]))
            found.update(zip(wanted.tolist(), _select(parts, wanted).tolist(), strict=True))
        return np.array([found[r] for r in ranks.tolist()], dtype=np.float64)

    return linear_quantiles_of(order_statistic, size, probabilities)


def _select(parts: Sequence[np.ndarray], ranks: np.ndarray) -> np.ndarray:
    """The values of the ascending ``ranks`` among every value of ``parts``, in total
    order."""
    if _kernel is not None and all(p.dtype in (np.float32, np.float64) for p in parts):
        return np.frombuffer(_kernel.select(list(parts), ranks.astype(np.int64)), np.float64)
    values = np.concatenate(parts).astype(np.float64)
    values.partition(ranks)
    picked = values[ranks]
    zeros = picked == 0.0
    if zeros.any():  # the sign each zero has in total order
        negative = int(np.count_nonzero((values < 0.0) | ((values == 0.0) & np.signbit(values))))
        picked[zeros] = np.where(ranks[zeros] < negative, -0.0, 0.0)
    return picked


@dataclass(frozen=True)
class RowSample:
    """Rows of one chunk picked for threshold sampling: their positions and keys.

    Every row of the chunk has a (virtual) uniform key; ``positions`` are the rows whose
    key is below ``tau`` (at most ``size`` of them) and ``keys`` their keys.
    """

    positions: np.ndarray
    keys: np.ndarray
    tau: float

    @classmethod
    def draw(cls, rows: int, tau: float, size: int, rng: np.random.Generator) -> RowSample:
        """Pick the rows of a ``rows``-row chunk whose keys fall below ``tau``."""
        below = int(rng.binomial(rows, tau)) if tau < 1.0 else rows
        if below > size:  # keep the `size` smallest keys: tau drops to the next one
            tau = tau * float(rng.beta(size + 1, below - size))
            below = size
        positions = np.sort(rng.choice(rows, size=below, replace=False))
        keys = rng.uniform(0.0, tau, below)
        below_tau = keys < tau  # a key that rounded up to tau is not below it
        return cls(positions[below_tau], keys[below_tau], tau)


def sample_rng(*seeds: int) -> np.random.Generator:
    """The generator for a sampling step, seeded from the counts and content it samples,
    so that equal-sized chunks of different data draw independent keys."""
    return np.random.default_rng([0x6E6C6F636B, *(int(s) & 0xFFFFFFFFFFFFFFFF for s in seeds)])


def content_seed(values: np.ndarray) -> int:
    """A deterministic fingerprint of an array's length and of 4,096 or so of its values,
    for seeding."""
    spread = values[:: max(1, values.size // 4096)]
    return zlib.crc32(np.ascontiguousarray(spread).tobytes()) ^ values.size


def _empty_sample(store: QuantileStore) -> QuantileStore:
    """A sample-mode store of no values with ``store``'s settings."""
    return QuantileStore(store.limit, store.sample_size, 0, None)


def as_samples(stores: Sequence[QuantileStore]) -> list[QuantileStore]:
    """``stores`` in sample mode. Exact stores of the same number of values share one row
    sample (each is a uniform sample of its own values), so it is drawn once."""
    drawn: dict[tuple[int, int], RowSample] = {}
    out = []
    for store in stores:
        if store.parts is None or store.count == 0:
            out.append(store if store.parts is None else _empty_sample(store))
            continue
        values = np.concatenate(store.parts)
        group = (values.size, store.sample_size)
        if group not in drawn:
            rng = sample_rng(store.count, content_seed(values))
            drawn[group] = RowSample.draw(values.size, 1.0, store.sample_size, rng)
        sample = drawn[group]
        piece = (sample.keys, values[sample.positions])
        out.append(
            QuantileStore(store.limit, store.sample_size, store.count, None, sample.tau, (piece,))
        )
    return out


@dataclass(frozen=True, eq=False)
class QuantileStore:
    """Finite values of one feature, for quantile queries. Immutable: updates return copies.

    Attributes:
        limit: values kept exactly before the store switches to a sample.
        sample_size: values a sample keeps at most.
        count: finite values seen.
        parts: exact mode: the arrays of values (None in sample mode).
        tau: sample mode: the key threshold.
        pieces: sample mode: ``(keys, values)`` arrays, every key below ``tau``; joined
            into :attr:`keys` and :attr:`values` only when read, so a stream of merges
            costs the size of what each adds, not of what the store holds.
    """

    limit: int = DEFAULT_EXACT_LIMIT
    sample_size: int = DEFAULT_SAMPLE_SIZE
    count: int = 0
    parts: tuple[np.ndarray, ...] | None = ()
    tau: float = 1.0
    pieces: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def keys(self) -> np.ndarray:
        """Sample mode: keys of the kept values (in the order they were added)."""
        return self._joined()[0]

    @property
    def values(self) -> np.ndarray:
        """Sample mode: the kept values, aligned with :attr:`keys`."""
        return self._joined()[1]

    @property
    def held(self) -> int:
        """Values kept in sample mode."""
        return sum(len(keys) for keys, _ in self.pieces)

    def _joined(self) -> tuple[np.ndarray, np.ndarray]:
        if "keys" not in self._cache:
            keys, values = _join(self.pieces)
            self._cache["keys"], self._cache["values"] = keys, values
        return self._cache["keys"], self._cache["values"]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantileStore):
            return NotImplemented
        return self.to_dict() == other.to_dict()  # canonical: sorted values, keys by order

    __hash__ = None  # type: ignore[assignment]

    @property
    def exact(self) -> bool:
        """True while every value is kept."""
        return self.parts is not None

    @property
    def rank_error(self) -> float:
        """Rank error bound of quantile queries at 99% confidence (0 in exact mode)."""
        if self.parts is not None:
            return 0.0
        kept = max(1, self.held)
        return math.sqrt(math.log(2 / (1 - CONFIDENCE)) / (2 * kept))

    def update(self, values: np.ndarray, finite: int | None = None) -> QuantileStore:
        """A new store that also holds the finite entries of the 1-D array ``values``
        (``finite`` of them, when the caller knows how many)."""
        values = np.asarray(values)
        if finite is None:
            finite = int(np.count_nonzero(np.isfinite(values)))
        if finite == 0:
            return self
        kept = values.astype(np.float64)
        if finite < kept.size:
            kept = kept[np.isfinite(kept)]
        if self.parts is not None and self.count + finite <= self.limit:
            return self.taking(kept)
        rng = sample_rng(self.count, kept.size, content_seed(kept))
        sample = RowSample.draw(kept.size, self.tau, self.sample_size, rng)
        incoming = QuantileStore.of_sample(
            kept[sample.positions], sample, finite, self.limit, self.sample_size
        )
        return self._as_sample().merge(incoming)

    def taking(self, finite: np.ndarray) -> QuantileStore:
        """A new exact store that also holds ``finite``, finite float64 values, keeping
        the array itself (the caller gives it up: the store may reorder it)."""
        if self.parts is None or self.count + finite.size > self.limit:
            raise ValueError("taking() needs an exact store with room for the values")
        return QuantileStore(
            self.limit, self.sample_size, self.count + finite.size, (*self.parts, finite)
        )

    @classmethod
    def of_sample(
        cls, picked: np.ndarray, sample: RowSample, count: int, limit: int, sample_size: int
    ) -> QuantileStore:
        """A sample-mode store of ``count`` finite values that keeps ``picked``, the values
        at ``sample``'s positions, with the sample's keys (non-finite ones dropped)."""
        picked, keys = picked.astype(np.float64, copy=False), sample.keys
        finite = np.isfinite(picked)
        if not finite.all():
            picked, keys = picked[finite], keys[finite]
        return cls(limit, sample_size, count, None, sample.tau, ((keys, picked),))

    def _as_sample(self) -> QuantileStore:
        return as_samples([self])[0]

    def merge(self, other: QuantileStore) -> QuantileStore:
        """A new store holding the values of both (neither argument changes)."""
        count = self.count + other.count
        limit = min(self.limit, other.limit)
        if self.count == 0 or other.count == 0:  # nothing to draw or thin
            held = other if self.count == 0 else self
            return replace(held, limit=limit, _cache={}) if held.limit != limit else held
        if self.parts is not None and other.parts is not None and count <= limit:
            return QuantileStore(limit, self.sample_size, count, self.parts + other.parts)
        a = self if self.parts is None else self._as_sample()
        b = other if other.parts is None else other._as_sample()
        tau = min(a.tau, b.tau)
        pieces = _below(a.pieces, tau, a.tau) + _below(b.pieces, tau, b.tau)
        held = sum(len(keys) for keys, _ in pieces)
        if held > 2 * self.sample_size:  # lower tau to the first key left out
            # (only past twice the size, so that a long stream of merges shrinks rarely)
            keys, values = _join(pieces)
            tau = float(np.partition(keys, self.sample_size)[self.sample_size])
            keep = keys < tau  # equal keys (from identical chunks) all go
            pieces = ((keys[keep], values[keep]),)
        elif len(pieces) > MAX_PIECES:
            pieces = (_join(pieces),)
        return QuantileStore(limit, self.sample_size, count, None, tau, pieces)

    def sorted_values(self) -> np.ndarray:
        """The kept values in total order, -0.0 before +0.0. Read-only; cached."""
        if "sorted" not in self._cache:
            if self.parts is None:
                joined = total_order(self.values)
            else:
                joined = total_order(np.concatenate(self.parts)) if self.parts else np.empty(0)
            joined.flags.writeable = False
            self._cache["sorted"] = joined
        return self._cache["sorted"]

    def quantiles(self, probabilities: np.ndarray | list[float]) -> np.ndarray:
        """Quantiles at ``probabilities`` (numpy ``linear``; of the sample in sample mode)."""
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if self.count == 0:
            return np.full(probabilities.shape, np.nan)
        if self.parts is not None and "sorted" not in self._cache and probabilities.size <= 128:
            # a few exact quantiles: select them (linear time) instead of sorting
            return selected_quantiles(self.parts, probabilities)
        return linear_quantiles(self.sorted_values(), probabilities)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; exact values are stored sorted, so the form is canonical."""
        out: dict[str, Any] = {
            "limit": self.limit,
            "sample_size": self.sample_size,
            "count": self.count,
        }
        if self.parts is not None:
            out["mode"] = "exact"
            out["values_f64le_b64"] = _encode_floats(self.sorted_values())
        else:
            order = np.argsort(self.keys, kind="stable")
            out["mode"] = "sample"
            out["tau"] = self.tau
            out["keys_f64le_b64"] = _encode_floats(self.keys[order])
            out["values_f64le_b64"] = _encode_floats(self.values[order])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantileStore:
        """Inverse of :meth:`to_dict`."""
        limit, size, count = int(data["limit"]), int(data["sample_size"]), int(data["count"])
        values = _decode_floats(data["values_f64le_b64"])
        if data["mode"] == "exact":
            return cls(limit, size, count, (values,))
        if data["mode"] == "sample":
            keys = _decode_floats(data["keys_f64le_b64"])
            if keys.size != values.size:
                raise ValueError("sample keys and values differ in length")
            if np.any(keys >= float(data["tau"])):
                raise ValueError("sample keys must all be below tau")
            return cls(limit, size, count, None, float(data["tau"]), ((keys, values),))
        raise ValueError(f"unknown quantile store mode {data['mode']!r}")
