"""``verify``: run the lock's probes (and optional data) through a serving step and report
per feature how far its outputs are from the lock's, and why.

Runs: the float64 probes and the float32 probes (those the target takes), then the
user's data if given. Each run is a matrix with one column per feature in lock order;
features with fewer probes repeat theirs. A target's output is read back by feature
name when it has names, else by position, and rounded to the run's dtype (a change of
dtype is noted, not failed: the model sees the run's dtype either way).

The verdict has three levels: the outputs are the lock's bits (*identical*); they differ
only as rounding explains, value by value (*equivalent up to rounding*, see
:mod:`normlock.verify.rounding`), which passes unless ``exact=True``; or they differ by
more (*mismatch*), and :func:`~normlock.verify.diagnose.diagnose` names the likely
cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from normlock.chain import as_float64
from normlock.errors import NormlockError
from normlock.frames import is_container, read_columns
from normlock.lock import Lock
from normlock.verify.cause import Cause, Observation, json_number
from normlock.verify.compare import Comparison, Tolerance, compare
from normlock.verify.data import feature_columns
from normlock.verify.diagnose import diagnose
from normlock.verify.rounding import rounding_bound
from normlock.verify.targets import Target, TargetError, resolve_target


@dataclass(frozen=True)
class FeatureParity:
    """One feature in one run.

    Attributes:
        feature: the feature name.
        run: ``float64 probes``, ``float32 probes`` or ``data``.
        dtype: the run's float dtype.
        count: values compared.
        differing: values that are not the lock's.
        failing: values beyond the tolerance.
        max_abs_error: largest absolute difference (``inf`` for NaN against a number).
        max_ulp: largest difference in ulps of ``max(|expected|, 1)`` in the run's dtype
            (see :class:`~normlock.verify.compare.Comparison`).
        rounding_share: largest difference as a share of the rounding bound (above 1:
            more than rounding explains).
        tolerance: the tolerance applied.
        worst: ``(input, expected, got)`` of the value nearest to, or furthest beyond,
            the rounding bound.
        cause: the likely cause when the feature fails, else None.
    """

    feature: str
    run: str
    dtype: str
    count: int
    differing: int
    failing: int
    max_abs_error: float
    max_ulp: float
    rounding_share: float
    tolerance: Tolerance
    worst: tuple[float, float, float]
    cause: Cause | None = None

    @classmethod
    def of(
        cls,
        feature: str,
        run: str,
        dtype: str,
        found: Comparison,
        tolerance: Tolerance,
        cause: Cause | None,
    ) -> FeatureParity:
        """The entry of a :class:`~normlock.verify.compare.Comparison`."""
        return cls(
            feature=feature,
            run=run,
            dtype=dtype,
            count=found.count,
            differing=found.differing,
            failing=found.failing,
            max_abs_error=found.max_abs_error,
            max_ulp=found.max_ulp,
            rounding_share=found.rounding_share,
            tolerance=tolerance,
            worst=found.worst,
            cause=cause,
        )

    @property
    def passed(self) -> bool:
        """True when every value is within the tolerance."""
        return self.failing == 0

    @property
    def identical(self) -> bool:
        """True when every value is the lock's."""
        return self.differing == 0

    @property
    def status(self) -> str:
        """``identical``, ``equivalent`` (up to rounding) or ``mismatch``."""
        return "identical" if self.identical else "equivalent" if self.passed else "mismatch"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers as strings)."""
        return {
            "feature": self.feature,
            "run": self.run,
            "dtype": self.dtype,
            "count": self.count,
            "status": self.status,
            "passed": self.passed,
            "differing": self.differing,
            "failing": self.failing,
            "max_abs_error": json_number(self.max_abs_error),
            "max_ulp": json_number(self.max_ulp),
            "rounding_share": json_number(self.rounding_share),
            "tolerance": self.tolerance.kind,
            "tolerance_ulps": self.tolerance.ulps,
            "worst": dict(
                zip(("input", "expected", "got"), map(json_number, self.worst), strict=True)
            ),
            "cause": None if self.cause is None else self.cause.to_dict(),
        }


@dataclass(frozen=True)
class ParityReport:
    """The result of :func:`verify`.

    Attributes:
        fingerprint: the lock's fingerprint.
        target: what was verified.
        results: one entry per feature and run.
        notes: facts about the target and the runs (layouts, casts, skipped dtypes).
    """

    fingerprint: str
    target: str
    results: tuple[FeatureParity, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every feature matches in every run (identical, or equivalent up to
        rounding unless bit identity was asked for)."""
        return all(r.passed for r in self.results)

    @property
    def identical(self) -> bool:
        """True when every output is the lock's, bit for bit."""
        return all(r.identical for r in self.results)

    @property
    def verdict(self) -> str:
        """``identical``, ``equivalent`` (up to rounding; not bit-identical) or ``mismatch``."""
        return "identical" if self.identical else "equivalent" if self.passed else "mismatch"

    @property
    def rounded(self) -> tuple[FeatureParity, ...]:
        """The passing (feature, run) entries that are not bit-identical."""
        return tuple(r for r in self.results if r.passed and not r.identical)

    @property
    def mismatches(self) -> tuple[FeatureParity, ...]:
        """The failing (feature, run) entries."""
        return tuple(r for r in self.results if not r.passed)

    def causes(self) -> dict[str, list[str]]:
        """Per failing feature, the distinct cause messages of its failing runs."""
        found: dict[str, list[str]] = {}
        for result in self.mismatches:
            assert result.cause is not None
            messages = found.setdefault(result.feature, [])
            if result.cause.message not in messages:
                messages.append(result.cause.message)
        return found

    def headline(self) -> str:
        """The verdict in one line."""
        if self.passed:
            runs = ", ".join(sorted({r.run for r in self.results}))
            if self.identical:
                return f"parity: {self.target} reproduces the lock bit for bit ({runs})"
            tolerance = self.results[0].tolerance
            how = (
                "equivalent to the lock up to rounding"
                if tolerance.kind == "rounding"
                else f"within {tolerance.describe()} of the lock"
            )
            return f"parity: {self.target} is {how}; not bit-identical ({runs})"
        failing = {r.feature for r in self.mismatches}
        return (
            f"parity FAILED: {self.target} differs from the lock on {len(failing)} of "
            f"{len({r.feature for r in self.results})} feature(s)"
        )

    def summary(self) -> str:
        """A plain-text account: the verdict, then each failing feature and its causes
        (when passing: each feature whose outputs differ), then the notes."""
        lines = [self.headline()]
        if self.passed:
            lines += [f"- {r.feature}: {_differing(r)}" for r in self.rounded]
        for feature, messages in self.causes().items():
            for message in messages:
                runs = "; ".join(
                    f"{r.run}: {r.failing}/{r.count} off, max abs error {r.max_abs_error:.3g}, "
                    f"{r.max_ulp:.3g} ulp, {r.rounding_share:.3g} x the rounding bound"
                    for r in self.mismatches
                    if r.feature == feature and r.cause is not None and r.cause.message == message
                )
                lines.append(f"- {feature}: {message} [{runs}]")
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "fingerprint": self.fingerprint,
            "target": self.target,
            "verdict": self.verdict,
            "passed": self.passed,
            "identical": self.identical,
            "causes": self.causes(),
            "results": [r.to_dict() for r in self.results],
            "notes": list(self.notes),
        }


