"""Suite-wide settings: hypothesis profiles, and no silently skipped test."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test hides a missing dependency or service: make it fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and not os.environ.get("NORMLOCK_ALLOW_SKIPS"):
        reporter.write_line(
            f"{len(skipped)} test(s) skipped: every test must run (install the test extras)",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


pytest_plugins = ["tests.registry.backends", "tests.engines.sessions"]
