"""The normalization spec: which method chain each column gets.

A spec maps column names to an entry. An entry is one of:

* a method name: ``"standard"``;
* a chain: ``["log1p", "standard"]`` (each later step is fitted on the output of the
  earlier ones; items may be names or option mappings);
* a mapping with options: ``{"method": "minmax", "clip": True}``, or with a chain and
  policies: ``{"steps": ["log1p", "standard"], "nan": "error", "inf": "keep"}``;
* ``"passthrough"``: the column is carried through unchanged (any dtype).

Columns the spec does not name get ``default`` (``"standard"``) when numeric; a
non-numeric column must be named as passthrough (or use ``default="passthrough"``).

Policies per feature: ``nan`` is ``"keep"`` (skipped when fitting, NaN out for NaN in)
or ``"error"``; ``inf`` is ``"error"`` (default) or ``"keep"`` (counted and skipped
when fitting, transformed by the formula).

A power method (``yeo-johnson``, ``box-cox``, alias ``power``) takes ``standardize``
(default true, as scikit-learn), which appends a ``standard`` step.

A top-level ``groups`` list beside ``features`` whitens columns together (see
:mod:`normlock.groups.spec`); a grouped column the spec does not name gets ``identity``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from normlock.errors import ColumnNotFoundError, InputError, SpecError
from normlock.groups.spec import GroupSpec, parse_groups
from normlock.methods import ALIASES, get_method

PASSTHROUGH = "passthrough"
NAN_POLICIES = ("keep", "error")
INF_POLICIES = ("error", "keep")
_POWER_METHODS = ("yeo-johnson", "box-cox")
_FEATURE_KEYS = {"method", "steps", "nan", "inf"}


@dataclass(frozen=True)
class StepSpec:
    """One configured step: a method name and its validated options."""

    method: str
    options: dict[str, Any]


@dataclass(frozen=True)
class FeatureSpec:
    """The resolved spec of one column."""

    name: str
    steps: tuple[StepSpec, ...]
    nan: str = "keep"
    inf: str = "error"

    @property
    def passthrough(self) -> bool:
        """True when the column is carried through unchanged."""
        return not self.steps


@dataclass(frozen=True)
class Spec:
    """A spec as written: per-column entries and the default for unnamed columns."""

    entries: dict[str, Any]
    default: str | None = "standard"
    groups: tuple[GroupSpec, ...] = ()

    def as_written(self) -> dict[str, Any]:
        """The JSON-ready spec, as the user wrote it."""
        written: dict[str, Any] = {"features": self.entries, "default": self.default}
        if self.groups:
            written["groups"] = [g.as_written() for g in self.groups]
        return written


def load_spec(
    source: Mapping[str, Any] | str | Path | Spec | None, default: str | None = None
) -> Spec:
    """A :class:`Spec` from a mapping, a YAML/JSON file path, or None (all defaults).

    A mapping with a ``features`` mapping is the structured form
    (``{"features": {...}, "default": "standard"}``); otherwise it maps columns to entries.
    """
    if isinstance(source, Spec):
        return source if default is None else Spec(source.entries, default, source.groups)
    if source is None:
        return Spec({}, default or "standard")
    if isinstance(source, str | Path):
        source = _read_spec_file(Path(source))
    if not isinstance(source, Mapping):
        raise SpecError(
            f"a spec must be a mapping of column names to methods, got {type(source).__name__}"
        )
    groups: tuple[GroupSpec, ...] = ()
    if isinstance(source.get("features"), Mapping) or _is_group_list(source.get("groups")):
        unknown = set(source) - {"features", "default", "groups"}
        if unknown:
            raise SpecError(
                f"unknown top-level spec key(s) {sorted(unknown)}; "
                "expected 'features', 'default' and 'groups'"
            )
        entries = dict(source.get("features") or {})
        default = default or source.get("default", "standard")
        groups = parse_groups(source.get("groups"))
    else:
        entries = dict(source)
        default = default or "standard"
    for name in entries:
        if not isinstance(name, str):
            raise SpecError(f"spec keys must be column names (strings), got {name!r}")
    if default is not None and default != PASSTHROUGH:
        get_method(default)
    return Spec(entries, default, groups)


def _is_group_list(value: Any) -> bool:
    """Whether a top-level ``groups`` value is a list of group mappings (not a chain)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _read_spec_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read spec file {str(path)!r}: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"spec file {str(path)!r} is not valid JSON: {exc}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"spec file {str(path)!r} is not valid YAML: {exc}") from None


