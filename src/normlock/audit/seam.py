"""The seam between the lock and the model: what the model's input layer does to the
lock's outputs, and whether a combined model carries the lock it should.

The *input layer* is the layer that first reads the model's input. When it normalizes
and a lock stands in front of the model:

* fixed constants (a torchvision-style ``Normalize``, a ``(x - c) / s`` at the start of
  an ONNX graph, a lock inside the model): the inputs are normalized twice
  (``double_normalization``), named with both sides' constants;
* a batch normalization: its running statistics say what it was trained on. Close to
  the lock's outputs' statistics: fine. Close to the raw features' statistics: it
  normalizes them itself, so the lock in front normalizes twice
  (``double_normalization``). Neither: it expects other inputs (``input_mismatch``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from normlock.audit.findings import AttachedLock, Finding, Thresholds
from normlock.audit.lock_side import FeatureSide, Moments, numbers, sides
from normlock.lock import Lock


@dataclass(frozen=True)
class InputLayer:
    """The normalization that first reads the model's input.

    Attributes:
        place: where it is.
        type: what it is (``BatchNorm1d``, ``Normalize``, ``Sub/Div``, ...).
        kind: ``batch`` (running statistics) or ``constants`` (fixed constants).
        center: per channel, what it subtracts (a running mean, a declared mean).
        scale: per channel, what it divides by (a running std, a declared std).
        found: how it was found: ``traced`` (a forward pass), ``graph`` or
            ``module order`` (the first module registered: an assumption).
    """

    place: str
    type: str
    kind: str
    center: np.ndarray
    scale: np.ndarray
    found: str


def seam_findings(
    lock: Lock, layer: InputLayer, thresholds: Thresholds, notes: list[str]
) -> list[Finding]:
    """The findings of ``layer`` reading the outputs of ``lock`` (notes: what could not
    be compared)."""
    features = sides(lock)
    if layer.center.size != len(features):
        notes.append(
            f"the input layer {layer.place} has {layer.center.size} channel(s) and the lock "
            f"{len(features)} feature(s): their statistics were not compared"
        )
        return []
    where = "" if layer.found != "module order" else " (the first module registered)"
    if layer.kind == "constants":
        return [_constants_twice(layer, features, thresholds, where)]
    return _batch_layer(layer, features, thresholds, where)


def _constants_twice(
    layer: InputLayer, features: list[FeatureSide], thresholds: Thresholds, where: str
) -> Finding:
    affine = [f.affine for f in features]
    lock_text = "a non-affine chain"
    same = False
    if all(a is not None for a in affine):
        centers = np.array([a[0] for a in affine])  # type: ignore[index]
        scales = np.array([a[1] for a in affine])  # type: ignore[index]
        lock_text = f"center {numbers(centers)}, scale {numbers(scales)}"
        rtol = thresholds.constants
        for factor in {1.0, *(f.rescale for f in features)}:  # also after its rescale
            same = same or bool(
                np.allclose(layer.center, centers / factor, rtol=rtol, atol=0)
                and np.allclose(layer.scale, scales / factor, rtol=rtol, atol=0)
            )
    how = "with the same constants" if same else "with other constants"
    return Finding(
        "double_normalization",
        layer.place,
        f"the model's input layer {layer.place}{where} ({layer.type}) normalizes its "
        f"inputs with center {numbers(layer.center)}, scale {numbers(layer.scale)}, "
        f"behind the lock, which already applies {lock_text}: the inputs are normalized "
        f"twice, {how}.",
        f"drop one of the two: the model's {layer.type} at {layer.place}, or the lock in "
        "front of the model",
        {"layer_center": layer.center, "layer_scale": layer.scale, "same_constants": same},
    )


def _close(center: float, spread: float, moments: Moments | None, t: Thresholds) -> bool:
    if moments is None or not (moments.std > 0 and spread > 0):
        return False
    near = abs(center - moments.mean) <= t.seam_mean * moments.std
    return near and abs(math.log(spread / moments.std)) <= math.log(t.seam_ratio)


def _batch_layer(
    layer: InputLayer, features: list[FeatureSide], thresholds: Thresholds, where: str
) -> list[Finding]:
    verdicts = []
    for j, feature in enumerate(features):
        center, spread = float(layer.center[j]), float(layer.scale[j])
        if _close(center, spread, feature.normalized, thresholds):
            verdicts.append("normalized")
        elif _close(center, spread, feature.raw, thresholds):
            verdicts.append("raw")
        else:
            verdicts.append("other")
    if verdicts.count("normalized") * 2 > len(verdicts):
        return []
    raw = verdicts.count("raw") * 2 > len(verdicts)
    pick = verdicts.index("raw" if raw else next(v for v in verdicts if v != "normalized"))
    feature = features[pick]
    seen = (
        f"feature {feature.name!r}: running mean {layer.center[pick]:.4g}, std "
        f"{layer.scale[pick]:.4g}; the lock's outputs have mean "
        f"{_moment(feature.normalized, 'mean')}, std {_moment(feature.normalized, 'std')}, "
        f"its raw inputs mean {_moment(feature.raw, 'mean')}, std {_moment(feature.raw, 'std')}"
    )
    evidence = {"per_feature": dict(zip([f.name for f in features], verdicts, strict=True))}
    if raw:
        return [
            Finding(
                "double_normalization",
                layer.place,
                f"the model's input layer {layer.place}{where} ({layer.type}) was trained on "
                f"the raw features and normalizes them itself ({seen}): behind the lock it "
                "normalizes already normalized inputs a second time.",
                "serve the model without the lock in front (its input layer normalizes), "
                "or retrain it on the lock's outputs",
                evidence,
            )
        ]
    count = sum(v == "other" for v in verdicts)
    return [
        Finding(
            "input_mismatch",
            layer.place,
            f"the model's input layer {layer.place}{where} ({layer.type}) expects other "
            f"inputs than the lock produces on {count} of {len(verdicts)} feature(s) "
            f"({seen}).",
            "use the lock the model was trained behind, or retrain the model on this "
            "lock's outputs",
            evidence,
        )
    ]


def _moment(moments: Moments | None, which: str) -> str:
    return "unknown" if moments is None else f"{getattr(moments, which):.4g}"


def attached_findings(
    attached: AttachedLock, lock: Lock | None
) -> tuple[AttachedLock, list[Finding]]:
    """The attached lock confirmed against ``lock`` by fingerprint and by the probes'
    verdict already in ``attached.verdict``."""
    if lock is None:
        return attached, []
    same = attached.fingerprint == lock.fingerprint
    confirmed = same and attached.verdict in (None, "identical", "equivalent")
    result = AttachedLock(attached.fingerprint, attached.columns, confirmed, attached.verdict)
    if confirmed:
        return result, []
    if not same:
        message = (
            f"the model carries lock {attached.fingerprint[:16]}, not the lock given "
            f"({lock.fingerprint[:16]})"
        )
    else:
        message = (
            f"the model records the lock's fingerprint {lock.fingerprint[:16]}, but its "
            f"lock stage does not reproduce the lock's probes (verdict {attached.verdict})"
        )
    if attached.verdict is not None and not same:
        message += f"; its lock stage on the given lock's probes: {attached.verdict}"
    return result, [
        Finding(
            "attached_lock_mismatch",
            "lock",
            message + ".",
            "attach the lock the model was trained behind (lock.attach(model)) and deploy "
            "that artifact",
            {"carried": attached.fingerprint, "given": lock.fingerprint},
        )
    ]
