"""The ``groups`` of a spec: columns whitened together.

A spec's top-level ``groups`` is a list beside ``features``::

    groups:
      - columns: [height, weight, age]
        method: zca            # pca | zca | cholesky
        epsilon: 1.0e-8        # added to the covariance's diagonal (default 0)
        standardize: true      # whiten the correlations (columns on far-apart scales)
        shrinkage: ledoit-wolf # or a share in [0, 1] (default 0)
      - columns: [x1, x2, x3, x4]
        method: pca
        components: 2          # or variance: 0.95 (pca only)
        outputs: [pc1, pc2]    # pca's output names (default <name>_pc1, ...)

Each column is in at most one group. A grouped column's own ``features`` entry, if any,
may hold only steps that need no data (``log1p``, a ``clip`` with fixed bounds): the group
whitens their output. A group's ``nan`` policy is ``keep`` (a row with a NaN gives NaN
outputs, and the fit leaves it out) or ``error``; ``inf`` is ``error`` or ``keep``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from normlock.errors import SpecError
from normlock.methods.whitening import METHODS

_KEYS = {
    "columns",
    "method",
    "epsilon",
    "shrinkage",
    "components",
    "variance",
    "ddof",
    "standardize",
    "name",
    "outputs",
    "nan",
    "inf",
}
LEDOIT_WOLF = "ledoit-wolf"


@dataclass(frozen=True)
class GroupSpec:
    """One group as written, validated.

    Attributes:
        name: the group's name (``group0``, ... by default).
        columns: its input columns, in order.
        method: ``pca``, ``zca`` or ``cholesky``.
        epsilon: added to the covariance's diagonal.
        shrinkage: a share in ``[0, 1]``, or ``"ledoit-wolf"``.
        components: for pca, how many components to keep (None: by ``variance``, or all).
        variance: for pca, the share of the variance the kept components hold.
        ddof: the covariance's delta degrees of freedom (1 by default).
        standardize: pca and zca of the correlation matrix (columns on scales far apart).
        outputs: pca's output names (empty: ``<name>_pc1``, ...).
        nan: ``keep`` or ``error``.
        inf: ``error`` or ``keep``.
    """

    name: str
    columns: tuple[str, ...]
    method: str
    epsilon: float = 0.0
    shrinkage: float | str = 0.0
    components: int | None = None
    variance: float | None = None
    ddof: int = 1
    standardize: bool = False
    outputs: tuple[str, ...] = ()
    nan: str = "keep"
    inf: str = "error"

    def output_names(self, kept: int) -> tuple[str, ...]:
        """The names of the group's ``kept`` outputs: the inputs' own for zca and cholesky."""
        if self.method != "pca":
            return self.columns
        if self.outputs:
            return self.outputs[:kept]
        return tuple(f"{self.name}_pc{i + 1}" for i in range(kept))

    def as_written(self) -> dict[str, Any]:
        """The JSON-ready entry."""
        entry: dict[str, Any] = {
            "name": self.name,
            "columns": list(self.columns),
            "method": self.method,
            "epsilon": self.epsilon,
            "shrinkage": self.shrinkage,
            "ddof": self.ddof,
            "standardize": self.standardize,
            "nan": self.nan,
            "inf": self.inf,
        }
        if self.components is not None:
            entry["components"] = self.components
        if self.variance is not None:
            entry["variance"] = self.variance
        if self.outputs:
            entry["outputs"] = list(self.outputs)
        return entry


def parse_groups(raw: Any) -> tuple[GroupSpec, ...]:
    """The validated groups of a spec's ``groups`` list (None: no groups)."""
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise SpecError(f"'groups' must be a list of groups, got {raw!r}")
    groups = tuple(_parse(index, entry) for index, entry in enumerate(raw))
    owner: dict[str, str] = {}
    for group in groups:
        for column in group.columns:
            if column in owner:
                raise SpecError(
                    f"column {column!r} is in groups {owner[column]!r} and {group.name!r}; "
                    "a column can be in at most one group"
                )
            owner[column] = group.name
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise SpecError(f"group names must differ, got {names}")
    return groups


