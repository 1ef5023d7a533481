"""Locks from fitted Spark ML scalers: :func:`from_spark`.

Each scaler's fitted vectors become the parameters of the matching method:

* ``StandardScalerModel`` -> ``standard`` (``mean``, ``std``; Spark's std is the sample
  standard deviation, ``ddof=1``, which the lock records),
* ``MinMaxScalerModel`` -> ``minmax`` (``originalMin``, ``originalMax``, the output
  range ``min``..``max``),
* ``MaxAbsScalerModel`` -> ``maxabs`` (``maxAbs``),
* ``RobustScalerModel`` -> ``robust`` (``median``, ``range``, ``lower``..``upper``).

Spark scales a vector column; the lock names its entries after the columns the
``VectorAssembler`` of a ``PipelineModel`` assembled, or after ``names``. Spark
multiplies by a reciprocal (min-max: by ``(max - min) / range``) where the lock divides
by the scale: the two differ by an ulp or two (``lock.verify(spark_fn, ulps=2)``). Spark maps a
constant column to 0 (min-max: to the middle of the range) where a lock keeps
``x - center``; importing such a column is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from normlock.chain import Step
from normlock.errors import InputError
from normlock.export.imported import floats, imported_lock
from normlock.lock import Lock

_SCALERS = ("StandardScalerModel", "MinMaxScalerModel", "MaxAbsScalerModel", "RobustScalerModel")
_SAMPLE_STD = "Spark's std is the sample standard deviation (ddof=1)"


def from_spark(model: Any, *, names: Sequence[str] | None = None) -> Lock:
    """A lock that applies a fitted Spark ML scaler.

    Args:
        model: a fitted ``StandardScalerModel``, ``MinMaxScalerModel``,
            ``MaxAbsScalerModel`` or ``RobustScalerModel``, or a ``PipelineModel`` in which
            one of them scales the output of a ``VectorAssembler``.
        names: the names of the scaled vector's entries (default: the assembler's input
            columns, else ``x0, x1, ...``).

    Returns:
        An imported lock (reference count 0, provenance ``imported from ...``).

    Example:
        >>> from pyspark.ml.feature import StandardScaler  # doctest: +SKIP
        >>> model = StandardScaler(inputCol="v", withMean=True).fit(df)  # doctest: +SKIP
        >>> lock = from_spark(model, names=["age", "income"])  # doctest: +SKIP
    """
    scaler, assembled = _scaler(model)
    kind = type(scaler).__name__
    steps = _steps(scaler, kind)
    columns = _names(names if names is not None else assembled, len(steps))
    details: dict[str, Any] = {"params": _params(scaler)}
    if kind == "StandardScalerModel":
        details["std"] = _SAMPLE_STD
    for column, step in zip(columns, steps, strict=True):
        _check_not_constant(column, step, kind)
    return imported_lock(
        {c: [s] for c, s in zip(columns, steps, strict=True)},
        columns,
        source=f"pyspark.ml.feature.{kind}",
        details=details,
    )


def _scaler(model: Any) -> tuple[Any, list[str] | None]:
    """The scaler, and the assembled column names when a pipeline tells them."""
    kind = type(model).__name__
    if kind in _SCALERS:
        return model, None
    if kind != "PipelineModel":
        raise InputError(
            f"cannot import a {kind}: normlock imports {', '.join(_SCALERS)} and a "
            "PipelineModel of a VectorAssembler and one of them"
        )
    scalers = [s for s in model.stages if type(s).__name__ in _SCALERS]
    if len(scalers) != 1:
        raise InputError(
            f"the PipelineModel has {len(scalers)} scalers among its stages "
            f"{[type(s).__name__ for s in model.stages]}; import a pipeline with exactly one"
        )
    (scaler,) = scalers
    for stage in model.stages:
        if type(stage).__name__ == "VectorAssembler" and (
            stage.getOutputCol() == scaler.getInputCol()
        ):
            return scaler, [str(c) for c in stage.getInputCols()]
    return scaler, None


def _names(names: Sequence[str] | None, width: int) -> list[str]:
    if names is None:
        return [f"x{i}" for i in range(width)]
    names = [str(n) for n in names]
    if len(names) != width:
        raise InputError(f"names has {len(names)} entries but the scaler scales {width}")
    return names


def _steps(scaler: Any, kind: str) -> list[Step]:
    if kind == "StandardScalerModel":
        means, stds = floats(scaler.mean, "mean"), floats(scaler.std, "std")
        with_mean, with_std = bool(scaler.getWithMean()), bool(scaler.getWithStd())
        return [
            Step(
                "standard",
                {"with_mean": with_mean, "with_std": with_std, "ddof": 1, "mean": m, "std": s},
            )
            for m, s in zip(means, stds, strict=True)
        ]
    if kind == "MinMaxScalerModel":
        low, high = float(scaler.getMin()), float(scaler.getMax())
        lows, highs = floats(scaler.originalMin, "originalMin"), floats(scaler.originalMax, "max")
        return [
            Step("minmax", {"feature_range": [low, high], "clip": False, "min": a, "max": b})
            for a, b in zip(lows, highs, strict=True)
        ]
    if kind == "MaxAbsScalerModel":
        return [Step("maxabs", {"max_abs": m}) for m in floats(scaler.maxAbs, "maxAbs")]
    return _robust_steps(scaler)


def _robust_steps(scaler: Any) -> list[Step]:
    quantile_range = [float(scaler.getLower()) * 100, float(scaler.getUpper()) * 100]
    medians, ranges = floats(scaler.median, "median"), floats(scaler.range, "range")
    return [
        Step(
            "robust",
            {
                "with_centering": bool(scaler.getWithCentering()),
                "with_scaling": bool(scaler.getWithScaling()),
                "quantile_range": quantile_range,
                "unit_variance": False,
                "median": median,
                "q_low": None,
                "q_high": None,
                "iqr": width,
                "scale": width,
                "rank_error": float(scaler.getRelativeError()),
            },
        )
        for median, width in zip(medians, ranges, strict=True)
    ]


def _check_not_constant(column: str, step: Step, kind: str) -> None:
    params = step.params
    constant = {
        "standard": params.get("with_std") and params.get("std") == 0.0,
        "robust": params.get("with_scaling") and params.get("scale") == 0.0,
        "minmax": params.get("min") == params.get("max"),
    }.get(step.method, False)
    if constant:
        raise InputError(
            f"column {column!r} was constant when the {kind} was fitted: Spark maps it to "
            f"{'the middle of the range' if step.method == 'minmax' else '0'}, which a lock "
            "does not; drop the column before scaling, or fit the lock with normlock"
        )


def _params(scaler: Any) -> dict[str, Any]:
    """The scaler's settings that JSON can hold."""
    found = {p.name: v for p, v in scaler.extractParamMap().items()}
    return {k: v for k, v in sorted(found.items()) if isinstance(v, str | bool | int | float)}
