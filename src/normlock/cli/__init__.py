"""The ``normlock`` command line: thin wrappers that parse, call the library, render.

Exit codes: 0 = fine, 1 = a finding (mismatch, drift, leakage), 2 = usage or input error.
Each module registers its commands on the shared :data:`app` when imported.
"""

from __future__ import annotations

from normlock.cli import advise as _advise  # noqa: F401 - registers advise
from normlock.cli import audit as _audit  # noqa: F401 - registers audit
from normlock.cli import core  # noqa: F401 - registers the core commands
from normlock.cli import leakage as _leakage  # noqa: F401 - registers check-leakage
from normlock.cli import monitor as _monitor  # noqa: F401 - registers monitor
from normlock.cli import registry as _registry  # noqa: F401 - registry commands and check
from normlock.cli import serve as _serve  # noqa: F401 - registers serve
from normlock.cli import verify as _verify  # noqa: F401 - registers verify
from normlock.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point."""
    app()