def _differing(result: FeatureParity) -> str:
    return (
        f"{result.run}: {result.differing}/{result.count} values differ, by at most "
        f"{result.rounding_share:.2g} of the rounding bound (max abs error "
        f"{result.max_abs_error:.3g}, {result.max_ulp:.3g} ulp)"
    )


@dataclass(frozen=True)
class _Run:
    label: str
    dtype: str
    inputs: np.ndarray  # rows x features, in the run's dtype


def verify(
    lock: Lock,
    target: Any,
    data: Any = None,
    *,
    exact: bool = False,
    ulps: int | None = None,
    probes: bool = True,
    feed: str = "matrix",
    trust_pickle: bool = False,
    trusted_types: Sequence[str] = (),
) -> ParityReport:
    """Check a serving step against ``lock``.

    Args:
        lock: the lock the serving step should reproduce.
        target: a callable, ONNX model, torch module or scikit-learn estimator, or a
            reference to one (see :mod:`normlock.verify.targets`).
        data: optional extra rows (any container the lock reads) to run as well.
        exact: require the lock's outputs bit for bit; by default a difference that
            rounding explains passes (see :mod:`normlock.verify.rounding`).
        ulps: instead of the rounding bound, allow a flat difference of this many units
            in the last place of ``max(|expected|, 1)`` (0: bit identity).
        probes: run the lock's probes (turn off to check ``data`` alone).
        feed: how plain callables get the rows: ``"matrix"`` or ``"columns"`` (a dict).
        trust_pickle: allow pickle/joblib targets.
        trusted_types: extra type names a skops file may contain.

    Returns:
        The :class:`ParityReport`: ``report.verdict`` is ``identical``, ``equivalent``
        (up to rounding) or ``mismatch``; ``report.passed`` is False only for a mismatch.

    Raises:
        TargetError: the target cannot be loaded, or fails on every dtype.
    """
    if getattr(lock, "groups", ()):
        raise TargetError(
            "verify compares each column's chain; this lock's whitening groups "
            f"({', '.join(g.name for g in lock.groups)}) mix columns, which it does not cover "
            "yet: compare lock.transform(x) with the serving output on your rows (the torch "
            "and ONNX exports give its bits)"
        )
    tolerance = tolerance_of(exact, ulps)
    names = list(lock.feature_names)
    resolved = resolve_target(
        target, names, feed=feed, trust_pickle=trust_pickle, trusted_types=trusted_types
    )
    runs = (_probe_runs(lock, resolved) if probes else []) + _data_runs(lock, data, resolved)
    if not runs:
        raise TargetError("nothing to verify: probes are off and no data was given")
    notes = list(resolved.notes)
    results: list[FeatureParity] = []
    failures: list[str] = []
    for run in runs:
        try:
            got = _read_output(resolved.run(run.inputs), names, run, notes)
        except NormlockError as exc:
            failures.append(f"{run.label}: {exc}")
            continue
        except Exception as exc:  # the target's own failure
            failures.append(f"{run.label}: the target raised {type(exc).__name__}: {exc}")
            continue
        results.extend(_compare_run(lock, run, got, tolerance))
    if not results:
        raise TargetError(f"{resolved.description} failed on every run: " + "; ".join(failures))
    notes += [f"not run: {f}" for f in failures]
    return ParityReport(lock.fingerprint, resolved.description, tuple(results), tuple(notes))