def resolve(spec: Spec, columns: Sequence[str], numeric: Mapping[str, bool]) -> list[FeatureSpec]:
    """The feature specs for data with ``columns`` (in data order)."""
    grouped = {c: g for g in spec.groups for c in g.columns}
    missing = [name for name in [*spec.entries, *grouped] if name not in numeric]
    if missing:
        raise ColumnNotFoundError.from_missing(
            missing, columns, where="the data (named in the spec)"
        )
    resolved = []
    default: FeatureSpec | None = None  # parsed once, for every column it applies to
    for name in columns:
        if name in spec.entries:
            feature = _resolve_entry(name, spec.entries[name])
        elif name in grouped:
            feature = FeatureSpec(name, _IDENTITY, grouped[name].nan, grouped[name].inf)
        elif spec.default == PASSTHROUGH or spec.default is None:
            feature = FeatureSpec(name, ())
        elif not numeric[name]:
            raise InputError(
                f"column {name!r} is not numeric; declare it with '{name}: passthrough' in the "
                "spec, or drop it before fitting"
            )
        else:
            default = default or _resolve_entry(name, spec.default)
            feature = FeatureSpec(name, default.steps, default.nan, default.inf)
        if feature.steps and not numeric[name]:
            raise InputError(
                f"column {name!r} is not numeric but the spec gives it "
                f"{[s.method for s in feature.steps]}; convert it to numbers or mark it passthrough"
            )
        if name in grouped:
            _check_grouped(feature, grouped[name])
        resolved.append(feature)
    return resolved


_IDENTITY = (StepSpec("identity", {}),)


def _check_grouped(feature: FeatureSpec, group: GroupSpec) -> None:
    """A grouped column's own chain may hold only steps that need no data."""
    fitted = [s.method for s in feature.steps if get_method(s.method).needs_data(s.options)]
    if feature.passthrough or fitted:
        raise SpecError(
            f"column {feature.name!r} is in group {group.name!r} ({group.method}), which "
            f"centers and scales it; its own entry may hold only steps that need no data "
            f"(log1p, log, identity), got {[s.method for s in feature.steps] or PASSTHROUGH!r}"
        )


def resolve_single(name: str, entry: Any) -> FeatureSpec:
    """The feature spec of one named entry (used for targets)."""
    return _resolve_entry(name, entry)


def _resolve_entry(name: str, entry: Any) -> FeatureSpec:
    try:
        return _parse_entry(name, entry)
    except SpecError as exc:
        raise SpecError(f"feature {name!r}: {exc}") from None


def _parse_entry(name: str, entry: Any) -> FeatureSpec:
    if entry == PASSTHROUGH:
        return FeatureSpec(name, ())
    policies: dict[str, Any] = {}
    if isinstance(entry, str):
        raw_steps: list[Any] = [entry]
    elif isinstance(entry, list | tuple):
        raw_steps = list(entry)
    elif isinstance(entry, Mapping):
        if "steps" in entry:
            unknown = set(entry) - _FEATURE_KEYS - {"method"}
            if "method" in entry or unknown:
                raise SpecError(
                    "a mapping with 'steps' takes only 'nan' and 'inf' beside it; "
                    "put method options inside the step"
                )
            raw_steps = list(entry["steps"])
        else:
            raw_steps = [{k: v for k, v in entry.items() if k not in ("nan", "inf")}]
        policies = {k: entry[k] for k in ("nan", "inf") if k in entry}
    else:
        raise SpecError(f"an entry must be a method name, a list or a mapping, got {entry!r}")
    if not raw_steps:
        raise SpecError("the chain of steps is empty; use 'passthrough' to keep a column as is")
    steps: list[StepSpec] = []
    for raw in raw_steps:
        steps.extend(_parse_step(raw))
    nan = policies.get("nan", "keep")
    inf = policies.get("inf", "error")
    if nan not in NAN_POLICIES:
        raise SpecError(f"'nan' policy must be one of {NAN_POLICIES}, got {nan!r}")
    if inf not in INF_POLICIES:
        raise SpecError(f"'inf' policy must be one of {INF_POLICIES}, got {inf!r}")
    return FeatureSpec(name, tuple(steps), nan, inf)


def _parse_step(raw: Any) -> list[StepSpec]:
    if isinstance(raw, str):
        name, options = raw, {}
    elif isinstance(raw, Mapping):
        if "method" not in raw:
            raise SpecError(f"a step mapping needs a 'method' key, got {dict(raw)!r}")
        name, options = raw["method"], {k: v for k, v in raw.items() if k != "method"}
    else:
        raise SpecError(f"a step must be a method name or a mapping, got {raw!r}")
    if name == PASSTHROUGH:
        raise SpecError("'passthrough' cannot be a step of a chain")
    canonical = ALIASES.get(name, name)
    standardize = True
    if canonical in _POWER_METHODS:
        standardize = options.pop("standardize", True)
        if not isinstance(standardize, bool):
            raise SpecError(f"option 'standardize' must be true or false, got {standardize!r}")
    method = get_method(canonical)
    steps = [StepSpec(method.name, method.configure(dict(options)))]
    if canonical in _POWER_METHODS and standardize:
        standard = get_method("standard")
        steps.append(StepSpec(standard.name, standard.configure({})))
    return steps
