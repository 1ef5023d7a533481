"""A profile in Prometheus text exposition format.

Every series carries the lock's fingerprint (``lock``), the stage and the feature, so the
series of all replicas serving one lock add up with ``sum by (feature)``:

* ``normlock_served_rows_total``: rows seen (every value, missing included);
* ``normlock_served_value``: a histogram of the finite values on the lock's quantile edges
  (``_bucket`` with ``le`` edges, ``_count`` finite values, ``_sum`` their sum), so PSI
  against the training deciles follows from bucket rates;
* ``normlock_served_value_squares_total``: sum of squares of the finite values (the
  variance is ``squares / count - (sum / count)**2``);
* ``normlock_served_missing_total``: NaN values;
* ``normlock_served_out_of_range_total{side="below"|"above"}``: values outside the
  training range (infinities included);
* ``normlock_lock_info``: 1, labelled with the lock and stage.
"""

from __future__ import annotations

import math

from normlock.lock import Lock
from normlock.profile import Profile
from normlock.stats.exact import UNIT_BITS
from normlock.stats.rounding import ratio_to_float

PREFIX = "normlock"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def label_set(pairs: dict[str, str]) -> str:
    """``{k="v",...}`` with each value escaped as the text format requires."""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items()) + "}"


def sample_value(value: float) -> str:
    """A sample's value as the text format writes it (``NaN``, ``+Inf``, integers plain)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def exposition(lock: Lock, profile: Profile, extra: dict[str, str] | None = None) -> str:
    """The text exposition of ``profile`` (recorded for ``lock``).

    Args:
        lock: the lock the profile belongs to (its fingerprint labels every series).
        profile: what was served.
        extra: more labels for every series (e.g. ``{"replica": "a"}``).
    """
    base = {"lock": lock.fingerprint, "stage": profile.stage, **(extra or {})}
    name = f"{PREFIX}_served"
    lines = [
        f"# HELP {PREFIX}_lock_info The lock whose reference the served values are compared with.",
        f"# TYPE {PREFIX}_lock_info gauge",
        f"{PREFIX}_lock_info{label_set(base)} 1",
    ]
    families: dict[str, tuple[str, str, list[str]]] = {
        "rows": ("counter", "Served rows per feature, missing values included.", []),
        "value": ("histogram", "Finite served values on the lock's quantile edges.", []),
        "value_squares": ("counter", "Sum of squares of the finite served values.", []),
        "missing": ("counter", "Missing (NaN) served values.", []),
        "out_of_range": ("counter", "Served values outside the training range.", []),
    }
    for feature, summary in profile.features.items():
        labels = {**base, "feature": feature}
        rows, value, squares, missing, outside = (families[k][2] for k in families)
        rows.append(f"{name}_rows_total{label_set(labels)} {summary.total}")
        cumulative = 0
        edges = profile.edges[feature]
        for edge, count in zip(edges, profile.buckets[feature], strict=False):
            cumulative += count
            bucket = {**labels, "le": sample_value(edge)}
            value.append(f"{name}_value_bucket{label_set(bucket)} {cumulative}")
        value.append(f"{name}_value_bucket{label_set({**labels, 'le': '+Inf'})} {summary.count}")
        value.append(f"{name}_value_count{label_set(labels)} {summary.count}")
        total = ratio_to_float(summary.sum_units, 1 << UNIT_BITS)
        value.append(f"{name}_value_sum{label_set(labels)} {sample_value(total)}")
        square_total = ratio_to_float(summary.sum_sq_units, 1 << UNIT_BITS)
        squares.append(
            f"{name}_value_squares_total{label_set(labels)} {sample_value(square_total)}"
        )
        missing.append(f"{name}_missing_total{label_set(labels)} {summary.nan}")
        for side, count in (("below", profile.below[feature]), ("above", profile.above[feature])):
            series = label_set({**labels, "side": side})
            outside.append(f"{name}_out_of_range_total{series} {count}")
    for key, (kind, text, samples) in families.items():
        family = f"{name}_{key}" + ("_total" if kind == "counter" else "")
        lines += [f"# HELP {family} {text}", f"# TYPE {family} {kind}", *samples]
    return "\n".join(lines) + "\n"
