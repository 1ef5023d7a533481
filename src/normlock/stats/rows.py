"""A compact, mergeable fingerprint of the rows a lock was fitted on (for leakage checks).

Each row's feature values, in the lock's feature order, are hashed to 48 bits
(:func:`row_hashes`); the sketch keeps the ``k`` smallest distinct hashes (a bottom-k,
or KMV, sample). Because it depends only on the *set* of row hashes, it is
deterministic and the same for any chunking, order or merge tree of the same rows.

What it supports: every row whose hash is at most the sketch's largest kept hash
(``threshold``) is in the sketch if and only if it was fitted on, so the rows of new
data below the threshold are an exact-membership random sample of that data (sampling
rate ``threshold / 2**48``, about ``k / n`` for ``n`` distinct fitted rows; every row
while ``n <= k``).

Size bound: at most ``k = 160,000`` hashes, Elias-Fano coded in at most
``log2(2**48 / k) + 2 < 33`` bits each: below 660 KB (880 KB as base64 text) for any
number of rows; about 530 KB for 10 million rows.

Row hash (``normlock-row-v1``): every value becomes its float64 bits, with ``-0.0``
written as ``+0.0`` and every NaN as ``0x7ff8000000000000``; then ``h = mix(width)``,
per column ``j``: ``h = (h ^ (bits_j + (j + 1) * G)) * M`` then ``h ^= h >> 32``, and
the row hash is ``mix(h) >> 16``, with the splitmix64 finalizer ``mix``,
``G = 0x9E3779B97F4A7C15`` and ``M = 0xD6E8FEB86659FD93`` (arithmetic mod ``2**64``).
Each step is a bijection of ``h``, so rows that differ in one value always differ before
the final mix, and the shift carries differences in high bits (small integers differ
only there) down before the next multiplication; one multiplication per value keeps it
cheap (the compiled kernel computes it; numpy is the reference). It is
not cryptographic: it identifies rows, it does not hide them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from normlock.stats.elias_fano import EliasFano, decode, encode
from normlock.stats.kernel import HASH_BITS, row_hashes

__all__ = ["DEFAULT_ROW_SKETCH_K", "HASH_BITS", "HASH_NAME", "RowSketch", "row_hashes"]

HASH_NAME = "normlock-row-v1"
DEFAULT_ROW_SKETCH_K = 160_000
"""Hashes kept. 1,000 new rows that overlap half of a 10-million-row fit have on average
``1000 * 0.5 * k / 1e7 = 8`` overlapping rows in the sample (none: probability e**-8)."""


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    ordered = np.sort(values)  # np.sort rather than np.unique, which is far slower here
    return ordered[np.concatenate((ordered[:1] == ordered[:1], ordered[1:] != ordered[:-1]))]


def _likely_cut(rows: int, k: int) -> int:
    """A bound below which ``k`` of the hashes of ``rows`` distinct rows fall, but with
    odds of about 1e-15: hashes are uniform, so the (k + 8 sqrt(k)) / rows quantile of
    their range (no bound, ``2**HASH_BITS``, while most rows may be among the k)."""
    if rows <= 2 * k:
        return 2**HASH_BITS
    return min(2**HASH_BITS, int(2**HASH_BITS * (k + 8 * math.sqrt(k)) / rows))


def _bottom(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest distinct ``values``, sorted and read-only."""
    distinct = None
    cut = _likely_cut(len(values), k)
    if cut < 2**HASH_BITS:  # most values cannot be among the k smallest: try without them
        candidates = _sorted_distinct(values[values < np.uint64(cut)])
        distinct = candidates if len(candidates) >= k else None  # else duplicates or skew
    if distinct is None:
        distinct = _sorted_distinct(values)
    kept = distinct[:k]
    kept.flags.writeable = False
    return kept


