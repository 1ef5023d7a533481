"""The normalization methods, one module each, looked up by name."""

from __future__ import annotations

from normlock.errors import SpecError
from normlock.methods.base import Fitted, Method, Params
from normlock.methods.clip import Clip
from normlock.methods.db import Decibels
from normlock.methods.identity import Identity
from normlock.methods.log import Log, Log1p
from normlock.methods.maxabs import MaxAbs
from normlock.methods.minmax import MinMax
from normlock.methods.power import BoxCox, YeoJohnson
from normlock.methods.quantile import Quantile
from normlock.methods.robust import Robust
from normlock.methods.standard import Standard

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Standard(),
        MinMax(),
        MaxAbs(),
        Robust(),
        Quantile(),
        Log(),
        Log1p(),
        YeoJohnson(),
        BoxCox(),
        Clip(),
        Decibels(),
        Identity(),
    )
}

ALIASES = {"zscore": "standard", "min-max": "minmax", "max-abs": "maxabs", "power": "yeo-johnson"}


def get_method(name: str) -> Method:
    """The method called ``name`` (or one of its aliases), else a :class:`SpecError`."""
    method = METHODS.get(ALIASES.get(name, name))
    if method is None:
        import difflib

        known = sorted(METHODS) + sorted(ALIASES)
        hint = difflib.get_close_matches(str(name), known, n=1)
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        raise SpecError(
            f"unknown method {name!r}.{suggestion} Known methods: {', '.join(sorted(METHODS))}"
        )
    return method


__all__ = ["ALIASES", "METHODS", "Fitted", "Method", "Params", "get_method"]