def tolerance_of(exact: bool, ulps: int | None) -> Tolerance:
    """The :class:`Tolerance` of ``exact`` / ``ulps`` (see :func:`verify`)."""
    if ulps is not None and (isinstance(ulps, bool) or not isinstance(ulps, int) or ulps < 0):
        raise TargetError(f"ulps must be a non-negative integer, got {ulps!r}")
    if exact and ulps is not None:
        raise TargetError("exact and ulps exclude each other: exact is bit identity")
    if exact:
        return Tolerance("exact")
    return Tolerance() if ulps is None else Tolerance("ulps", ulps)


def _probe_runs(lock: Lock, target: Target) -> list[_Run]:
    probes = lock.probes()
    runs = []
    for dtype, key in (("float64", "input"), ("float32", "input_float32")):
        if dtype not in target.dtypes:
            continue
        columns = [np.array(probes[name][key], dtype=dtype) for name in lock.feature_names]
        rows = max(len(c) for c in columns)
        matrix = np.column_stack([np.resize(c, rows) for c in columns]).astype(dtype)
        runs.append(_Run(f"{dtype} probes", dtype, matrix))
    return runs


def _data_runs(lock: Lock, data: Any, target: Target) -> list[_Run]:
    if data is None:
        return []
    if not is_container(data):
        raise TargetError(f"data must be a frame, a dict of columns or an array, got {data!r:.60}")
    columns = feature_columns(data, lock, "the data to verify")
    dtype = "float32" if all(c.dtype == np.float32 for c in columns.values()) else "float64"
    label = "data"
    if dtype not in target.dtypes:
        dtype, label = target.dtypes[0], f"data (as {target.dtypes[0]})"
    matrix = np.column_stack([as_float64(n, c) for n, c in columns.items()])
    return [_Run(label, dtype, matrix.astype(dtype))]


def _read_output(out: Any, names: list[str], run: _Run, notes: list[str]) -> np.ndarray:
    """The target's output as a rows x features matrix in the run's dtype."""
    if type(out).__module__.split(".")[0] == "torch" and hasattr(out, "detach"):
        tensor = out.detach().cpu()
        out = (tensor.float() if tensor.dtype.itemsize < 4 else tensor).numpy()
    rows = run.inputs.shape[0]
    if is_container(out) and not isinstance(out, np.ndarray):
        read = read_columns(out)
        missing = [n for n in names if n not in read.arrays]
        if missing:
            raise TargetError(
                f"the target's output lacks column(s) {missing} (it has {list(read.names)})"
            )
        matrix = np.column_stack([np.asarray(read.arrays[n]) for n in names])
    else:
        matrix = np.asarray(out)
        if matrix.ndim == 1 and len(names) == 1:
            matrix = matrix.reshape(-1, 1)
    if matrix.shape != (rows, len(names)):
        raise TargetError(
            f"the target returned shape {matrix.shape} for a {rows} x {len(names)} input; "
            "it must return one value per input value"
        )
    if matrix.dtype != np.dtype(run.dtype):
        note = f"the target returns {matrix.dtype} for {run.dtype} input ({run.label})"
        if note not in notes:
            notes.append(note)
    with np.errstate(over="ignore"):  # a float64 output too large for float32 becomes inf
        return matrix.astype(run.dtype)


def _compare_run(
    lock: Lock, run: _Run, got: np.ndarray, tolerance: Tolerance
) -> list[FeatureParity]:
    expected = {f.name: f.apply(run.inputs[:, j]) for j, f in enumerate(lock.features)}
    outputs = {n: v.astype(np.float64) for n, v in expected.items()}
    results = []
    for j, feature in enumerate(lock.features):
        x = run.inputs[:, j]
        rounding = rounding_bound(feature, x, run.dtype)
        found = compare(x, expected[feature.name], got[:, j], rounding, tolerance)
        cause = None
        if found.failing:
            seen = Observation(
                feature.name,
                np.dtype(run.dtype),
                x.astype(np.float64),
                outputs[feature.name],
                got[:, j].astype(np.float64),
                outputs,
                rounding,
            )
            cause = diagnose(lock, seen)
        results.append(
            FeatureParity.of(feature.name, run.label, run.dtype, found, tolerance, cause)
        )
    return results
