"""A small versioned migration runner for the registry schema.

The database records its schema version in the ``normlock_schema`` table (one row per
version reached). Opening a registry runs :func:`migrate`:

* an empty database gets the current schema (:mod:`normlock.registry.schema`) in one
  transaction and is stamped with :data:`~normlock.registry.schema.SCHEMA_VERSION`;
* an older database gets each pending :class:`Migration` in order, each recorded in the
  same transaction as its change (DDL is transactional in SQLite and PostgreSQL, so a
  failed step leaves the previous version intact);
* a newer database is refused: the library would misread it.

Migrations hold a write lock for their whole run (``BEGIN IMMEDIATE`` on SQLite, a
transaction-level advisory lock on PostgreSQL), so processes opening a fresh registry at
the same time create it once.

To change the schema: edit ``schema.py`` to the new shape, bump ``SCHEMA_VERSION``, and
append a ``Migration(version=N, ...)`` whose ``upgrade`` turns version N-1 into N with
explicit DDL (``ALTER TABLE ...``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, inspect, select, text

from normlock.registry.connection import WRITE_OPTION
from normlock.registry.errors import RegistryError, SchemaVersionError
from normlock.registry.schema import SCHEMA_VERSION, metadata, schema_migrations

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

_ADVISORY_KEY = 0x6E6F726D6C6F636B  # "normlock"


@dataclass(frozen=True)
class Migration:
    """One step of the schema: it upgrades version ``version - 1`` to ``version``."""

    version: int
    description: str
    upgrade: Callable[[Connection], None]


def _window_summaries(connection: Connection) -> None:
    """Version 2: per-window drift summaries, computed for the windows already stored."""
    from normlock.registry.schema import window_features, window_summaries
    from normlock.registry.summaries import backfill

    window_summaries.create(connection)
    window_features.create(connection)
    backfill(connection)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "window summaries: findings and drift metrics per window", _window_summaries),
)
"""The steps after the first schema version, in order."""


def schema_version(connection: Connection) -> int:
    """The version the database is at (0 for a database without a registry)."""
    if not inspect(connection).has_table(schema_migrations.name):
        return 0
    found = connection.execute(select(func.max(schema_migrations.c.version))).scalar()
    return int(found or 0)


def _stamp(connection: Connection, version: int, description: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    connection.execute(
        schema_migrations.insert().values(version=version, description=description, applied_at=now)
    )


def _create(connection: Connection, target: int) -> None:
    present = set(inspect(connection).get_table_names()) & set(metadata.tables)
    if present:
        raise RegistryError(
            f"the database already has table(s) {sorted(present)} that normlock did not "
            "create; give the registry its own database (or PostgreSQL schema)"
        )
    metadata.create_all(connection)
    _stamp(connection, target, "create schema")


def migrate(
    engine: Engine, *, target: int = SCHEMA_VERSION, steps: Sequence[Migration] = MIGRATIONS
) -> int:
    """Bring the database to schema ``target``; return the version it was at before.

    Raises:
        SchemaVersionError: the database is newer than ``target``.
    """
    with engine.connect() as connection:
        current = schema_version(connection)
        connection.rollback()
    if current == target:
        return current
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                lock = text("SELECT pg_advisory_xact_lock(:key)")
                connection.execute(lock, {"key": _ADVISORY_KEY})
            current = before = schema_version(connection)
            if current > target:
                raise SchemaVersionError(
                    f"the registry database is at schema version {current}; this normlock "
                    f"knows versions up to {target}. Upgrade normlock to use it."
                )
            if current == 0:
                _create(connection, target)
                return before
            for step in sorted(steps, key=lambda s: s.version):
                if current < step.version <= target:
                    if step.version != current + 1:
                        raise RegistryError(f"no migration from schema {current} to {current + 1}")
                    step.upgrade(connection)
                    _stamp(connection, step.version, step.description)
                    current = step.version
            if current != target:
                raise RegistryError(f"no migration from schema {current} to {current + 1}")
    return before
