"""Error and warning types.

Every error normlock raises derives from :class:`NormlockError` and says what was
expected, what arrived and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import NamedTuple


class Origin(NamedTuple):
    """Where a chunk of rows came from, so that errors can name the file and the row.

    Attributes:
        source: the file, or None for data in memory.
        first_row: the chunk's first row among the source's data rows, counted from 0.
        line: for a text file (CSV), the line an editor shows a data row (counted from 0)
            starting on; None where rows are not lines (Parquet, Arrow, memory).
    """

    source: str | None = None
    first_row: int = 0
    line: Callable[[int], int] | None = None

    def at(self, row: int) -> str:
        """Where the chunk's ``row``-th row (counted from 0) is, as people count:
        ``file 'x.csv', line 18`` in a text file (its header is line 1),
        ``file 'x.parquet', row 17`` in another file and ``row 17`` in memory (the first
        row is row 1)."""
        index = self.first_row + row
        where = f"line {self.line(index)}" if self.line else f"row {index + 1}"
        return f"file {self.source!r}, {where}" if self.source else where


NO_ORIGIN = Origin()
"""Data in memory, its rows counted from the first."""


class NormlockError(Exception):
    """Base class of every error raised by normlock."""


class SpecError(NormlockError, ValueError):
    """The normalization spec is invalid (unknown method, bad option, absent column)."""


class InputError(NormlockError, ValueError):
    """The data handed to fit or transform cannot be used as it is."""


class ColumnNotFoundError(InputError, KeyError):
    """One or more expected columns are absent from the data."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])

    @classmethod
    def from_missing(
        cls, missing: Iterable[str], available: Iterable[str], *, where: str = "the data"
    ) -> ColumnNotFoundError:
        """Build an error naming the missing columns, with close-match hints."""
        available = list(available)
        parts = []
        for name in missing:
            hint = difflib.get_close_matches(name, available, n=1)
            parts.append(f"{name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        shown = ", ".join(repr(a) for a in available[:20])
        more = f" and {len(available) - 20} more" if len(available) > 20 else ""
        return cls(
            f"column(s) {', '.join(parts)} not found in {where}; "
            f"available columns: {shown}{more}. "
            "Rename the columns or refit the lock on data with these names."
        )


class DomainError(InputError):
    """A value lies outside the domain of a method (e.g. log of a negative number)."""


class NotFittedError(NormlockError):
    """A method's statistics could not be computed from the data seen."""


class NotInvertibleError(NormlockError):
    """``inverse_transform`` was asked of a chain that contains a non-invertible step."""


class NotExportableError(NormlockError, NotImplementedError):
    """A lock holds a step that the requested runtime (torch, ONNX, ...) cannot express."""


class LockIntegrityError(NormlockError):
    """A lock file was modified after it was written, or is not a lock at all."""


class LockFormatError(NormlockError):
    """A lock file uses a format version this library does not know."""


class NormlockWarning(UserWarning):
    """A fitted statistic needed a documented fallback (e.g. a constant column)."""
