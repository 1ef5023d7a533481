"""The Lock: fitted normalization for a set of columns (and optionally a target).

A lock is immutable. It transforms any supported container into the same container
type, matching columns by name, and saves to / loads from a sealed JSON artifact
(:mod:`normlock.artifact`).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from normlock import artifact
from normlock.chain import FeatureLock, output_dtype
from normlock.errors import NO_ORIGIN, ColumnNotFoundError, InputError, LockIntegrityError, Origin
from normlock.frames import allocator, read_columns, write_columns
from normlock.fused import AffinePlan, forward_columns
from normlock.groups.lock import GroupLock
from normlock.probes import probes_of
from normlock.stats.kernel import run_parallel
from normlock.stats.rows import RowSketch

if TYPE_CHECKING:
    from normlock.verify.parity import ParityReport

T = TypeVar("T")
_PLAIN_NUMBERS = frozenset({float, int})
_FLOAT32_MAX = float(np.finfo(np.float32).max)
Extra = Literal["error", "keep"]


@dataclass(frozen=True)
class Lock:
    """Fitted, sealed normalization.

    Attributes:
        features: the normalized columns, in the order they were fitted.
        columns: every input column at fit time, in data order (features and passthrough).
        passthrough: columns carried through unchanged.
        target: the normalized regression target, if one was fitted.
        spec: the spec as written.
        provenance: where the fit data came from (sources, rows).
        created_at: ISO-8601 UTC time of the fit.
        library_version: the normlock version that wrote the lock.
        model: optional ``{"name", "version"}`` of the model the lock belongs to.
        row_sketch: a fingerprint of the fitted rows for leakage checks (None in locks
            written before it existed, or built from parameters). It is part of the file
            and its seal but not of :attr:`fingerprint`, which identifies the transform.
        format_version: the lock format the lock was read from (or is written in); part
            of the fingerprint, so a newer library reproduces an older lock's fingerprint.
        groups: whitening groups (:mod:`normlock.groups`), applied to their columns'
            chain outputs; a lock with groups is written in format 2.
    """

    features: tuple[FeatureLock, ...]
    columns: tuple[str, ...]
    passthrough: tuple[str, ...] = ()
    target: FeatureLock | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    library_version: str = ""
    model: dict[str, str] | None = None
    row_sketch: RowSketch | None = None
    format_version: int = artifact.TABULAR_FORMAT_VERSION
    groups: tuple[GroupLock, ...] = ()

    # ---- identity -------------------------------------------------------------------

    def _defining(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "columns": list(self.columns),
            # on all cores: a fitted lock's references are computed when first read
            "features": run_parallel(FeatureLock.to_dict, list(self.features)),
            "passthrough": list(self.passthrough),
            "target": None if self.target is None else self.target.to_dict(),
            **({"groups": [g.to_dict() for g in self.groups]} if self.groups else {}),
        }

    @property
    def fingerprint(self) -> str:
        """SHA-256 of everything that defines the transform and its reference.

        Time, provenance and library version are left out, so the same rows fitted in any
        chunking give the same fingerprint (with exact quantiles; see the docs for sketches).
        """
        return _fingerprint_of(self._defining())

    @property
    def output_columns(self) -> tuple[str, ...]:
        """The columns a transform returns: :attr:`columns`, with each pca group's
        columns replaced by its components."""
        from normlock.groups.transform import output_columns

        return output_columns(self.columns, self.groups)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the normalized columns."""
        return tuple(f.name for f in self.features)

    def feature(self, name: str) -> FeatureLock:
        """The locked feature called ``name``."""
        for f in self.features:
            if f.name == name:
                return f
        raise ColumnNotFoundError.from_missing([name], self.feature_names, where="the lock")

    @property
    def warnings(self) -> dict[str, tuple[str, ...]]:
        """Fit warnings per feature (only features that have some)."""
        found = {f.name: f.warnings for f in self.features if f.warnings}
        if self.target is not None and self.target.warnings:
            found[self.target.name] = self.target.warnings
        return found

    # ---- transform ------------------------------------------------------------------

    def transform(
        self,
        data: T,
        *,
        extra: Extra = "error",
        origin: Origin = NO_ORIGIN,
        out: np.ndarray | None = None,
    ) -> T:
        """Normalize ``data``, returning the same container type.

        Args:
            data: a pandas/polars DataFrame, a pyarrow Table or RecordBatch, a dict of
                columns or of scalars (one row), a 2-D numpy array with the locked columns
                in order, or a 1-D numpy array (one row).
            extra: what to do with named columns the lock does not know: ``"error"``
                (default) or ``"keep"`` (carried through unchanged).
            origin: where the rows come from (file, first row), for error messages.
            out: for a 2-D numpy array, an array of the result's shape and dtype to write
                into (saves allocating the output); its contents are unspecified if an
                error is raised.

        Returns:
            The container with each locked column normalized. float32 columns stay
            float32; other numeric columns become float64.

        Example:
            >>> import numpy as np, normlock as nl
            >>> lock = nl.fit({"a": np.array([1.0, 2.0, 3.0])})
            >>> lock.transform({"a": 3.0})
            {'a': 1.224744871391589}
        """
        if out is not None:
            return self._transform_into(data, out, extra=extra, origin=origin)  # type: ignore[return-value]
        return self._run(data, inverse=False, extra=extra, origin=origin)

    def _transform_into(
        self, data: Any, out: np.ndarray, *, extra: Extra, origin: Origin
    ) -> np.ndarray:
        if not (isinstance(data, np.ndarray) and data.ndim == 2):
            raise InputError("out= needs a 2-D numpy array as data")
        dtype = output_dtype(data.dtype)
        if np.may_share_memory(data, out):
            raise InputError("out must not share memory with the data; pass a separate array")
        if out.shape != data.shape or out.dtype != dtype or not out.flags.writeable:
            raise InputError(
                f"out must be a writable {np.dtype(dtype).name} array of shape {data.shape}, "
                f"got {out.dtype} {out.shape}"
            )
        result = self._run(data, inverse=False, extra=extra, origin=origin, out=out)
        if result is not out:
            np.copyto(out, result)
        return out

    def inverse_transform(
        self, data: T, *, extra: Extra = "error", origin: Origin = NO_ORIGIN
    ) -> T:
        """Undo :meth:`transform` (same containers and rules)."""
        return self._run(data, inverse=True, extra=extra, origin=origin)

    @functools.cached_property
    def _row_plan(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray] | None:
        """Names, centers and scales when every column is a one-step affine feature."""
        affines = [f.affine() for f in self.features]
        if self.passthrough or any(a is None for a in affines):
            return None
        centers = np.array([a[0] for a in affines])  # type: ignore[index]
        scales = np.array([a[1] for a in affines])  # type: ignore[index]
        return self.feature_names, centers, scales

    @functools.cached_property
    def _affine_plans(self) -> dict[tuple[str, ...], AffinePlan]:
        return {}

    def _affine_plan(self, order: tuple[str, ...]) -> AffinePlan:
        """The fused pass's plan for a container with columns ``order`` (kept for the
        last few orders seen)."""
        plan = self._affine_plans.get(order)
        if plan is None:
            if len(self._affine_plans) >= 8:
                self._affine_plans.clear()
            plan = self._affine_plans[order] = AffinePlan.of(self.features, order)
        return plan

    def _transform_row(self, data: Any) -> Any:
        """The online path: one row (a 1-D float array, or a dict of Python numbers in lock
        order) of an all-affine lock, with nothing to report; None sends the row down the
        general path, which gives the same bits and raises the errors."""
        plan = self._row_plan
        if plan is None:
            return None
        names, centers, scales = plan
        if isinstance(data, np.ndarray):
            if data.ndim != 1 or data.shape[0] != len(names) or data.dtype.kind != "f":
                return None
            x, out_dtype = data.astype(np.float64), output_dtype(data.dtype)
        elif type(data) is dict and tuple(data) == names:
            values = list(data.values())
            if not set(map(type, values)) <= _PLAIN_NUMBERS:
                return None
            x, out_dtype = np.array(values, dtype=np.float64), np.float64
        else:
            return None
        y = (x - centers) / scales
        if not np.isfinite(y).all():  # NaN, infinities, overflow: let the general path judge
            return None
        if out_dtype is np.float32:
            if np.abs(y).max() > _FLOAT32_MAX:  # would overflow when rounded
                return None
            y = y.astype(np.float32)
        return dict(zip(names, y.tolist(), strict=True)) if isinstance(data, dict) else y

    def _run(
        self,
        data: T,
        *,
        inverse: bool,
        extra: Extra,
        origin: Origin,
        out: np.ndarray | None = None,
    ) -> T:
        if self.groups:
            from normlock.groups.transform import run

            return run(self, data, inverse=inverse, extra=extra, origin=origin)  # type: ignore[no-any-return]
        if not inverse and isinstance(data, np.ndarray | dict):
            row = self._transform_row(data)
            if row is not None:
                return row
        if extra not in ("error", "keep"):
            raise InputError(f"extra must be 'error' or 'keep', got {extra!r}")
        read = read_columns(data, default_names=self.columns)
        present = set(read.names)
        missing = [f.name for f in self.features if f.name not in present]
        if missing:
            raise ColumnNotFoundError.from_missing(missing, read.names)
        if read.named and extra == "error":
            unknown = [n for n in read.names if n not in set(self.columns)]
            if unknown:
                raise InputError(
                    f"column(s) {unknown} are not in the lock (it knows {list(self.columns)}); "
                    "drop them, or pass extra='keep' to carry them through unchanged"
                )
        if inverse:
            outputs = {
                f.name: f.apply(read.arrays[f.name], inverse=True, origin=origin)
                for f in self.features
            }
            return write_columns(data, read, outputs)
        outputs, matrix = forward_columns(
            self.features,
            read,
            plan=self._affine_plan(read.names),
            origin=origin,
            out=out,
            allocate=allocator(read),
        )
        return write_columns(data, read, outputs, matrix)

    def transform_target(self, y: T) -> T:
        """Normalize a 1-D target (numpy array, list, pandas or polars Series)."""
        return self._run_target(y, inverse=False)

    def inverse_transform_target(self, y: T) -> T:
        """Map normalized predictions back to target units."""
        return self._run_target(y, inverse=True)

    def _run_target(self, y: Any, *, inverse: bool) -> Any:
        if self.target is None:
            raise InputError("this lock has no target; fit with target=... to lock one")
        module = type(y).__module__.split(".")[0]
        if module in ("pandas", "polars") and type(y).__name__ == "Series":
            values = self.target.apply(y.to_numpy(), inverse=inverse)
            if module == "pandas":
                return type(y)(values, index=y.index, name=y.name)
            return type(y)(y.name, values)
        array = np.asarray(y)
        if array.ndim != 1:
            raise InputError(f"a target must be 1-D, got shape {array.shape}")
        out = self.target.apply(array, inverse=inverse)
        return out.tolist() if isinstance(y, list) else out

    # ---- monitoring -----------------------------------------------------------------

    def monitor(self, stage: Literal["raw", "normalized"] = "raw", **options: Any) -> Any:
        """A :class:`~normlock.monitor.Monitor` of served data for this lock.

        Args:
            stage: ``raw`` to watch the lock's inputs, ``normalized`` to watch the model's
                inputs (after the lock).
            **options: passed to :class:`~normlock.monitor.Monitor` (e.g. ``exact_limit``).
        """
        from normlock.monitor import Monitor

        return Monitor(self, stage, **options)

    # ---- artifact -------------------------------------------------------------------

    def probes(self) -> dict[str, dict[str, list[float]]]:
        """Probe inputs and expected outputs per feature (see :mod:`normlock.probes`)."""
        found = {f.name: probes_of(f) for f in self.features}
        if self.target is not None:
            found[self.target.name] = probes_of(self.target)
        return found

    def to_document(self) -> dict[str, Any]:
        """The sealed JSON-ready document of this lock."""
        defining = self._defining()
        body = {
            "format": artifact.FORMAT,
            **defining,
            "library_version": self.library_version,
            "created_at": self.created_at,
            "spec": self.spec,
            "provenance": self.provenance,
            "model": self.model,
            "probes": self.probes(),
            "fingerprint": _fingerprint_of(defining),
        }
        if self.row_sketch is not None:
            body["row_sketch"] = self.row_sketch.to_dict()
        return artifact.seal(body)

    def to_json(self) -> str:
        """The lock file's text."""
        return artifact.render(self.to_document())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the lock to ``path`` atomically (temporary file, then rename)."""
        return artifact.write_atomic(path, self.to_json())

    @classmethod
    def from_json(cls, text: str, *, source: str = "lock") -> Lock:
        """Parse, verify and build a lock from its file text (a domain lock, see
        :mod:`normlock.domains`, as its own class)."""
        document = artifact.parse(text, source=source)
        kind = document.get("domain")
        if kind is not None:  # only domain locks import their module
            from normlock.domains import lock_class

            found = lock_class(kind, source)
            if not issubclass(found, cls):
                raise InputError(
                    f"{source} is a {kind} lock, which {cls.__name__} does not read; use "
                    "normlock.load"
                )
            return found.from_document(document, source=source)
        if cls is not Lock:
            raise InputError(
                f"{source} is a tabular lock, which {cls.__name__} does not read; use normlock.load"
            )
        return cls.from_document(document, source=source)

    @classmethod
    def from_document(cls, document: dict[str, Any], *, source: str = "lock") -> Lock:
        """Build a lock from its parsed, seal-checked document (see :meth:`from_json`)."""
        try:
            lock = cls(**cls._fields_of(document, source))
        except (KeyError, TypeError) as exc:
            raise LockIntegrityError(f"{source} lacks a required field ({exc})") from None
        if lock.fingerprint != document["fingerprint"]:
            raise LockIntegrityError(f"{source}: stored fingerprint does not match its content")
        return lock

    @classmethod
    def _fields_of(cls, document: dict[str, Any], source: str) -> dict[str, Any]:
        """The constructor's arguments from a document (a domain lock adds its own)."""
        return {
            "features": tuple(FeatureLock.from_dict(f) for f in document["features"]),
            "columns": tuple(document["columns"]),
            "passthrough": tuple(document["passthrough"]),
            "target": None
            if document["target"] is None
            else FeatureLock.from_dict(document["target"]),
            "spec": document["spec"],
            "provenance": document["provenance"],
            "created_at": document["created_at"],
            "library_version": document["library_version"],
            "model": document["model"],
            "row_sketch": _row_sketch_of(document.get("row_sketch"), source),
            "format_version": document["format_version"],
            "groups": tuple(GroupLock.from_dict(g) for g in document.get("groups", ())),
        }

    def verify(self, target: Any, data: Any = None, **options: Any) -> ParityReport:
        """Check that a serving pipeline normalizes as this lock does: bit for bit, or
        differing only by rounding (which fails with ``exact=True``).

        Runs the lock's probes (float64 and float32) and optional ``data`` through
        ``target`` and names the likely cause of each mismatch. See
        :func:`normlock.verify.verify` for the targets and options.

        Example:
            >>> import numpy as np, normlock as nl
            >>> lock = nl.fit({"a": np.array([1.0, 2.0, 4.0])})
            >>> p = lock.feature("a").steps[0].params
            >>> def serve(x):
            ...     return ((x.astype(float) - p["mean"]) / p["std"]).astype(x.dtype)
            >>> lock.verify(serve).passed
            True
            >>> lock.verify(lambda x: x).causes()["a"]
            ['normalization not applied: the output equals the input']
        """
        from normlock.verify.parity import verify

        return verify(self, target, data, **options)

    # ---- exports (each imports its framework only when called) -------------------------

    def to_sklearn(self) -> Any:
        """A fitted scikit-learn transformer that applies this lock and never refits it."""
        from normlock.export.sklearn_transformer import NormlockTransformer

        return NormlockTransformer.from_lock(self)

    def to_torch(self, **options: Any) -> Any:
        """This lock as a ``torch.nn.Module`` (see :mod:`normlock.export.torch_module`)."""
        from normlock.export.torch_module import to_torch

        return to_torch(self, **options)

    def to_onnx(self, **options: Any) -> Any:
        """This lock as an ONNX model (see :mod:`normlock.export.onnx_graph`)."""
        from normlock.export.onnx_graph import to_onnx

        return to_onnx(self, **options)

    def attach(self, model: Any, **options: Any) -> Any:
        """This lock in front of ``model`` as one artifact that takes raw features: a
        torch module (``Sequential`` of ``lock`` then ``model``) or an ONNX model, with
        the lock's fingerprint recorded (see :mod:`normlock.export.attach`)."""
        from normlock.export.attach import attach

        return attach(self, model, **options)

    def with_model(self, name: str, version: str | None = None) -> Lock:
        """A copy of this lock tied to a model name (and version)."""
        model = {"name": name} if version is None else {"name": name, "version": version}
        return replace(self, model=model)


def _fingerprint_of(defining: dict[str, Any]) -> str:
    return artifact.sha256_hex(artifact.canonical(defining))


def _row_sketch_of(stored: Any, source: str) -> RowSketch | None:
    if stored is None:
        return None
    try:
        return RowSketch.from_dict(stored)
    except (KeyError, TypeError, ValueError) as exc:
        raise LockIntegrityError(f"{source}: its row sketch is damaged ({exc})") from None


def load(path: str | os.PathLike[str]) -> Lock:
    """Load a lock file, checking its seal and format version.

    Raises:
        LockIntegrityError: the file was changed after it was written, or is no lock.
        LockFormatError: the file needs a newer normlock.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"lock file {source!r} does not exist") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LockIntegrityError(f"{source} is not UTF-8 text: the file is damaged") from None
    return Lock.from_json(text, source=source)
