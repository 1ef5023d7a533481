"""The :class:`Registry`: versioned, aliased, verified locks and served profiles in a database."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from normlock.errors import InputError
from normlock.registry import aliases as alias_ops
from normlock.registry import profiles as profile_ops
from normlock.registry import summaries
from normlock.registry import versions as version_ops
from normlock.registry.errors import ConflictError
from normlock.registry.names import check_alias, check_name, check_source, parse_ref
from normlock.registry.records import (
    AliasEvent,
    Alignment,
    ProfileRecord,
    PulledLock,
    PushResult,
    Version,
)
from normlock.registry.schema import aliases, names, versions
from normlock.registry.store import Store

if TYPE_CHECKING:
    from collections.abc import Callable

    from normlock.diff import LockDiff
    from normlock.lock import Lock
    from normlock.profile import Profile
    from normlock.registry.catalog import Catalog
    from normlock.registry.records import WindowStats


def _read_text(path: str | os.PathLike[str]) -> str:
    from normlock.errors import LockIntegrityError

    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"lock file {str(path)!r} does not exist") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LockIntegrityError(f"{path} is not UTF-8 text: the file is damaged") from None


class Registry:
    """Locks and served-data profiles in SQLite or PostgreSQL.

    Args:
        url: a file path or ``sqlite:///PATH`` (embedded), or
            ``postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE``; by default
            ``$NORMLOCK_REGISTRY``, else ``~/.local/share/normlock/registry.sqlite3``.

    References (``ref``) are ``NAME@VERSION``, ``NAME@ALIAS``, ``NAME@HASHPREFIX`` or
    ``NAME`` (the latest version); see :mod:`normlock.registry.names`.

    Example:
        >>> import numpy as np, normlock as nl, tempfile, os
        >>> from normlock.registry import Registry
        >>> registry = Registry(os.path.join(tempfile.mkdtemp(), "registry.sqlite3"))
        >>> lock = nl.fit({"x": np.array([1.0, 2.0, 3.0])})
        >>> registry.push(lock, "demo").version.ref
        'demo@1'
        >>> registry.push(lock, "demo").created   # the same lock again: same version
        False
        >>> registry.promote("demo@1", "production").version
        1
        >>> registry.pull("demo@production").lock.fingerprint == lock.fingerprint
        True
    """

    def __init__(self, url: str | None = None) -> None:
        self._store = Store(url)

    def __repr__(self) -> str:
        return f"Registry({self._store.display_url!r})"

    @property
    def before_commit(self) -> Callable[[str], None] | None:
        """Fault-injection hook for tests: called with the operation's name inside every
        write transaction just before it commits (e.g. to pause a writer and kill it)."""
        return self._store.before_commit

    @before_commit.setter
    def before_commit(self, hook: Callable[[str], None] | None) -> None:
        self._store.before_commit = hook

    @property
    def url(self) -> str:
        """The registry URL with its password masked."""
        return self._store.display_url

    def catalog(self) -> Catalog:
        """Read-only browsing views: names, windows, feature histories (indexed summaries)."""
        from normlock.registry.catalog import Catalog

        return Catalog(self._store)

    def close(self) -> None:
        """Release the database connections."""
        self._store.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- locks and versions ---------------------------------------------------------

    def push(
        self,
        lock: Lock | str | os.PathLike[str],
        name: str,
        *,
        model: str | None = None,
        model_version: str | None = None,
    ) -> PushResult:
        """Store a lock (a :class:`~normlock.lock.Lock` or a file path) as ``name``'s next version.

        Pushing a lock that ``name`` already holds returns that version (``created`` False).
        The model defaults to the one recorded in the lock.
        """
        from normlock.lock import Lock

        if isinstance(lock, Lock):
            return self.push_text(lock.to_json(), name, model=model, model_version=model_version)
        return self.push_text(
            _read_text(lock), name, model=model, model_version=model_version, source=str(lock)
        )

    def push_text(
        self,
        text: str,
        name: str,
        *,
        model: str | None = None,
        model_version: str | None = None,
        source: str = "lock",
    ) -> PushResult:
        """Like :meth:`push`, given the lock file's text (``source`` names it in errors)."""
        from normlock.lock import Lock

        check_name(name)
        lock = Lock.from_json(text, source=source)
        model_pair = version_ops.model_of(lock.model, model, model_version)
        with self._store.writing("push", name, create=True) as connection:
            return version_ops.add(
                connection,
                name,
                text.encode("utf-8"),
                lock.fingerprint,
                model_pair,
                model_given=model is not None,
            )

    def show(self, ref: str) -> Version:
        """The record of the version ``ref`` names."""
        parsed = parse_ref(ref)
        with self._store.reading() as connection:
            number = version_ops.resolve(connection, parsed)
            return version_ops.describe_one(connection, parsed.name, number)

    def pull(self, ref: str) -> PulledLock:
        """The lock ``ref`` names, verified against its hash and seal.

        Raises:
            RegistryIntegrityError: the stored lock was altered in the database.
        """
        parsed = parse_ref(ref)
        with self._store.reading() as connection:
            number = version_ops.resolve(connection, parsed)
            found = version_ops.describe_one(connection, parsed.name, number)
            return version_ops.read_verified(connection, found)

    def pull_to(self, ref: str, path: str | os.PathLike[str]) -> PulledLock:
        """Pull ``ref`` and write it, byte for byte, to ``path`` (atomically)."""
        from normlock.artifact import write_atomic

        pulled = self.pull(ref)
        write_atomic(path, pulled.text)
        return pulled

    def names(self) -> list[str]:
        """Every lock name held, sorted."""
        with self._store.reading() as connection:
            return list(connection.execute(select(names.c.name).order_by(names.c.name)).scalars())

    def versions(self, name: str) -> list[Version]:
        """Every version of ``name``, oldest first."""
        check_name(name)
        with self._store.reading() as connection:
            version_ops.require_name(connection, name)
            return version_ops.describe(connection, name)

    def delete(self, ref: str, *, confirm: bool = False) -> Version:
        """Delete the version ``ref`` names (``confirm=True`` required).

        The lock's bytes stay in the content-addressed store; the version number is never
        reused. A version an alias points to cannot be deleted.

        Raises:
            ConflictError: an alias points to the version.
        """
        if not confirm:
            raise InputError(f"deleting {ref} needs an explicit confirmation (--yes)")
        parsed = parse_ref(ref)
        with self._store.writing("delete", parsed.name) as connection:
            number = version_ops.resolve(connection, parsed)
            found = version_ops.describe_one(connection, parsed.name, number)
            if found.aliases:
                raise ConflictError(
                    f"{found.ref} is what {', '.join(found.aliases)} point(s) to; promote "
                    "another version to that alias before deleting this one"
                )
            connection.execute(
                versions.delete().where(versions.c.name == found.name, versions.c.version == number)
            )
            return found

    def diff(self, ref_a: str, ref_b: str) -> LockDiff:
        """What changed from ``ref_a`` to ``ref_b`` (see :func:`normlock.diff.diff_locks`)."""
        from normlock.diff import diff_locks

        return diff_locks(self.pull(ref_a).lock, self.pull(ref_b).lock)

    # ---- aliases --------------------------------------------------------------------

    def promote(self, ref: str, alias: str) -> AliasEvent | None:
        """Point ``alias`` at the version ``ref`` names; None if it already points there."""
        check_alias(alias)
        parsed = parse_ref(ref)
        with self._store.writing("promote", parsed.name) as connection:
            number = version_ops.resolve(connection, parsed)
            return alias_ops.move(connection, parsed.name, alias, number, "promote")

    def rollback(self, name: str, alias: str) -> AliasEvent:
        """Return ``alias`` to the version it held before its latest promotion."""
        check_name(name)
        check_alias(alias)
        with self._store.writing("rollback", name) as connection:
            return alias_ops.rollback(connection, name, alias)

    def aliases(self, name: str) -> dict[str, int]:
        """Every alias of ``name`` and the version it points to."""
        check_name(name)
        with self._store.reading() as connection:
            rows = connection.execute(
                select(aliases.c.alias, aliases.c.version)
                .where(aliases.c.name == name)
                .order_by(aliases.c.alias)
            )
            return {alias: int(number) for alias, number in rows}

    def history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every move of ``name``'s aliases (or one alias), oldest first per alias."""
        check_name(name)
        if alias is not None:
            check_alias(alias)
        with self._store.reading() as connection:
            return alias_ops.history(connection, name, alias)

    def check(self, path: str | os.PathLike[str], name: str, alias: str) -> Alignment:
        """Whether the lock file at ``path`` is the lock ``name@alias`` points to."""
        from normlock.diff import diff_locks
        from normlock.lock import Lock

        check_alias(alias)
        text = _read_text(path)
        deployed = Lock.from_json(text, source=str(path))
        digest = version_ops.content_hash(text.encode("utf-8"))
        expected = self.pull(f"{check_name(name)}@{alias}")
        if expected.version.hash == digest:
            return Alignment(True, digest, alias, expected.version, expected.version, None)
        with self._store.reading() as connection:
            held = version_ops.holding(connection, name, digest)
            file_version = (
                None if held is None else version_ops.describe_one(connection, name, held)
            )
        change = diff_locks(deployed, expected.lock)
        return Alignment(False, digest, alias, expected.version, file_version, change)

    # ---- served-data profiles -------------------------------------------------------

    def record_profile(
        self,
        ref: str,
        profile: Profile,
        *,
        start: datetime,
        end: datetime,
        source: str = "default",
    ) -> bool:
        """Store a served-data profile of the lock ``ref`` names for ``[start, end)``.

        Returns False when the identical profile was already stored for this window. The
        window's summary (its sources merged: findings, statistics and drift metrics per
        feature) is updated in the same transaction; see :mod:`normlock.registry.summaries`.
        """
        check_source(source)
        span = profile_ops.window(start, end)
        parsed = parse_ref(ref)
        with self._store.writing("record_profile", parsed.name) as connection:
            found = version_ops.describe_one(
                connection, parsed.name, version_ops.resolve(connection, parsed)
            )
            stored = profile_ops.record(
                connection, found.name, found.hash, found.fingerprint, profile, span, source
            )
            if stored:
                lock = version_ops.read_verified(connection, found).lock
                window = (found.name, found.hash, profile.stage, *span)
                summaries.refresh(connection, window, lock)
            return stored

    def profiles(
        self,
        ref: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        sources: list[str] | None = None,
        stage: str = "raw",
    ) -> list[ProfileRecord]:
        """Profiles of ``NAME`` (every lock) or ``NAME@REF`` (one lock) inside ``[start, end)``."""
        for source in sources or []:
            check_source(source)
        return self._records(ref, start=start, end=end, sources=sources, stage=stage)

    def merged_profile(
        self,
        ref: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        sources: list[str] | None = None,
        stage: str = "raw",
    ) -> Profile | None:
        """All profiles of the lock ``ref`` names inside ``[start, end)``, merged."""
        if "@" not in ref:
            ref = f"{ref}@latest"
        records = self.profiles(ref, start=start, end=end, sources=sources, stage=stage)
        return profile_ops.merged(records)

    def feature_history(
        self,
        ref: str,
        feature: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        stage: str = "raw",
    ) -> list[WindowStats]:
        """Per-window statistics of ``feature`` for ``NAME`` (every lock) or ``NAME@REF``."""
        records = self._records(ref, start=start, end=end, sources=None, stage=stage)
        with self._store.reading() as connection:
            return profile_ops.feature_history(connection, records, feature)

    def _records(self, ref: str, **options: Any) -> list[ProfileRecord]:
        """Profiles of every lock of ``NAME``, or of the one lock ``NAME@REF`` names."""
        parsed = parse_ref(ref)
        with self._store.reading() as connection:
            lock_hash = None
            if "@" in ref:
                number = version_ops.resolve(connection, parsed)
                lock_hash = version_ops.describe_one(connection, parsed.name, number).hash
            else:
                version_ops.require_name(connection, parsed.name)
            return profile_ops.query(connection, parsed.name, lock_hash=lock_hash, **options)
