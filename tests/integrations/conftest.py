"""Fixtures of the web tests: a populated registry on each back end, served on loopback,
and one headless Debian Chromium (driven by Playwright, never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from normlock.registry import Registry
from tests.integrations.web_setup import Populated, populate, served
from tests.registry.backends import BACKENDS, pg_schema_url

PASSWORD = "s3cret-pw"
"""The password in the PostgreSQL URL (trust authentication ignores it); no page shows it."""


@dataclass(frozen=True)
class Site:
    """A populated registry and the web application serving it."""

    backend: str
    registry: Registry
    populated: Populated
    base: str


@pytest.fixture(scope="session", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("web") / "registry.sqlite3")
    else:
        schema = pg_schema_url(request.getfixturevalue("pg_database"))
        url = make_url(schema).set(password=PASSWORD).render_as_string(hide_password=False)
    with Registry(url) as registry:
        populated = populate(registry)
        with served(registry) as base:
            yield Site(request.param, registry, populated, base)


CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, which ``.ci/run`` installs; Playwright never downloads a browser."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "chromium is needed: apt-get install -y chromium (.ci/run does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()
