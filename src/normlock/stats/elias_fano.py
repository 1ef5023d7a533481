"""Elias-Fano coding of a sorted set of unsigned integers, vectorised with numpy.

With ``L = floor(log2(U / N))`` for ``N`` distinct values below ``U``, each value keeps
its ``L`` low bits verbatim and its high part ``v >> L`` is written in unary, as a one at
bit position ``(v >> L) + i`` of a bit vector. The total is ``N * (L + 1) + U / 2**L``
bits, which is at most ``N * (log2(U / N) + 2)`` plus a byte of padding per part: within
two bits per value of the information-theoretic minimum for such a set.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EliasFano:
    """The encoded form of ``count`` strictly increasing non-negative integers.

    Attributes:
        count: number of values.
        low_bits: bits kept verbatim per value (``L``).
        low: the low parts, ``low_bits`` per value, packed big-endian bit order.
        high: the unary-coded high parts.
    """

    count: int
    low_bits: int
    low: bytes
    high: bytes

    @property
    def size_bytes(self) -> int:
        """Bytes of the encoded values."""
        return len(self.low) + len(self.high)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (base64 text)."""
        return {
            "count": self.count,
            "low_bits": self.low_bits,
            "low_b64": base64.b64encode(self.low).decode("ascii"),
            "high_b64": base64.b64encode(self.high).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> EliasFano:
        """Inverse of :meth:`to_dict`; malformed content is a ``ValueError``."""
        count, low_bits = data["count"], data["low_bits"]
        if not isinstance(count, int) or not isinstance(low_bits, int):
            raise ValueError("count and low_bits must be integers")
        if count < 0 or not 0 <= low_bits <= 64:
            raise ValueError(f"bad count {count} or low_bits {low_bits}")
        low = base64.b64decode(str(data["low_b64"]).encode("ascii"), validate=True)
        high = base64.b64decode(str(data["high_b64"]).encode("ascii"), validate=True)
        return cls(count, low_bits, low, high)


def encode(values: np.ndarray) -> EliasFano:
    """Encode a strictly increasing 1-D ``uint64`` array."""
    values = np.asarray(values, dtype=np.uint64)
    count = int(values.size)
    if count == 0:
        return EliasFano(0, 0, b"", b"")
    if count > 1 and not bool(np.all(values[1:] > values[:-1])):
        raise ValueError("Elias-Fano coding needs strictly increasing values")
    universe = int(values[-1]) + 1
    low_bits = max(0, (universe // count).bit_length() - 1)
    # each value's 64 bits, most significant first: its last low_bits are the low part
    every_bit = np.unpackbits(values.astype(">u8").view(np.uint8).reshape(count, 8), axis=1)
    low = every_bit[:, 64 - low_bits :]
    high_parts = (values >> np.uint64(low_bits)).astype(np.int64)
    bits = np.zeros(int(high_parts[-1]) + count, dtype=np.uint8)
    bits[high_parts + np.arange(count)] = 1
    return EliasFano(count, low_bits, np.packbits(low).tobytes(), np.packbits(bits).tobytes())


def decode(coded: EliasFano) -> np.ndarray:
    """The ``uint64`` values of ``coded``; inconsistent content is a ``ValueError``."""
    count, low_bits = coded.count, coded.low_bits
    if count == 0:
        return np.empty(0, dtype=np.uint64)
    if len(coded.low) != (count * low_bits + 7) // 8:
        raise ValueError("the low parts do not match the count")
    ones = np.flatnonzero(np.unpackbits(np.frombuffer(coded.high, dtype=np.uint8)))
    if ones.size != count:
        raise ValueError(f"the high parts hold {ones.size} values, not {count}")
    high_parts = (ones - np.arange(count)).astype(np.uint64)
    values = high_parts << np.uint64(low_bits)
    if low_bits:
        bits = np.unpackbits(np.frombuffer(coded.low, dtype=np.uint8), count=count * low_bits)
        every_bit = np.zeros((count, 64), dtype=np.uint8)  # each low part as 64 bits
        every_bit[:, 64 - low_bits :] = bits.reshape(count, low_bits)
        values |= np.packbits(every_bit, axis=1).view(">u8").ravel().astype(np.uint64)
    if count > 1 and not bool(np.all(values[1:] > values[:-1])):
        raise ValueError("decoded values are not strictly increasing")
    return values
