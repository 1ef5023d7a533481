"""The advisor: measurements of a table, a recommended spec, and the checks a fit runs.

``normlock.advise(data, target=None)`` (this package is callable: it runs
:func:`normlock.advise.advisor.advise`) measures each column and the table's
conditioning and precision risks and recommends a spec
(:class:`~normlock.advise.report.Advice`). :mod:`~normlock.advise.checks` and
:mod:`~normlock.advise.targets` hold the cheap checks ``normlock.fit`` makes from the
summaries it already has.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import Any


class _CallableModule(types.ModuleType):
    """This package, callable as the function it is named after (once a submodule is
    imported, Python binds ``normlock.advise`` to the package)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return import_module("normlock.advise.advisor").advise(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
