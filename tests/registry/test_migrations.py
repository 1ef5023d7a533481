"""The schema migration runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text

from normlock.registry import Registry, RegistryError, SchemaVersionError
from normlock.registry.connection import open_engine, resolve_url
from normlock.registry.migrations import Migration, migrate, schema_version
from normlock.registry.schema import SCHEMA_VERSION, schema_migrations
from tests.registry import workers
from tests.registry.backends import small_lock


def _add_note(connection) -> None:
    connection.execute(text("ALTER TABLE versions ADD COLUMN note VARCHAR(50)"))


def _add_note_then_fail(connection) -> None:
    _add_note(connection)
    raise RuntimeError("step failed half-way")


def _columns(engine, table: str) -> set[str]:
    with engine.connect() as connection:
        return {c["name"] for c in inspect(connection).get_columns(table)}


def _versions(engine) -> list[int]:
    with engine.connect() as connection:
        query = select(schema_migrations.c.version).order_by(schema_migrations.c.version)
        return list(connection.execute(query).scalars())


def test_a_fresh_database_is_created_and_stamped_once(registry_url: str) -> None:
    Registry(registry_url).close()
    Registry(registry_url).close()
    engine = open_engine(resolve_url(registry_url))
    assert _versions(engine) == [SCHEMA_VERSION]
    with engine.connect() as connection:
        assert schema_version(connection) == SCHEMA_VERSION
    engine.dispose()


def test_pending_steps_run_in_order_once_and_a_failed_step_changes_nothing(
    registry_url: str,
) -> None:
    registry = Registry(registry_url)
    registry.push(small_lock(0), "kept")
    engine = open_engine(resolve_url(registry_url))
    current, following = SCHEMA_VERSION, SCHEMA_VERSION + 1
    failing = [Migration(following, "add a note", _add_note_then_fail)]
    with pytest.raises(RuntimeError, match="half-way"):
        migrate(engine, target=following, steps=failing)
    assert "note" not in _columns(engine, "versions")
    assert _versions(engine) == [current]
    steps = [Migration(following, "add a note", _add_note)]
    assert migrate(engine, target=following, steps=steps) == current
    assert migrate(engine, target=following, steps=steps) == following
    assert "note" in _columns(engine, "versions") and _versions(engine) == [current, following]
    with pytest.raises(
        RegistryError, match=f"no migration from schema {following} to {following + 1}"
    ):
        migrate(engine, target=following + 1, steps=steps)
    engine.dispose()
    assert registry.pull("kept@1").version.version == 1  # data survived the upgrade


def test_a_newer_database_is_refused(registry_url: str) -> None:
    Registry(registry_url).close()
    engine = create_engine(registry_url)
    with engine.begin() as connection:
        connection.execute(
            schema_migrations.insert().values(
                version=99, description="future", applied_at=datetime(2030, 1, 1)
            )
        )
    engine.dispose()
    with pytest.raises(
        SchemaVersionError,
        match=f"schema version 99; this normlock knows versions up to {SCHEMA_VERSION}",
    ):
        Registry(registry_url)


def test_a_database_with_foreign_tables_of_the_same_name_is_refused(registry_url: str) -> None:
    engine = create_engine(registry_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE locks (id INTEGER)"))
    engine.dispose()
    with pytest.raises(RegistryError, match=r"already has table\(s\) \['locks'\]"):
        Registry(registry_url)


def test_processes_opening_a_fresh_registry_together_create_it_once(registry_url: str) -> None:
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(target=workers.open_registry, args=(registry_url, start, results))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    start.set()
    assert [results.get(timeout=60) for _ in processes] == [True] * 4
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    engine = open_engine(resolve_url(registry_url))
    assert _versions(engine) == [SCHEMA_VERSION]
    engine.dispose()
