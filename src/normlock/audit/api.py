"""``normlock.audit``: check a model's normalization layers and the seam to its lock."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from normlock.audit import models
from normlock.audit.checks import SMALLEST_NORMAL, Context, layer_findings
from normlock.audit.expectations import expectation_findings, expected_of
from normlock.audit.findings import AttachedLock, AuditReport, Finding, Thresholds, ordered
from normlock.audit.inspection import Inspection
from normlock.audit.seam import attached_findings, seam_findings
from normlock.errors import InputError, NormlockError
from normlock.frames import is_container, read_columns
from normlock.lock import Lock, load

DTYPES = ("float64", "float32", *SMALLEST_NORMAL)


def audit(
    model: Any,
    lock: Lock | str | os.PathLike[str] | None = None,
    sample: Any = None,
    *,
    batch_size: int | None = None,
    loader: Any = None,
    dtype: str | None = None,
    expects: Any = None,
    thresholds: Thresholds | None = None,
) -> AuditReport:
    """Audit a model's normalization layers and the seam to the lock in front of it.

    Args:
        model: a torch ``nn.Module`` (eager or TorchScript), a ``torch.export``
            program, an ONNX model, or the path of a ``.onnx``, ``.pt2`` or TorchScript
            file (or ``module:attr``). A combined model (:meth:`normlock.Lock.attach`)
            is read as its lock stage and its model.
        lock: the lock in front of the model (a :class:`~normlock.Lock` or its file);
            for a combined model, the lock it should carry.
        sample: a batch of model inputs (tensor or array; with ``lock``, raw rows in any
            container the lock reads are normalized by it first): each batch
            normalization's running statistics are compared with the statistics the
            sample produces at its input.
        batch_size: the batch size the model was trained with.
        loader: the training ``DataLoader`` (its ``batch_size`` is read).
        dtype: the inference dtype (``float16``, ``bfloat16``, ``float32``,
            ``float64``); default: the model's.
        expects: the model's declared preprocessing: a Hugging Face
            ``preprocessor_config.json`` (path or dict), a timm ``pretrained_cfg``,
            torchvision-style transforms, or a lock. Default: what the model carries
            (timm's ``pretrained_cfg``, a ``preprocessor_config.json`` beside its file).
        thresholds: the checks' settings.

    Returns:
        The :class:`~normlock.audit.findings.AuditReport`: ``report.ok`` is False when
        something was found.

    Example:
        >>> import torch, normlock as nl
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
        >>> report = nl.audit(model)            # a fresh model, in training mode
        >>> sorted(report.kinds())
        ['stats_never_updated', 'training_mode']
    """
    thresholds = thresholds or Thresholds()
    front = _lock_of(lock)
    size, batch_note = _batch_size(batch_size, loader)
    if dtype is not None and dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    loaded = models.load(model)
    found = models.inspect(loaded, _model_input(sample, front, loaded.carries_lock), front)
    context = Context(
        framework=found.framework,
        dtype=dtype or found.dtype,
        thresholds=thresholds,
        batch_size=size,
        batch_note=batch_note,
        sample=found.stats,
    )
    findings = [f for layer in found.layers for f in layer_findings(layer, context)]
    notes = list(found.notes)
    rows = min((s.rows for s in (found.stats or {}).values()), default=thresholds.sample_rows)
    if rows < thresholds.sample_rows:
        notes.append(
            f"the sample has {rows} row(s): at least {thresholds.sample_rows} are needed to "
            "compare it with running statistics, so it was not"
        )
    attached = _attached(found, front, findings, notes)
    seam_lock = front if front is not None else getattr(loaded.model, "source", None)
    carries_other = attached is not None and attached.confirmed is False
    if seam_lock is not None and found.input_layer is not None and not carries_other:
        findings += seam_findings(seam_lock, found.input_layer, thresholds, notes)
    expectations = _expectations(expects, found, seam_lock, thresholds, findings, notes)
    return AuditReport(
        model=found.description,
        framework=found.framework,
        dtype=context.dtype,
        layers=tuple(found.layers),
        findings=ordered(findings),
        lock=None if front is None else front.fingerprint,
        attached=attached,
        input_layer=None if found.input_layer is None else found.input_layer.place,
        expectations=expectations,
        notes=tuple(notes),
        thresholds=thresholds,
    )


def _lock_of(lock: Any) -> Lock | None:
    if lock is None or isinstance(lock, Lock):
        return lock
    if isinstance(lock, str | Path):
        return load(lock)
    raise InputError(f"lock must be a Lock or a lock file, got {type(lock).__name__}")


def _batch_size(batch_size: int | None, loader: Any) -> tuple[int | None, str]:
    if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if loader is None:
        return batch_size, ""
    size = getattr(loader, "batch_size", None)
    if size is None:
        size = getattr(getattr(loader, "batch_sampler", None), "batch_size", None)
    if not isinstance(size, int):
        raise InputError(
            f"cannot read a batch size from {type(loader).__name__}: pass batch_size= instead"
        )
    note = ""
    dataset: Any = getattr(loader, "dataset", None)
    if not getattr(loader, "drop_last", False) and hasattr(dataset, "__len__"):
        last = len(dataset) % size
        if last:
            note = f"Its last batch has {last} row(s) (drop_last=False)."
    return size, note


def _model_input(sample: Any, lock: Lock | None, carries_lock: bool) -> Any:
    """The sample as the model takes it: tensors and arrays as they are; other
    containers as the lock's columns in order, normalized unless the model carries
    the lock itself."""
    if sample is None or isinstance(sample, np.ndarray) or hasattr(sample, "detach"):
        return sample
    if not is_container(sample):
        raise InputError(f"the sample must be a tensor, an array or a frame, got {sample!r:.60}")
    if lock is None:
        raise InputError("a sample of named columns needs lock= to order (and normalize) them")
    read = read_columns(sample)
    missing = [c for c in lock.columns if c not in read.arrays]
    if missing:
        raise InputError(f"the sample lacks the lock's column(s) {missing}")
    matrix = np.column_stack([np.asarray(read.arrays[c], dtype=np.float64) for c in lock.columns])
    return matrix if carries_lock else lock.transform(matrix)


def _attached(
    found: Inspection, lock: Lock | None, findings: list[Finding], notes: list[str]
) -> AttachedLock | None:
    if found.attached is None:
        return None
    fingerprint, columns = found.attached
    verdict = None
    if lock is not None and found.lock_stage is not None:
        try:
            verdict = lock.verify(found.lock_stage).verdict
        except NormlockError as exc:
            notes.append(f"the model's lock stage could not run the lock's probes: {exc}")
    attached, more = attached_findings(AttachedLock(fingerprint, columns, None, verdict), lock)
    findings += more
    return attached


def _expectations(
    expects: Any,
    found: Inspection,
    lock: Lock | None,
    thresholds: Thresholds,
    findings: list[Finding],
    notes: list[str],
) -> dict[str, Any] | None:
    declared = expects if expects is not None else found.pretrained
    if declared is None:
        return None
    expected = expected_of(declared)
    if expected is None:
        notes.append("the model's preprocessing config declares no mean and std")
        return None
    if lock is None:
        notes.append(f"{expected.source} was not compared: no lock was given")
    else:
        findings += expectation_findings(expected, lock, thresholds, notes)
    return expected.to_dict()
