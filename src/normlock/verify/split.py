"""Was the lock fitted before the train/holdout split? Refit and compare, exactly.

The lock's spec is fitted again on the training split alone and on training plus
holdout. Fits are exact and partition-proof, so the data a lock was really fitted on
gives back its statistics bit for bit: each locked feature's parameters and reference
statistics (count, missing, min, max, mean, std) are compared with both refits
(:func:`normlock.diff.diff_locks`), and the verdict names the one that matches.

Quantiles come from the values themselves or from a sample of rows chosen by their
content, so they too are reproduced bit for bit; the refits use the lock's own
``exact_limit`` (recorded in its provenance), which decides which of the two a step read.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import chain
from typing import Any

from normlock.diff import diff_locks
from normlock.errors import ColumnNotFoundError, InputError, NormlockWarning
from normlock.frames import read_columns
from normlock.lock import Lock
from normlock.stats import DEFAULT_EXACT_LIMIT
from normlock.verify.cause import json_number
from normlock.verify.data import chunks_of

CANDIDATES = ("train", "train+holdout")


@dataclass(frozen=True)
class FeatureMatch:
    """How one locked feature compares with each refit.

    Attributes:
        feature: the feature name.
        matches: candidate -> whether its parameters are bit-identical.
        differences: candidate -> largest relative difference of a statistic (0 when
            equal).
    """

    feature: str
    matches: dict[str, bool]
    differences: dict[str, float]


@dataclass(frozen=True)
class SplitReport:
    """The verdict of :func:`compare_split`.

    Attributes:
        verdict: ``train`` (fitted on the training split only), ``train+holdout`` (fitted
            before the split: leakage) or ``neither`` (fitted on other data).
        features: per-feature comparisons.
        train_rows: rows of the training split.
        holdout_rows: rows of the holdout split.
    """

    verdict: str
    features: tuple[FeatureMatch, ...]
    train_rows: int
    holdout_rows: int

    @property
    def leaked(self) -> bool:
        """True unless the statistics are those of the training split alone."""
        return self.verdict != "train"

    def describe(self) -> str:
        """One paragraph in plain words."""
        if self.verdict == "train":
            return (
                f"ok: the lock's statistics are exactly those of the training split "
                f"({self.train_rows:,} rows), without the holdout"
            )
        if self.verdict == "train+holdout":
            return (
                f"LEAKAGE: the lock's statistics are exactly those of training + holdout "
                f"({self.train_rows:,} + {self.holdout_rows:,} rows): it was fitted before the "
                "split; refit it on the training split only"
            )
        closest = [min(CANDIDATES, key=lambda c: f.differences[c]) for f in self.features]
        counts = ", ".join(f"{c} for {closest.count(c)}" for c in CANDIDATES if c in closest)
        return (
            "the lock's statistics match neither the training split nor training + holdout "
            f"(closest: {counts} of {len(closest)} features): it was fitted on other data"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "verdict": self.verdict,
            "leaked": self.leaked,
            "train_rows": self.train_rows,
            "holdout_rows": self.holdout_rows,
            "features": [
                {
                    "feature": f.feature,
                    "matches": f.matches,
                    "differences": {k: json_number(v) for k, v in f.differences.items()},
                }
                for f in self.features
            ],
        }


def _refit(lock: Lock, sources: list[Any]) -> tuple[Lock, int]:
    from normlock.fitting import fit

    target = lock.target.name if lock.target is not None else None
    columns = list(lock.columns) + ([target] if target else [])
    factories = [chunks_of(s, columns) for s in sources]

    def chunks() -> Any:
        for chunk in chain.from_iterable(f() for f in factories):
            read = read_columns(chunk, default_names=columns)
            missing = [name for name in columns if name not in read.arrays]
            if missing:
                raise ColumnNotFoundError.from_missing(missing, read.names, where="the split")
            yield {name: read.arrays[name] for name in columns}

    spec = {k: v for k, v in lock.spec.items() if k != "target"}
    limit = int(lock.provenance.get("exact_limit", DEFAULT_EXACT_LIMIT))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NormlockWarning)
        refit = fit(
            chunks,
            spec or None,
            target=target,
            target_spec=lock.spec.get("target"),
            exact_limit=limit,
        )
    return refit, int(refit.provenance["rows"])


def _comparison(lock: Lock, candidate: Lock) -> dict[str, tuple[bool, float]]:
    found = {name: (True, 0.0) for name in lock.feature_names}
    for change in diff_locks(lock, candidate).changes:
        if change.feature in found:
            _, largest = found[change.feature]
            size = abs(change.relative) if change.relative is not None else float("inf")
            found[change.feature] = (False, max(largest, size))
    return found


def compare_split(lock: Lock, train: Any, holdout: Any) -> SplitReport:
    """Say whether ``lock`` was fitted on ``train`` alone or on ``train`` + ``holdout``.

    Args:
        lock: the lock to check.
        train: the training split (any data :func:`~normlock.verify.leakage.chunks_of`
            reads), with the lock's columns (and target, if it has one).
        holdout: the validation or test split.

    Raises:
        InputError: a split lacks a column the lock needs, or is empty.
    """
    train_lock, train_rows = _refit(lock, [train])
    both_lock, both_rows = _refit(lock, [train, holdout])
    if both_rows == train_rows:
        raise InputError("the holdout split has no rows: nothing to tell apart")
    by_candidate = {
        "train": _comparison(lock, train_lock),
        "train+holdout": _comparison(lock, both_lock),
    }
    features = tuple(
        FeatureMatch(
            name,
            {c: by_candidate[c][name][0] for c in CANDIDATES},
            {c: by_candidate[c][name][1] for c in CANDIDATES},
        )
        for name in lock.feature_names
    )
    verdict = next((c for c in CANDIDATES if all(f.matches[c] for f in features)), "neither")
    return SplitReport(verdict, features, train_rows, both_rows - train_rows)
