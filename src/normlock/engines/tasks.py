"""What an engine runs on each partition, and how it merges the results.

The functions here know nothing of the engine: a partition is an iterable of chunks
that :func:`~normlock.frames.read_columns` reads (a pandas frame, Arrow record batches,
numpy blocks), numbered for messages. Errors name the partition: ``partition 3: ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

from normlock.chain import Step
from normlock.errors import NO_ORIGIN, NormlockError, Origin
from normlock.fitting import Replay, _replayer
from normlock.frames import read_columns
from normlock.lock import Extra, Lock
from normlock.partial import FeatureState, PartialFit, run_steps
from normlock.profile import Profile
from normlock.spec import Spec
from normlock.stats import Summary

T = TypeVar("T")
E = TypeVar("E", bound=NormlockError)


@dataclass(frozen=True)
class FitOptions:
    """The arguments of :class:`~normlock.partial.PartialFit`, sent to every partition."""

    spec: Spec
    target: str | None
    target_spec: Any
    exact_limit: int
    names: list[str] | None

    def new(self) -> PartialFit:
        """An empty partial fit."""
        return PartialFit(
            self.spec,
            target=self.target,
            target_spec=self.target_spec,
            exact_limit=self.exact_limit,
            names=self.names,
        )


def in_partition(index: int, error: E) -> E:
    """``error`` with its message prefixed by ``partition <index>: ``."""
    return type(error)(f"partition {index}: {error}")


def fit_partition(chunks: Iterable[Any], options: FitOptions, index: int) -> PartialFit:
    """The partial fit of one partition's chunks."""
    partial = options.new()
    try:
        for number, chunk in enumerate(chunks):
            partial.update(chunk, Origin(None, partial.rows), number)
    except NormlockError as exc:
        raise in_partition(index, exc) from None
    return partial


def profile_partition(chunks: Iterable[Any], empty: Profile, index: int) -> Profile:
    """The profile of one partition's chunks, from the lock's empty profile."""
    profile = empty
    try:
        for chunk in chunks:
            profile = profile.update(chunk)
    except NormlockError as exc:
        raise in_partition(index, exc) from None
    return profile


def summarize_partition(
    chunks: Iterable[Any],
    name: str,
    steps: Sequence[Step],
    exact_limit: int,
    names: list[str] | None,
    index: int,
) -> Summary:
    """The summary of one feature's finite values after ``steps``, on one partition (the
    second read that a chain's later step needs past ``exact_limit``)."""
    summary = Summary.empty(exact_limit)
    try:
        for chunk in chunks:
            raw = read_columns(chunk, names).arrays[name]
            finite = raw[np.isfinite(raw.astype(np.float64))]
            summary = summary.update(run_steps(name, list(steps), finite, NO_ORIGIN))
    except NormlockError as exc:
        raise in_partition(index, exc) from None
    return summary


@lru_cache(maxsize=4)
def lock_of(text: str) -> Lock:
    """The lock a partition applies, read from its JSON (once per worker process): locks
    travel to the workers as their own sealed artifact."""
    return Lock.from_json(text, source="the lock sent to the workers")


def transform_chunk(text: str, chunk: T, index: int, extra: Extra = "error") -> T:
    """``chunk`` normalized by the lock whose JSON is ``text``."""
    try:
        return lock_of(text).transform(chunk, extra=extra)
    except NormlockError as exc:
        raise in_partition(index, exc) from None


def tree_merge(items: Sequence[T], merge: Callable[[T, T], T]) -> T:
    """Merge ``items`` pairwise, level by level (a balanced tree of depth log2 n)."""
    if not items:
        raise ValueError("nothing to merge")
    level = list(items)
    while len(level) > 1:
        pairs = [merge(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def engine_replayer(summarize: Callable[[str, list[Step]], Summary], options: FitOptions) -> Replay:
    """How a chain's later step reads its input again: from the values the partial fit
    kept, else by ``summarize`` (a second pass of the engine over the partitions)."""
    kept = _replayer(None, options.names, options.exact_limit)

    def replay(state: FeatureState, steps: list[Step]) -> Summary:
        if state.values is not None:
            return kept(state, steps)
        return summarize(state.spec.name, steps)

    return replay
