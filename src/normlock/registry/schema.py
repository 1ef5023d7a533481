"""The registry's tables (SQLAlchemy Core), as of :data:`SCHEMA_VERSION`.

* ``locks``: lock files, content-addressed by the SHA-256 of their exact bytes; a row is
  written once and never changed.
* ``names``: one row per lock name, holding the last version number handed out; writers
  lock this row, which serializes changes to one name and keeps versions gapless.
* ``versions``: ``name@N`` -> lock hash, with the model name/version it belongs to.
* ``aliases``: where each alias of a name points now; ``alias_events``: every move of
  an alias (promote, rollback), numbered without gaps per alias.
* ``profiles``: served-data profiles per lock, stage, source and time window.
* ``window_summaries`` and ``window_features`` (since version 2): per window of a lock and
  stage, all its sources merged, the drift report's findings and each feature's statistics
  and drift metrics, written when a profile is recorded; what browsing and ``/metrics``
  read instead of re-analysing stored profiles. A feature row repeats its window's name,
  stage, span and lock, so a feature's history is one index range.

Times are stored as naive UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 2
"""The schema this library creates and uses (see :mod:`normlock.registry.migrations`)."""

metadata = MetaData()

schema_migrations = Table(
    "normlock_schema",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

locks = Table(
    "locks",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

names = Table(
    "names",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("last_version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("name", String(128), ForeignKey("names.name"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("lock_hash", String(64), ForeignKey("locks.hash"), nullable=False),
    Column("model_name", String(200)),
    Column("model_version", String(200)),
    Column("created_at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    PrimaryKeyConstraint("name", "version"),
    UniqueConstraint("name", "lock_hash", name="versions_one_per_lock"),
    CheckConstraint("version >= 1", name="versions_positive"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("name", String(128), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    PrimaryKeyConstraint("name", "alias"),
    ForeignKeyConstraint(["name", "version"], ["versions.name", "versions.version"]),
)

alias_events = Table(
    "alias_events",
    metadata,
    Column("name", String(128), ForeignKey("names.name"), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("previous_version", Integer),
    Column("at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    PrimaryKeyConstraint("name", "alias", "seq"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), ForeignKey("names.name"), nullable=False),
    Column("lock_hash", String(64), ForeignKey("locks.hash"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("source", String(128), nullable=False),
    Column("window_start", DateTime, nullable=False),
    Column("window_end", DateTime, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("document", Text, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    UniqueConstraint(
        "name", "lock_hash", "stage", "source", "window_start", "window_end", name="profiles_once"
    ),
    CheckConstraint("window_end > window_start", name="profiles_window_order"),
    Index("profiles_by_time", "name", "window_start"),
)

window_summaries = Table(
    "window_summaries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), ForeignKey("names.name"), nullable=False),
    Column("lock_hash", String(64), ForeignKey("locks.hash"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("window_start", DateTime, nullable=False),
    Column("window_end", DateTime, nullable=False),
    Column("sources", Text, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("problems", Integer, nullable=False),
    Column("findings", Text, nullable=False),
    Column("computed_at", DateTime, nullable=False),
    UniqueConstraint(
        "name", "lock_hash", "stage", "window_start", "window_end", name="window_summaries_once"
    ),
    Index("window_summaries_by_time", "name", "stage", "window_end"),
)

window_features = Table(
    "window_features",
    metadata,
    Column("window_id", Integer, ForeignKey("window_summaries.id"), nullable=False),
    Column("feature", Text, nullable=False),
    Column("name", String(128), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("window_start", DateTime, nullable=False),
    Column("window_end", DateTime, nullable=False),
    Column("lock_hash", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("mean", Float),
    Column("std", Float),
    Column("missing_rate", Float),
    Column("out_of_range_rate", Float),
    Column("psi", Float),
    Column("psi_critical", Float),
    Column("smd", Float),
    Column("wasserstein_sd", Float),
    Column("alarms", Text, nullable=False),
    PrimaryKeyConstraint("window_id", "feature"),
    Index("window_features_by_time", "name", "stage", "feature", "window_start"),
)
