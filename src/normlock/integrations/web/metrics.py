"""``/metrics``: the registry's latest windows in Prometheus text exposition format.

Gauges, one series per name and stage (``normlock_window_*``) and per name, stage and
feature (``normlock_feature_*``) of the latest window, labelled with the lock version and
the first 16 hex digits of its hash; plus each name's version count and aliases. A
statistic a window cannot define (the std of no values) is ``NaN``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from normlock.monitor.prometheus import label_set, sample_value
from normlock.registry.catalog import STATISTICS
from normlock.registry.summaries import DRIFT_METRICS

if TYPE_CHECKING:
    from normlock.registry.catalog import Catalog

PREFIX = "normlock"
WINDOW_HELP = {
    "rows": "Rows served in the latest window (all sources).",
    "end_timestamp_seconds": "End of the latest window, seconds since the epoch.",
    "findings": "Findings other than ok in the latest window.",
}
FEATURE_HELP = {
    "count": "Finite values of the feature in the latest window.",
    "mean": "Mean of the finite values in the latest window.",
    "std": "Standard deviation (ddof 0) of the finite values in the latest window.",
    "missing_rate": "NaN and infinite values over all values in the latest window.",
    "out_of_range_rate": "Finite values outside the training range over finite values.",
    "psi": "Population stability index against the training reference.",
    "psi_critical": "The PSI critical value for the window's size.",
    "smd": "Mean shift in training standard deviations.",
    "wasserstein_sd": "Wasserstein-1 distance in training standard deviations.",
}


def _family(lines: list[str], name: str, text: str, samples: list[str]) -> None:
    lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge", *samples]


def exposition(catalog: Catalog) -> str:
    """The text exposition of every name's latest window (and its versions and aliases)."""
    names = catalog.names()
    window_samples: dict[str, list[str]] = {key: [] for key in WINDOW_HELP}
    feature_samples: dict[str, list[str]] = {key: [] for key in (*STATISTICS, *DRIFT_METRICS)}
    for window, features in catalog.latest():
        labels = {
            "name": window.name,
            "stage": window.stage,
            "version": "" if window.version is None else str(window.version),
            "lock": window.lock_hash[:16],
        }
        values = {
            "rows": float(window.rows),
            "end_timestamp_seconds": window.window_end.timestamp(),
            "findings": float(window.problems),
        }
        for key, value in values.items():
            window_samples[key].append(
                f"{PREFIX}_window_{key}{label_set(labels)} {sample_value(value)}"
            )
        for feature, row in features.items():
            series = label_set({**labels, "feature": feature})
            for key, value in row.items():
                shown = sample_value(float("nan") if value is None else float(value))
                feature_samples[key].append(f"{PREFIX}_feature_{key}{series} {shown}")
    lines: list[str] = []
    _family(
        lines,
        f"{PREFIX}_versions",
        "Versions each lock name holds.",
        [f"{PREFIX}_versions{label_set({'name': e.name})} {e.versions}" for e in names],
    )
    _family(
        lines,
        f"{PREFIX}_alias_version",
        "The version each alias points to.",
        [
            f"{PREFIX}_alias_version{label_set({'name': e.name, 'alias': a})} {v}"
            for e in names
            for a, v in e.aliases.items()
        ],
    )
    for key, text in WINDOW_HELP.items():
        _family(lines, f"{PREFIX}_window_{key}", text, window_samples[key])
    for key, text in FEATURE_HELP.items():
        _family(lines, f"{PREFIX}_feature_{key}", text, feature_samples[key])
    return "\n".join(lines) + "\n"
