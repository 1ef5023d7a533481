"""The web application's JSON endpoints, /metrics and answers to bad requests, on SQLite
and PostgreSQL, read with a plain HTTP client and compared with the registry itself."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

import normlock as nl
from normlock.integrations.web.cache import FRESH_FOR
from normlock.registry import Registry
from tests.integrations.conftest import Site
from tests.integrations.web_setup import DRIFTED, HOURS, XSS_FEATURE, XSS_MODEL, served

HOUR = timedelta(hours=1)


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base, timeout=30) as opened:
        yield opened


def test_the_json_endpoints_say_what_the_registry_says(site: Site, client: httpx.Client) -> None:
    names = client.get("/api/names").json()["names"]
    assert [n["name"] for n in names] == ["fraud", "team/churn.v2"]
    assert names[0]["aliases"] == {"production": 2, "staging": 3}
    assert names[0]["windows"] == HOURS
    fraud = client.get("/api/names/fraud").json()
    assert [v["version"] for v in fraud["versions"]] == [3, 2, 1]
    assert fraud["history"] == [e.to_dict() for e in site.registry.history("fraud")]
    assert fraud["stages"]["raw"]["problem_windows"] == len(DRIFTED)
    lock = client.get("/api/locks/fraud@production").json()
    assert lock["version"] == site.registry.show("fraud@2").to_dict()
    assert lock["lock"]["fingerprint"] == site.populated.locks[1].fingerprint
    assert lock["previous"] == "fraud@1"
    history = site.registry.feature_history("fraud", "age")
    series = client.get("/api/features/fraud", params={"feature": "age"}).json()
    assert series["series"]["mean"] == [w.mean for w in history]
    assert series["series"]["count"] == [w.count for w in history]
    assert series["series"]["window_end"] == [w.window_end.isoformat() for w in history]
    assert series["reference"]["mean"] == site.populated.locks[1].feature("age").reference["mean"]
    diff = client.get("/api/diff", params={"a": "fraud@2", "b": "fraud@3"}).json()
    assert diff["changes"] == [] and not diff["transforms_differ"]
    windows = client.get("/api/windows/fraud", params={"problems": "1"}).json()
    assert windows["total"] == len(DRIFTED)
    assert {w["findings"][0]["kind"] for w in windows["windows"]} == {"unit_change"}
    assert client.get("/download/fraud@3").text == site.populated.texts[2]


def test_metrics_parse_and_give_the_latest_window(site: Site, client: httpx.Client) -> None:
    answer = client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    latest = site.registry.feature_history("fraud", XSS_FEATURE)[-1]
    means = {s.labels["feature"]: s for s in families["normlock_feature_mean"].samples}
    assert means[XSS_FEATURE].value == latest.mean
    assert means[XSS_FEATURE].labels["version"] == "2"
    (end,) = families["normlock_window_end_timestamp_seconds"].samples
    assert end.value == latest.window_end.timestamp()
    aliases = {s.labels["alias"]: s.value for s in families["normlock_alias_version"].samples}
    assert aliases == {"production": 2, "staging": 3}
    versions = {s.labels["name"]: s.value for s in families["normlock_versions"].samples}
    assert versions == {"fraud": 3, "team/churn.v2": 1}
    assert all(f.type == "gauge" for f in families.values())
    psi = [s.value for s in families["normlock_feature_psi"].samples]
    assert all(math.isfinite(v) for v in psi)


def test_every_stored_string_is_escaped(client: httpx.Client) -> None:
    feature = client.get("/features/fraud", params={"feature": XSS_FEATURE}).text
    for page in (client.get("/names/fraud").text, client.get("/locks/fraud@1").text, feature):
        assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#34;feature&#34;)&lt;/script&gt;" in feature
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/locks/fraud@1").text
    assert XSS_MODEL in client.get("/api/locks/fraud@1").json()["version"]["model"]["name"]


def test_bad_requests_get_a_page_or_json_never_a_traceback(client: httpx.Client) -> None:
    cases = {
        "/names/nope": 404,
        "/locks/fraud@12": 404,
        "/locks/fraud@bad ref": 400,
        "/locks/fraud@sha256:zz": 400,
        "/windows/fraud?page=0": 400,
        "/windows/fraud?page=9": 400,
        "/windows/fraud?stage=cooked": 400,
        "/features/fraud": 400,
        "/features/fraud?feature=nope": 404,
        "/features/fraud?feature=age&since=yesterday": 400,
        "/no/such/page": 404,
    }
    for path, status in cases.items():
        page = client.get(path)
        assert page.status_code == status, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "Traceback" not in page.text and f"<h1>{status}" in page.text, path
        api = client.get("/api" + path)
        if path.startswith(("/names", "/locks", "/windows", "/features")):
            assert api.status_code == status and api.json()["status"] == status, path
    assert "did you mean 'age'" in client.get("/api/features/fraud?feature=agee").json()["error"]
    posted = client.post("/names/fraud")
    assert posted.status_code == 405 and "<h1>405" in posted.text
    assert client.head("/names/fraud").status_code == 200


def test_every_answer_forbids_scripts_and_framing(client: httpx.Client) -> None:
    for path in ("/", "/names/fraud", "/api/names", "/metrics", "/names/nope"):
        headers = client.get(path).headers
        assert "script-src" not in headers["content-security-policy"]  # default-src 'none'
        assert headers["content-security-policy"].startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    feature = "/features/fraud?feature=" + quote(XSS_FEATURE, safe="")
    assert client.get(feature).status_code == 200


def test_pages_follow_every_change_to_the_registry(tmp_path: Path) -> None:
    lock = nl.fit({"x": np.arange(50.0), "y": np.arange(50.0) ** 2})
    with Registry(str(tmp_path / "registry.sqlite3")) as registry:
        registry.push(lock, "live")
        with served(registry, fresh_for=0.0) as base, httpx.Client(base_url=base) as client:

            def versions() -> list[int]:
                return [v["version"] for v in client.get("/api/names/live").json()["versions"]]

            assert versions() == [1] and versions() == [1]  # the second answer was kept
            registry.push_text(dataclasses.replace(lock, provenance={"rows": 1}).to_json(), "live")
            assert versions() == [2, 1]
            registry.promote("live@2", "production")
            assert client.get("/api/names/live").json()["aliases"] == {"production": 2}
            registry.delete("live@1", confirm=True)
            assert versions() == [2]
            assert "no version 1" in client.get("/api/locks/live@1").json()["error"]
            monitor = lock.monitor()
            monitor.update({"x": np.arange(10.0), "y": np.arange(10.0)})
            start = datetime(2025, 5, 1, tzinfo=UTC)
            assert client.get("/api/windows/live").json()["total"] == 0
            registry.record_profile("live@2", monitor.profile, start=start, end=start + HOUR)
            assert client.get("/api/windows/live").json()["total"] == 1
            assert "live" in client.get("/metrics").text


def test_by_default_a_change_shows_within_half_a_second(tmp_path: Path) -> None:
    lock = nl.fit({"x": np.arange(30.0)})
    with Registry(str(tmp_path / "registry.sqlite3")) as registry:
        registry.push(lock, "live")
        with served(registry) as base, httpx.Client(base_url=base) as client:
            assert client.get("/api/names/live").json()["aliases"] == {}
            registry.promote("live@1", "production")
            time.sleep(FRESH_FOR + 0.05)
            assert client.get("/api/names/live").json()["aliases"] == {"production": 1}