@dataclass(frozen=True, eq=False)
class RowSketch:
    """Bottom-k sample of row hashes. Immutable: updates return new sketches.

    Attributes:
        k: most hashes kept.
        rows: rows seen (duplicates included).
        hashes: the kept hashes, sorted, distinct, read-only ``uint64``.
    """

    k: int = DEFAULT_ROW_SKETCH_K
    rows: int = 0
    hashes: np.ndarray = field(default_factory=lambda: _bottom(np.empty(0, np.uint64), 0))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RowSketch):
            return NotImplemented
        return (self.k, self.rows) == (other.k, other.rows) and np.array_equal(
            self.hashes, other.hashes
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def saturated(self) -> bool:
        """True when ``k`` hashes are kept, so only a sample of the rows is."""
        return len(self.hashes) >= self.k

    @property
    def threshold(self) -> int:
        """Rows hashing at most this are all in the sketch if they were fitted."""
        return int(self.hashes[-1]) if self.saturated else 2**HASH_BITS - 1

    @property
    def sampling_rate(self) -> float:
        """Fraction of all possible rows the sketch decides membership for."""
        return (self.threshold + 1) / 2**HASH_BITS

    def update(self, columns: Sequence[np.ndarray]) -> RowSketch:
        """A sketch that also covers the rows of ``columns`` (float64-convertible)."""
        if not columns or len(columns[0]) == 0:
            return self
        return self.update_hashes(row_hashes(columns))

    def update_hashes(self, hashes: np.ndarray) -> RowSketch:
        """A sketch that also covers rows whose :func:`row_hashes` are ``hashes``."""
        if len(hashes) == 0:
            return self
        return RowSketch(self.k, self.rows + len(hashes), self._kept_with(hashes))

    def cut(self, rows: int) -> int:
        """A bound for the hashes of ``rows`` new rows: those at or above it cannot enter
        the sketch, but with odds of about 1e-15 (which :meth:`update_below` detects)."""
        cut = _likely_cut(rows, self.k)
        return min(cut, int(self.hashes[-1])) if self.saturated else cut

    def update_below(self, distinct: np.ndarray, rows: int, cut: int) -> RowSketch | None:
        """A sketch that also covers ``rows`` rows whose distinct hashes below ``cut``
        (from :meth:`cut`) are ``distinct``, sorted; None in the rare case that these do
        not settle it (many duplicate rows), when :meth:`update_hashes` needs all of the
        rows' hashes."""
        settled = cut >= 2**HASH_BITS or (self.saturated and cut >= self.hashes[-1])
        if not settled and len(distinct) < self.k:
            return None
        if rows == 0:
            return self
        if len(self.hashes) == 0:  # the first rows: nothing to merge with
            kept = distinct[: self.k].copy()
            kept.flags.writeable = False
            return RowSketch(self.k, self.rows + rows, kept)
        return RowSketch(self.k, self.rows + rows, self._kept_with(distinct))

    def merge(self, other: RowSketch) -> RowSketch:
        """A sketch of the rows of both; neither argument changes."""
        if other.k != self.k:
            raise ValueError(f"cannot merge row sketches of k={self.k} and k={other.k}")
        return RowSketch(self.k, self.rows + other.rows, self._kept_with(other.hashes))

    def _kept_with(self, hashes: np.ndarray) -> np.ndarray:
        if not self.saturated:
            both = np.concatenate([self.hashes, hashes]) if len(self.hashes) else hashes
            return _bottom(both, self.k)
        # few new hashes fall below a full sketch's largest: insert them, no re-sort
        incoming = _sorted_distinct(hashes[hashes < self.hashes[-1]])
        where = np.searchsorted(self.hashes, incoming)  # all below the last: in range
        new = self.hashes[where] != incoming
        kept = np.insert(self.hashes, where[new], incoming[new])[: self.k]
        kept.flags.writeable = False
        return kept

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """Mask of ``hashes`` that are kept in the sketch."""
        if len(self.hashes) == 0:
            return np.zeros(len(hashes), dtype=bool)
        where = np.searchsorted(self.hashes, hashes).clip(max=len(self.hashes) - 1)
        return self.hashes[where] == hashes

    @property
    def size_bytes(self) -> int:
        """Bytes of the encoded hashes (before base64)."""
        return encode(self.hashes).size_bytes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "scheme": "bottom-k",
            "hash": HASH_NAME,
            "hash_bits": HASH_BITS,
            "k": self.k,
            "rows": self.rows,
            "hashes": encode(self.hashes).to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowSketch:
        """Inverse of :meth:`to_dict`; unknown schemes and bad content are ``ValueError``."""
        scheme = (data.get("scheme"), data.get("hash"), data.get("hash_bits"))
        if scheme != ("bottom-k", HASH_NAME, HASH_BITS):
            raise ValueError(f"unknown row sketch scheme {scheme}")
        k, rows = data["k"], data["rows"]
        if not isinstance(k, int) or not isinstance(rows, int) or k < 1 or rows < 0:
            raise ValueError(f"bad row sketch size k={k!r} rows={rows!r}")
        hashes = decode(EliasFano.from_dict(data["hashes"]))
        if len(hashes) > min(k, rows) or (len(hashes) and hashes[-1] >= 2**HASH_BITS):
            raise ValueError("row sketch content does not fit its k, rows and hash width")
        hashes.flags.writeable = False
        return cls(k, rows, hashes)
