"""Human-readable views of a lock: a rich table and a compact JSON overview."""

from __future__ import annotations

from typing import Any

from normlock.chain import FeatureLock
from normlock.diff import LockDiff
from normlock.groups.lock import GroupLock
from normlock.lock import Lock
from normlock.methods import get_method

_HIDDEN_PARAMS = {"quantiles", "references"}


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list) and len(value) <= 4:
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    if isinstance(value, list):
        return f"<{len(value)} values>"
    return str(value)


def _shown(method: str, key: str, value: Any) -> bool:
    defaults = get_method(method).defaults
    return not (key in defaults and defaults[key] == value) and not (
        key == "rank_error" and value == 0
    )


def step_text(feature: FeatureLock) -> tuple[str, str]:
    """The chain (``log1p -> standard``) and its fitted parameters, one per line.

    Options left at their defaults are not shown.
    """
    chain = " -> ".join(s.method for s in feature.steps)
    lines = []
    for step in feature.steps:
        shown = [
            f"{k}=<{len(v)} values>" if k in _HIDDEN_PARAMS else f"{k}={_format_value(v)}"
            for k, v in step.params.items()
            if _shown(step.method, k, v)
        ]
        lines.append("\n".join(shown) or "(no parameters)")
    return chain, "\n--\n".join(lines)


def domain_of(lock: Lock) -> dict[str, Any] | None:
    """A domain lock's kind and settings (None for a table lock)."""
    from normlock.domains.base import DomainLock

    return {"kind": lock.KIND, **lock.describe()} if isinstance(lock, DomainLock) else None


def _fitted_on(lock: Lock) -> str:
    fitted_on = getattr(lock, "fitted_on", None)  # a domain lock says what it was fitted on
    return fitted_on() if fitted_on is not None else f"{lock.provenance.get('rows', 0):,} rows"


def lock_overview(lock: Lock) -> dict[str, Any]:
    """A JSON-ready overview: identity, provenance, the domain and per-feature chain and
    reference."""
    features = list(lock.features) + ([lock.target] if lock.target is not None else [])
    return {
        "domain": domain_of(lock),
        "fingerprint": lock.fingerprint,
        "created_at": lock.created_at,
        "library_version": lock.library_version,
        "model": lock.model,
        "provenance": lock.provenance,
        "passthrough": list(lock.passthrough),
        "features": [
            {
                "name": f.name,
                "role": "target" if f is lock.target else "feature",
                "steps": [s.to_dict() for s in f.steps],
                "reference": {
                    k: f.reference[k] for k in ("count", "nan", "min", "max", "mean", "std")
                },
                "warnings": list(f.warnings),
            }
            for f in features
        ],
        **({"groups": [_group_overview(g) for g in lock.groups]} if lock.groups else {}),
    }


def _group_overview(group: GroupLock) -> dict[str, Any]:
    """A whitening group's method, columns and fit figures (not its matrices)."""
    options = {k: v for k, v in group.options.items() if k != "covariance"}
    return {
        "name": group.name,
        "method": group.method,
        "columns": list(group.columns),
        "outputs": list(group.outputs),
        **options,
        "warnings": list(group.warnings),
    }


def _group_table(lock: Lock) -> Any:
    """The whitening groups, one row each."""
    from rich.table import Table

    table = Table(show_lines=True, expand=False)
    for header in ("group", "method", "columns -> outputs", "fit", "warnings"):
        table.add_column(header, overflow="fold")
    for group in lock.groups:
        options = group.options
        variances = options.get("variances", [])
        kappa = variances[0] / variances[-1] if variances and variances[-1] > 0 else float("inf")
        fit = (
            f"rows={options.get('rows', 0):,} shrinkage={_format_value(options.get('shrinkage'))}"
            f" epsilon={_format_value(options.get('epsilon'))}\n"
            f"condition={kappa:.3g} residual={_format_value(options.get('residual'))}"
        )
        columns = f"{', '.join(group.columns)}\n-> {', '.join(group.outputs)}"
        table.add_row(group.name, group.method, columns, fit, "\n".join(group.warnings))
    return table


def lock_table(lock: Lock) -> Any:
    """A rich renderable describing the lock."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, expand=False)
    for header in ("feature", "method", "parameters", "training reference", "warnings"):
        table.add_column(header, overflow="fold")
    features = list(lock.features) + ([lock.target] if lock.target is not None else [])
    for feature in features:
        chain, params = step_text(feature)
        ref = feature.reference
        reference = (
            f"n={ref['count']:,} missing={ref['nan']:,}\n"
            f"min={_format_value(ref['min'])} max={_format_value(ref['max'])}\n"
            f"mean={_format_value(ref['mean'])} std={_format_value(ref['std'])}"
        )
        name = feature.name + (" (target)" if feature is lock.target else "")
        table.add_row(
            name, chain, params, reference, Text("\n".join(feature.warnings), style="yellow")
        )
    model = lock.model or {}
    header = Text.assemble(
        ("lock ", "bold"),
        (lock.fingerprint[:16], "cyan"),
        f"  fitted {lock.created_at} on {_fitted_on(lock)}",
        f" from {', '.join(lock.provenance.get('sources', []))}",
        f"  model {model.get('name')}@{model.get('version', '-')}" if model else "",
    )
    parts: list[Any] = [header]
    domain = domain_of(lock)
    if domain is not None:
        settings = ", ".join(f"{k}={v}" for k, v in domain.items() if k != "kind")
        parts.append(Text(f"{domain['kind']} lock: {settings}", style="bold"))
    parts.append(table)
    if lock.groups:
        parts.append(_group_table(lock))
    if lock.passthrough:
        parts.append(Text(f"passthrough: {', '.join(lock.passthrough)}", style="dim"))
    return Group(*parts)


def diff_table(result: LockDiff) -> Any:
    """A rich renderable of a lock diff, with a one-line verdict."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if not result.changes:
        return Text("identical: the locks have the same fingerprint", style="green")
    table = Table(show_lines=False)
    for header in ("feature", "what", "A", "B", "change", "transform"):
        table.add_column(header, overflow="fold")
    for change in result.changes:
        relative = "" if change.relative is None else f"{change.relative:+.4g}"
        table.add_row(
            change.feature,
            f"{change.kind} {change.key}".strip(),
            _format_value(change.old) if change.old is not None else "-",
            _format_value(change.new) if change.new is not None else "-",
            relative,
            "[red]changes outputs[/]" if change.affects_transform else "reference only",
        )
    verdict = (
        Text("the locks transform data differently", style="bold red")
        if result.transforms_differ
        else Text("same transform; only reference statistics differ", style="yellow")
    )
    return Group(table, verdict)
