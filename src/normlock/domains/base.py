"""What every domain lock shares: its section in the lock file, its fingerprint, its
description for ``show`` and ``diff``.

A domain lock is a :class:`~normlock.lock.Lock` subclass. Its ``features`` are the
parts a table lock would have (an image's channels, a spectrogram's bins, a panel's
value columns with their global statistics), so exports, probes, references and
monitoring work on them as on any lock; the domain's layout, policies and any other
fitted data (the per-series table) live in the document's section named after the
domain, which the fingerprint and the seal cover like the rest.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from normlock import __version__, artifact
from normlock.errors import LockIntegrityError
from normlock.lock import Lock


@dataclass(frozen=True)
class DomainLock(Lock):
    """A lock of one domain (see :mod:`normlock.domains`).

    Subclasses set :attr:`KIND`, add their fields (each with a default) and implement
    :meth:`section` and :meth:`fields_of_section`.
    """

    KIND: ClassVar[str] = ""
    format_version: int = artifact.FORMAT_VERSION

    def section(self) -> dict[str, Any]:
        """The domain's JSON-ready section of the lock file (part of the fingerprint)."""
        raise NotImplementedError

    @classmethod
    def fields_of_section(cls, section: Mapping[str, Any]) -> dict[str, Any]:
        """The subclass's constructor arguments from its section (inverse of
        :meth:`section`); raises KeyError, TypeError or ValueError when it is damaged."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What ``normlock show`` lists about the domain, as ``{setting: value}`` (the
        section's scalar settings by default)."""
        return {
            key: value
            for key, value in sorted(self._section.items())
            if isinstance(value, str | int | float | bool) or value is None
        }

    def fitted_on(self) -> str:
        """What the lock was fitted on, in a few words (``2,000 rows``)."""
        return f"{self.provenance.get('rows', 0):,} rows"

    def served_batches(self, paths: list[str]) -> Iterator[Any]:
        """The batches of served files, as :meth:`transform` and the monitor read them
        (record batches of Parquet, CSV or Arrow files by default)."""
        from normlock.io.files import batch_source, expand

        yield from batch_source(expand(paths))()

    def domain_changes(self, other: Lock) -> list[tuple[str, Any, Any]]:
        """``(setting, ours, theirs)`` for each domain setting that differs from
        ``other``'s (every one of them changes outputs); the kind first when ``other`` is
        of another domain or none."""
        if not isinstance(other, DomainLock) or other.KIND != self.KIND:
            return [("kind", self.KIND, getattr(other, "KIND", None))]
        ours, theirs = self.describe(), other.describe()
        keys = sorted(set(ours) | set(theirs))
        return [(k, ours.get(k), theirs.get(k)) for k in keys if ours.get(k) != theirs.get(k)]

    @functools.cached_property
    def _section(self) -> dict[str, Any]:
        return self.section()

    def _defining(self) -> dict[str, Any]:
        return {**super()._defining(), "domain": self.KIND, self.KIND: self._section}

    @classmethod
    def _fields_of(cls, document: dict[str, Any], source: str) -> dict[str, Any]:
        fields = super()._fields_of(document, source)
        try:
            fields.update(cls.fields_of_section(document[cls.KIND]))
        except KeyError as exc:
            raise LockIntegrityError(f"{source}: its {cls.KIND} section lacks {exc}") from None
        except (TypeError, ValueError) as exc:
            raise LockIntegrityError(
                f"{source}: its {cls.KIND} section is damaged ({exc})"
            ) from None
        return fields


def stamp() -> dict[str, str]:
    """A new lock's ``created_at`` (now, UTC) and ``library_version``."""
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"created_at": now, "library_version": __version__}


def source_name(data: Any) -> str:
    """A name for a fit's data in its provenance: a path as written, else its type."""
    if isinstance(data, str | Path):
        return str(data)
    kind = type(data)
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"
