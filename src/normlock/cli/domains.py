"""What the commands do for domain locks (:mod:`normlock.domains`): fit one from files,
and read a domain's served files for ``verify --data`` and ``monitor``."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from importlib import import_module
from typing import Any

from normlock.domains import KINDS
from normlock.errors import InputError
from normlock.lock import Lock


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a dict, each value read as a YAML scalar or list
    (``255``, ``NHWC``, ``null``, ``[a, b]``)."""
    import yaml

    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set takes KEY=VALUE, got {pair!r}")
        found[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return found


def fit_domain(domain: str, data: list[str], settings: dict[str, Any]) -> Lock:
    """The ``domain``'s ``fit`` on the files ``data`` with ``settings`` as its options."""
    if domain not in KINDS:
        raise InputError(f"--domain must be one of {', '.join(KINDS)}, got {domain!r}")
    fit = import_module(KINDS[domain][0]).fit
    options = [
        name
        for name, p in inspect.signature(fit).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name != "sources"
    ]
    unknown = sorted(set(settings) - set(options))
    if unknown:
        raise InputError(
            f"{domain} has no setting {', '.join(map(repr, unknown))}; its settings: "
            f"{', '.join(options)}"
        )
    lock: Lock = fit(data if len(data) > 1 else data[0], sources=list(data), **settings)
    return lock


def served(lock: Lock, data: list[str]) -> Iterator[Any]:
    """The batches of the served files ``data`` as the lock's domain reads them."""
    batches = getattr(lock, "served_batches", None)
    if batches is None:
        raise InputError(f"{type(lock).__name__} has no served files to read")
    return batches(data)
