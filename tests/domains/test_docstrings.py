"""The domains' docstring examples run as written."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import normlock.domains

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(normlock.domains.__path__, "normlock.domains.")
)


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    found = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert found.failed == 0