def _parse(index: int, entry: Any) -> GroupSpec:
    where = f"group {index}"
    if not isinstance(entry, Mapping):
        raise SpecError(f"{where} must be a mapping with 'columns' and 'method', got {entry!r}")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(_KEYS)}")
    name = entry.get("name", f"group{index}")
    if not isinstance(name, str) or not name:
        raise SpecError(f"{where}: 'name' must be a non-empty string, got {name!r}")
    where = f"group {name!r}"
    columns = entry.get("columns")
    if (
        not isinstance(columns, Sequence)
        or isinstance(columns, str)
        or not columns
        or not all(isinstance(c, str) for c in columns)
    ):
        raise SpecError(f"{where}: 'columns' must be a non-empty list of column names")
    if len(set(columns)) != len(columns):
        raise SpecError(f"{where}: 'columns' names a column twice: {list(columns)}")
    method = entry.get("method")
    if method not in METHODS:
        raise SpecError(f"{where}: 'method' must be one of {list(METHODS)}, got {method!r}")
    pca_only = [k for k in ("components", "variance", "outputs") if k in entry]
    if method != "pca" and pca_only:
        raise SpecError(f"{where}: {pca_only} apply to method 'pca' only")
    if "components" in entry and "variance" in entry:
        raise SpecError(f"{where}: give 'components' or 'variance', not both")
    components = entry.get("components")
    if components is not None and (
        not isinstance(components, int) or isinstance(components, bool) or components < 1
    ):
        raise SpecError(f"{where}: 'components' must be a positive integer, got {components!r}")
    if components is not None and components > len(columns):
        raise SpecError(
            f"{where}: 'components' is {components} but the group has {len(columns)} columns"
        )
    variance = entry.get("variance")
    if variance is not None:
        variance = _share(where, "variance", variance, open_low=True)
    kept = len(columns) if variance is not None else (components or len(columns))
    outputs = _outputs(where, entry.get("outputs", ()), kept)
    return GroupSpec(
        name=name,
        columns=tuple(columns),
        method=method,
        epsilon=_epsilon(where, entry.get("epsilon", 0.0)),
        shrinkage=_shrinkage(where, entry.get("shrinkage", 0.0)),
        components=components,
        variance=variance,
        ddof=_ddof(where, entry.get("ddof", 1)),
        standardize=_flag(where, "standardize", entry.get("standardize", False)),
        outputs=outputs,
        nan=_choice(where, "nan", entry.get("nan", "keep"), ("keep", "error")),
        inf=_choice(where, "inf", entry.get("inf", "error"), ("error", "keep")),
    )


def _outputs(where: str, value: Any, kept: int) -> tuple[str, ...]:
    """pca's output names: one per kept component (per column with ``variance``)."""
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not all(isinstance(o, str) and o for o in value)
    ):
        raise SpecError(f"{where}: 'outputs' must be a list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise SpecError(f"{where}: 'outputs' names an output twice: {list(value)}")
    if value and len(value) != kept:
        raise SpecError(f"{where}: 'outputs' has {len(value)} names for {kept} outputs")
    return tuple(value)


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(f"{where}: {key!r} must be a finite number, got {value!r}")
    return float(value)


def _epsilon(where: str, value: Any) -> float:
    epsilon = _number(where, "epsilon", value)
    if epsilon < 0:
        raise SpecError(f"{where}: 'epsilon' must be >= 0, got {value!r}")
    return epsilon


def _share(where: str, key: str, value: Any, *, open_low: bool = False) -> float:
    share = _number(where, key, value)
    if not (0.0 < share <= 1.0 if open_low else 0.0 <= share <= 1.0):
        bounds = "(0, 1]" if open_low else "[0, 1]"
        raise SpecError(f"{where}: {key!r} must be in {bounds}, got {value!r}")
    return share


def _shrinkage(where: str, value: Any) -> float | str:
    if value in (LEDOIT_WOLF, "ledoit_wolf", "lw"):
        return LEDOIT_WOLF
    if value in (None, "none"):
        return 0.0
    if isinstance(value, str):
        raise SpecError(
            f"{where}: 'shrinkage' must be a share in [0, 1] or 'ledoit-wolf', got {value!r}"
        )
    return _share(where, "shrinkage", value)


def _ddof(where: str, value: Any) -> int:
    if value not in (0, 1) or isinstance(value, bool):
        raise SpecError(f"{where}: 'ddof' must be 0 or 1, got {value!r}")
    return int(value)


def _flag(where: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{where}: {key!r} must be true or false, got {value!r}")
    return value


def _choice(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SpecError(f"{where}: {key!r} must be one of {list(allowed)}, got {value!r}")
    return str(value)
