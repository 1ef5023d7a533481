"""The registry in a real headless browser (Debian's Chromium via Playwright), on SQLite and
PostgreSQL: pages load without console errors, links lead where they say, charts draw,
stored HTML renders as text, downloads are the stored bytes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image

from normlock.integrations.web.charts import SERVED
from tests.integrations.conftest import PASSWORD, Site
from tests.integrations.web_setup import DRIFTED, HOURS, XSS_FEATURE, XSS_MODEL


class Watched:
    """A browser page that records console errors, script errors and dialogs."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))

    def open(self, url: str) -> Any:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        assert not self.problems, (url, self.problems)
        return response


@pytest.fixture
def tab(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    yield Watched(context.new_page())
    context.close()


def _red_pixels(png: bytes) -> int:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    red = np.array([int(SERVED[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - red).sum(axis=2) < 60).sum())


def test_links_lead_from_the_names_to_versions_diffs_windows_and_charts(
    site: Site, tab: Watched
) -> None:
    page = tab.page
    tab.open(site.base + "/")
    assert page.inner_text("#names").count("fraud") >= 1
    page.click('#names a[href="/names/fraud"]')
    page.wait_for_url("**/names/fraud")
    assert page.inner_text("#aliases").split() == [
        "alias",
        "version",
        "production",
        "fraud@2",
        "staging",
        "fraud@3",
    ]
    history = page.inner_text("#history")
    assert "rollback" in history and history.count("promote") == 4

    page.click('#versions a[href="/locks/fraud@2"]')
    page.wait_for_url("**/locks/fraud@2")
    assert not tab.problems
    assert page.inner_text("#fingerprint") == site.populated.locks[1].fingerprint
    assert "log1p → standard" in page.inner_text("#features")
    with page.expect_download() as download:
        page.click("#download")
    saved = download.value.path()
    assert Path(saved).read_text(encoding="utf-8") == site.populated.texts[1]

    page.click("text=diff with fraud@1")
    page.wait_for_url("**/diff?*")
    assert page.inner_text("#verdict") == "the locks transform data differently"
    assert "changes outputs" in page.inner_text("#changes")

    tab.open(site.base + "/names/fraud")
    page.click(f"text={HOURS} windows")
    page.wait_for_url("**/windows/fraud?*")
    assert page.locator("#windows tr").count() == HOURS + 1
    page.click("text=only those with findings")
    assert page.locator("#windows tr").count() == len(DRIFTED) + 1
    assert "unit_change" in page.inner_text("#windows")
    assert not tab.problems


def test_charts_draw_and_findings_are_listed(site: Site, tab: Watched) -> None:
    page = tab.page
    tab.open(site.base + "/names/fraud")
    page.click('.features a:text-is("amount")')
    page.wait_for_url("**/features/fraud?*")
    assert not tab.problems
    assert page.locator("#charts svg").count() == 8
    for panel in ("mean", "psi", "out_of_range_rate"):
        assert _red_pixels(page.locator(f"#chart-{panel}").screenshot()) > 150, panel
    assert page.locator("#findings tr").count() == len(DRIFTED) + 1


def test_stored_html_renders_as_text(site: Site, tab: Watched) -> None:
    page = tab.page
    feature = "/features/fraud?feature=" + quote(XSS_FEATURE, safe="")
    for path in ("/names/fraud", "/locks/fraud@1", feature, "/diff?a=fraud@1&b=fraud@2"):
        tab.open(site.base + path)
        text = page.inner_text("body")
        assert XSS_FEATURE in text or XSS_MODEL in text, path
        assert page.evaluate("document.scripts.length") == 0, path
        assert page.evaluate("document.images.length") == 0, path
    tab.open(site.base + feature)
    assert page.inner_text("#feature") == XSS_FEATURE
    assert page.locator("#charts svg").count() == 8
    assert not tab.problems


def test_errors_are_pages_and_no_page_shows_the_password(site: Site, tab: Watched) -> None:
    page = tab.page
    for path, status in (("/names/frud", 404), ("/locks/fraud@99", 404), ("/locks/fraud@x y", 400)):
        response = page.goto(site.base + path)
        assert response is not None and response.status == status, path
        assert page.inner_text("h1").startswith(str(status))
        assert "Traceback" not in page.content()
    page.goto(site.base + "/names/frud")
    assert "did you mean 'fraud'" in page.inner_text("#message")
    tab.problems.clear()  # the error pages' own status counts as a console error
    for path in ("/", "/names/fraud", "/locks/fraud@production", "/api/names", "/metrics"):
        page.goto(site.base + path)
        assert PASSWORD not in page.content(), path
    if site.backend == "postgresql":
        tab.open(site.base + "/")
        assert ":***@" in page.inner_text("header")
