"""What an audit tells the user: findings, each with its layer and a one-line fix, and
the report that holds them with the layers and the seam to the lock."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from normlock.audit.layers import Layer

KINDS = (
    "training_mode",
    "batch_dependent",
    "stats_never_updated",
    "stale_statistics",
    "zero_variance",
    "small_batch",
    "epsilon_underflow",
    "double_normalization",
    "input_mismatch",
    "preprocessing_mismatch",
    "attached_lock_mismatch",
)
"""Every finding kind, in the order reports list them:

* ``training_mode``: a batch (or tracking instance) normalization runs in training mode,
  so serving normalizes each request with its own batch's statistics;
* ``batch_dependent``: settings that make inference depend on the batch
  (``track_running_stats=False``) or running statistics that describe one batch
  (``momentum=1``);
* ``stats_never_updated``: running statistics still at their initial mean 0, var 1;
* ``stale_statistics``: running statistics that do not describe the data: mostly still
  the initial values (few batches tracked), or far from the statistics a sample
  produces at the layer;
* ``zero_variance``: channels whose running variance is near zero, so that the
  epsilon alone sets their scale;
* ``small_batch``: batch normalization trained with small batches;
* ``epsilon_underflow``: an epsilon below the smallest normal number of the inference
  dtype (float16, bfloat16);
* ``double_normalization``: the model's input layer normalizes what the lock in front
  of it already normalized;
* ``input_mismatch``: the model's input layer expects other statistics than the lock
  produces;
* ``preprocessing_mismatch``: the model's declared preprocessing (Hugging Face, timm,
  torchvision) differs from the lock in front of it;
* ``attached_lock_mismatch``: the lock a combined model carries is not the lock given.
"""

REPORT_FORMAT = "normlock.audit-report"


@dataclass(frozen=True)
class Thresholds:
    """The settings of the checks (defaults, and why, in ``docs/audit.md``).

    Attributes:
        small_batch: batch normalization trained with batches smaller than this is
            flagged (its statistics are noisy below about 16 rows).
        zero_variance: a running variance at most this many epsilons is near zero.
        initial_weight: flagged when more than this share of the running statistics
            is still their initial value, ``(1 - momentum) ** batches``.
        mean_shift: a sample's channel mean this many sample standard deviations from
            the running mean is far (with ``z`` below).
        variance_ratio: a sample's channel variance this many times above or below the
            running variance is far (with ``z`` below).
        z: and the difference must be this many standard errors of the sample's
            estimate, so that a small sample does not raise false alarms.
        sample_rows: a sample of fewer rows is not compared with running statistics.
        seam_mean: the input layer's statistics match the lock's (normalized or raw)
            when their means are within this many standard deviations ...
        seam_ratio: ... and their standard deviations within this factor.
        constants: relative tolerance for equal preprocessing constants.
    """

    small_batch: int = 16
    zero_variance: float = 10.0
    initial_weight: float = 0.05
    mean_shift: float = 0.5
    variance_ratio: float = 2.0
    z: float = 4.0
    sample_rows: int = 16
    seam_mean: float = 0.5
    seam_ratio: float = 1.5
    constants: float = 1e-5

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Finding:
    """One thing the audit found.

    Attributes:
        kind: one of :data:`KINDS`.
        layer: the layer's place, ``model input`` or ``lock``.
        message: what is wrong, with the numbers.
        fix: one line saying what to do.
        evidence: what the finding rests on.
    """

    kind: str
    layer: str
    message: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "layer": self.layer,
            "message": self.message,
            "fix": self.fix,
            "evidence": _json_ready(self.evidence),
        }


@dataclass(frozen=True)
class AttachedLock:
    """The lock a combined model carries (see :meth:`normlock.Lock.attach`).

    Attributes:
        fingerprint: the fingerprint recorded in the model.
        columns: the columns it takes, in order, when recorded.
        confirmed: whether it is the lock given to the audit (None: none was given).
        verdict: the probes' verdict on the model's lock stage (``identical``,
            ``equivalent``, ``mismatch``), when a lock was given and the stage could run.
    """

    fingerprint: str
    columns: tuple[str, ...] = ()
    confirmed: bool | None = None
    verdict: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "fingerprint": self.fingerprint,
            "columns": list(self.columns),
            "confirmed": self.confirmed,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class AuditReport:
    """The result of :func:`normlock.audit`.

    Attributes:
        model: what was audited.
        framework: ``torch``, ``torch.export``, ``torchscript`` or ``onnx``.
        dtype: the inference dtype the epsilons were checked against.
        layers: every normalization layer, in order.
        findings: what was found, in :data:`KINDS` order.
        lock: the fingerprint of the lock given (in front of the model), or None.
        attached: the lock the model carries, for a combined model.
        input_layer: the place of the layer that first reads the model's input, when
            it is a normalization.
        expectations: the preprocessing the model declares, when found.
        notes: facts about the audit (what was not checked, and why).
        thresholds: the settings used.
    """

    model: str
    framework: str
    dtype: str
    layers: tuple[Layer, ...]
    findings: tuple[Finding, ...]
    lock: str | None = None
    attached: AttachedLock | None = None
    input_layer: str | None = None
    expectations: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def kinds(self) -> set[str]:
        """The kinds of the findings."""
        return {f.kind for f in self.findings}

    def of_kind(self, kind: str) -> tuple[Finding, ...]:
        """The findings of one kind."""
        return tuple(f for f in self.findings if f.kind == kind)

    def headline(self) -> str:
        """The verdict in one line."""
        layers = f"{len(self.layers)} normalization layer(s)"
        if self.ok:
            return f"audit: {self.model}: {layers}, no finding"
        return f"audit: {self.model}: {layers}, {len(self.findings)} finding(s)"

    def __str__(self) -> str:
        """The headline, then one line per finding: ``[kind] layer: message Fix: fix``."""
        lines = [self.headline()]
        lines += [f"[{f.kind}] {f.layer}: {f.message} Fix: {f.fix}" for f in self.findings]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "format": REPORT_FORMAT,
            "model": self.model,
            "framework": self.framework,
            "dtype": self.dtype,
            "ok": self.ok,
            "lock": self.lock,
            "attached": None if self.attached is None else self.attached.to_dict(),
            "input_layer": self.input_layer,
            "expectations": _json_ready(self.expectations),
            "layers": [layer.to_dict() for layer in self.layers],
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
            "thresholds": self.thresholds.to_dict(),
        }


def _json_ready(value: Any) -> Any:
    """Numbers, lists and dicts that ``json.dumps(allow_nan=False)`` accepts."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if hasattr(value, "tolist"):
        return _json_ready(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    """Findings in :data:`KINDS` order (stable within a kind)."""
    return tuple(sorted(findings, key=lambda f: KINDS.index(f.kind)))
