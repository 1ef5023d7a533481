"""Pages render in under a second for a registry of 1,000 versions and 10,000 windows, on
SQLite and PostgreSQL (each timed on its first request, then its median of three)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest
from bench.registry_data import NAME, build

from normlock.registry import Registry
from tests.integrations.web_setup import served
from tests.registry.backends import BACKENDS, pg_schema_url

VERSIONS, WINDOWS = 1000, 10_000
PAGES = (
    "/",
    f"/names/{NAME}",
    f"/names/{NAME}?page=20",
    f"/locks/{NAME}@production",
    f"/locks/{NAME}@1",
    f"/diff?a={NAME}@1&b={NAME}@{VERSIONS}",
    f"/windows/{NAME}",
    f"/windows/{NAME}?page=150",
    f"/windows/{NAME}?problems=1",
    f"/features/{NAME}?feature=amount",
    f"/api/features/{NAME}?feature=score",
    "/metrics",
)


@pytest.fixture(scope="module", params=BACKENDS)
def big(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("big") / "registry.sqlite3")
    else:
        url = pg_schema_url(request.getfixturevalue("pg_database"))
    build(url, version_count=VERSIONS, window_count=WINDOWS, fit_rows=120, window_rows=20)
    with Registry(url) as registry, served(registry) as base:
        yield base


def test_every_main_page_renders_in_under_a_second(big: str) -> None:
    slow = {}
    with httpx.Client(base_url=big, timeout=30) as client:
        for path in PAGES:
            times = []
            for _ in range(4):
                began = time.perf_counter()
                answer = client.get(path)
                times.append(time.perf_counter() - began)
                assert answer.status_code == 200, (path, answer.text[:300])
            first, typical = times[0], statistics.median(times[1:])
            if first >= 1.0 or typical >= 1.0:
                slow[path] = (first, typical)
        assert not slow, slow
        name = client.get(f"/api/names/{NAME}").json()
        assert name["total_versions"] == VERSIONS and name["stages"]["raw"]["windows"] == WINDOWS
        oldest = client.get(f"/api/names/{NAME}?page=20").json()["versions"]
        assert [v["version"] for v in oldest] == list(range(50, 0, -1))
        feature = client.get(f"/features/{NAME}?feature=amount").text
        polylines = re.findall(r'<polyline points="([^"]*)"', feature)
        assert polylines and max(len(p.split()) for p in polylines) <= 800
        assert client.get(f"/windows/{NAME}?page=200").status_code == 200  # the last page
        assert client.get(f"/api/windows/{NAME}").json()["total"] == WINDOWS
