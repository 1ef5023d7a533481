"""HTML pages rendered from the views' data with the package's Jinja2 templates.

Autoescaping is on for every template: a stored string (a feature called ``<script>``, a
model name, a finding) always renders as text. The only markup inserted unescaped is the
SVG that :mod:`normlock.monitor.svg` draws, which escapes its own text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from normlock.integrations.web.charts import feature_charts

if TYPE_CHECKING:
    from normlock.registry.catalog import FeatureSeries


def _short(value: str | None, size: int = 12) -> str:
    return "" if value is None else value[:size]


def _when(value: str | None) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM`` (UTC)."""
    return "" if not value else value.replace("T", " ")[:16]


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _percent(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.2f}%"


def _path(value: str) -> str:
    """A lock name or reference in a URL path (``/`` and ``@`` kept)."""
    return quote(value, safe="/@")


def _query(**values: Any) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "", False)})


class Pages:
    """The templates, bound to the registry's (password-masked) URL shown in each header."""

    def __init__(self, registry_url: str) -> None:
        self.environment = Environment(
            loader=PackageLoader("normlock.integrations.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters.update(
            short=_short, when=_when, number=_number, percent=_percent, path=_path
        )
        self.environment.globals.update(registry_url=registry_url, query=_query)

    def _render(self, template: str, **context: Any) -> str:
        return self.environment.get_template(template).render(**context)

    def index(self, data: dict[str, Any]) -> str:
        """The names."""
        return self._render("index.html", data=data)

    def name(self, data: dict[str, Any]) -> str:
        """One name: versions, aliases, history, served data."""
        return self._render("name.html", data=data)

    def lock(self, data: dict[str, Any]) -> str:
        """One lock."""
        return self._render("lock.html", data=data)

    def diff(self, data: dict[str, Any], refs: list[str]) -> str:
        """The diff between two references, and the form to choose them (``refs`` offered)."""
        return self._render("diff.html", data=data, refs=refs)

    def windows(self, data: dict[str, Any]) -> str:
        """A page of a name's windows and their findings."""
        return self._render("windows.html", data=data)

    def feature(self, data: dict[str, Any], series: FeatureSeries) -> str:
        """A feature's charts over time and the findings that name it."""
        charts = feature_charts(series, data["reference"])
        shown = [{**c, "svg": Markup(c["svg"])} for c in charts]
        return self._render("feature.html", data=data, charts=shown)

    def error(self, status: int, title: str, message: str) -> str:
        """An error page."""
        return self._render("error.html", status=status, title=title, message=message)
