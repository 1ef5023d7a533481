"""The monitor: accumulate served batches into a profile, then report on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from normlock.errors import InputError, LockIntegrityError
from normlock.lock import Lock
from normlock.monitor.expected import check_stage
from normlock.monitor.findings import DriftReport
from normlock.monitor.thresholds import Thresholds
from normlock.profile import DEFAULT_PROFILE_EXACT_LIMIT, Profile, Stage


class Monitor:
    """Watches served data for one lock at one stage.

    ``update`` folds a batch into the monitor's :class:`~normlock.profile.Profile` (exact
    counts and moments, histogram counts on the lock's quantile edges, a quantile store);
    ``report`` compares the profile with the lock's reference. Monitors of replicas or time
    windows merge exactly.

    Example:
        >>> import numpy as np, normlock as nl
        >>> rng = np.random.default_rng(0)
        >>> lock = nl.fit({"grams": rng.normal(500, 50, 2000)})
        >>> monitor = lock.monitor()
        >>> monitor.update({"grams": rng.normal(500, 50, 300) / 1000})  # kilograms!
        >>> print(monitor.report().findings[0].kind)
        unit_change
    """

    def __init__(
        self,
        lock: Lock,
        stage: Stage = "raw",
        *,
        exact_limit: int = DEFAULT_PROFILE_EXACT_LIMIT,
        profile: Profile | None = None,
    ) -> None:
        self.lock = lock
        check_stage(lock, stage)
        if profile is None:
            profile = Profile.empty(lock, stage, exact_limit)
        elif (profile.fingerprint, profile.stage) != (lock.fingerprint, stage):
            raise InputError(
                f"the profile was recorded for lock {profile.fingerprint[:12]} at stage "
                f"{profile.stage!r}, not for lock {lock.fingerprint[:12]} at stage {stage!r}; "
                "monitor it with the lock and stage it was recorded for"
            )
        self._profile = profile

    @property
    def stage(self) -> Stage:
        """``raw`` (inputs of the lock) or ``normalized`` (inputs of the model)."""
        return self._profile.stage

    @property
    def profile(self) -> Profile:
        """Everything seen so far."""
        return self._profile

    def update(self, batch: Any) -> None:
        """Fold a served batch (any container the lock accepts) into the profile."""
        self._profile = self._profile.update(batch)

    def merge(self, other: Monitor | Profile) -> None:
        """Fold in another monitor's (or a stored profile's) values."""
        profile = other.profile if isinstance(other, Monitor) else other
        self._profile = self._profile.merge(profile)

    def report(self, thresholds: Thresholds | None = None) -> DriftReport:
        """Drift metrics and a diagnosis of everything seen (see :class:`DriftReport`)."""
        from normlock.monitor.analysis import build_report

        return build_report(self.lock, self._profile, thresholds)

    def prometheus(self, labels: dict[str, str] | None = None) -> str:
        """The profile in Prometheus text exposition format (counters and histograms)."""
        from normlock.monitor.prometheus import exposition

        return exposition(self.lock, self._profile, labels)

    def save_profile(self, path: str | os.PathLike[str]) -> Path:
        """Write the profile as JSON, atomically."""
        from normlock import artifact

        return artifact.write_atomic(path, artifact.canonical(self._profile.to_dict()) + "\n")


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read a profile written by :meth:`Monitor.save_profile`.

    Raises:
        InputError: the file is missing, not JSON, or not a profile.
    """
    from normlock import artifact

    source = str(path)
    remedy = "pass files written by `normlock monitor --profile-out` or Monitor.save_profile"
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = artifact.parse_value(text)
    except FileNotFoundError:
        raise InputError(f"profile file {source!r} does not exist") from None
    except (ValueError, LockIntegrityError) as exc:  # bad UTF-8 or bad JSON
        raise InputError(
            f"profile file {source!r} is not a JSON profile ({exc}); {remedy}"
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read profile file {source!r}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"profile file {source!r} holds no profile object; {remedy}")
    try:
        return Profile.from_dict(data)
    except InputError as exc:
        raise InputError(f"{source}: {exc}; {remedy}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"profile file {source!r} is damaged or incomplete ({exc})") from None
