"""The lock file format: canonical JSON, a SHA-256 seal, versions, atomic writes.

* Canonical JSON: sorted keys, UTF-8, floats in Python's shortest round-trip form, so
  every float64 (including -0.0) reads back bit for bit. Non-finite floats, which JSON
  lacks, are written as ``{"$float": "NaN" | "Infinity" | "-Infinity"}``.
* The seal is the SHA-256 of the compact canonical form of the document without its
  ``seal`` field. The file itself is the indented canonical form, and :func:`read`
  checks both the seal and that the bytes are exactly that form, so a change to any
  byte is caught.
* Reading only parses JSON: no code runs, no object is built before validation.
* Writes go to a temporary file in the same directory, which is then renamed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from normlock.errors import LockFormatError, LockIntegrityError

FORMAT = "normlock.lock"
FORMAT_VERSION = 2
"""The newest format this library writes; it reads every version up to this one."""
TABULAR_FORMAT_VERSION = 1
"""The format of a lock of table columns. Format 2 added domain locks (images, boxes,
audio, series: see :mod:`normlock.domains`) and whitening groups (:mod:`normlock.groups`);
a lock with neither is still written in format 1, which every normlock reads."""
GROUPS_FORMAT_VERSION = 2
"""The format of a lock with whitening groups."""

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_string = json.encoder.encode_basestring  # a JSON string, with ensure_ascii=False


def _encode(value: Any) -> Any:
    """``value`` with its non-finite floats as tokens, tuples as lists and keys as strings."""
    kind = type(value)
    if kind is float or isinstance(value, float):
        if math.isfinite(value):
            return value
        token = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return {"$float": token}
    if kind is dict or isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        if all(type(v) is float for v in value) and all(map(math.isfinite, value)):
            return list(value)  # the common case: finite floats, nothing to rewrite
        return [_encode(v) for v in value]
    return value


def _indented(value: Any, margin: str = "") -> str:
    """``json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)``, for an encoded
    value (the same text, written without the standard library's item-by-item Python
    encoder, which the indented form would take)."""
    if type(value) is dict:
        if not value:
            return "{}"
        inner = margin + "  "
        items = (f"{inner}{_string(key)}: {_indented(value[key], inner)}" for key in sorted(value))
        return "{\n" + ",\n".join(items) + "\n" + margin + "}"
    if type(value) is list:
        if not value:
            return "[]"
        inner = margin + "  "
        if all(type(v) is float for v in value):
            parts: Iterable[str] = map(float.__repr__, value)
        else:
            parts = (_indented(v, inner) for v in value)
        return "[\n" + inner + (",\n" + inner).join(parts) + "\n" + margin + "]"
    return _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _decode_object(pairs: list[tuple[str, Any]]) -> Any:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise LockIntegrityError("the lock has a duplicated key; it was not written by normlock")
    obj = dict(pairs)
    if keys == ["$float"]:
        token = obj["$float"]
        if token not in _NONFINITE:
            raise LockIntegrityError(f"unknown float token {token!r} in lock")
        return _NONFINITE[token]
    return obj


def _reject_constant(name: str) -> Any:
    raise LockIntegrityError(f"bare {name} is not valid in a lock file")


def canonical(document: dict[str, Any]) -> str:
    """The compact canonical JSON text of a document."""
    return _compact(_encode(document))


def _compact(encoded: Any) -> str:
    return json.dumps(
        encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def render(document: dict[str, Any]) -> str:
    """The file text: the indented canonical JSON plus a final newline."""
    return _indented(_encode(document)) + "\n"


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of the UTF-8 encoding of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` plus its ``seal`` field."""
    if "seal" in body:
        raise ValueError("body already has a seal")
    return {**body, "seal": sha256_hex(canonical(body))}


def parse_value(text: str) -> Any:
    """Parse canonical JSON text (non-finite float tokens decoded), without seal checks."""
    return json.loads(text, object_pairs_hook=_decode_object, parse_constant=_reject_constant)


def parse(text: str, *, source: str = "lock") -> dict[str, Any]:
    """Parse and check a sealed document; return it without its seal.

    Raises:
        LockIntegrityError: not JSON, not a lock, seal mismatch, or bytes changed.
        LockFormatError: a format version newer than this library reads.
    """
    try:
        document = json.loads(
            text, object_pairs_hook=_decode_object, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise LockIntegrityError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}): the file is "
            "damaged or is not a lock; restore it from the registry or refit"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise LockIntegrityError(f"{source} is not a normlock lock (no 'format': {FORMAT!r})")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise LockIntegrityError(f"{source} has no integer 'format_version'")
    if version > FORMAT_VERSION:
        writer = document.get("library_version", "a newer normlock")
        raise LockFormatError(
            f"{source} uses lock format {version}, written by normlock {writer}; this "
            f"normlock reads formats up to {FORMAT_VERSION}. Upgrade normlock to load it."
        )
    stored = document.pop("seal", None)
    if not isinstance(stored, str):
        raise LockIntegrityError(f"{source} has no seal; it was not written by normlock")
    encoded = _encode(document)  # once, for both checks
    actual = sha256_hex(_compact(encoded))
    if stored != actual:
        raise LockIntegrityError(
            f"{source} was modified after it was written: its seal is {stored[:12]}..., its "
            f"content hashes to {actual[:12]}.... Do not edit locks by hand; refit, or restore "
            "the original file"
        )
    if _indented({**encoded, "seal": stored}) + "\n" != text:
        raise LockIntegrityError(
            f"{source} was modified after it was written (its formatting or a byte changed "
            "although the content still matches its seal); restore the original file"
        )
    return document


def temporary_beside(target: Path) -> tuple[int, str]:
    """An open temporary file in ``target``'s directory (for a later rename onto it),
    created with mode 0666 so that the umask decides its permissions, as for any new file
    (``mkstemp`` would make it 0600)."""
    for _ in range(100):
        name = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666), str(name)
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file beside {str(target)!r}")


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} does not exist")
    handle, temporary = temporary_beside(directory / target.name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
