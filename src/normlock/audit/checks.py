"""The checks of one normalization layer: its mode, its running statistics, the batch
size it was trained with and its epsilon in the inference dtype."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from normlock.audit.findings import Finding, Thresholds
from normlock.audit.layers import BATCH, RUNNING, TRAINING, Layer, RunningStats
from normlock.audit.sample import ChannelStats, far_channels

SMALLEST_NORMAL = {"float16": 2.0**-14, "bfloat16": 2.0**-126}
"""The smallest positive normal number of each narrow float dtype."""

_RECOMPUTE = (
    "recompute the statistics: run a few hundred training batches through the model in "
    "train() mode without gradients (momentum=None averages them exactly), then eval()"
)


@dataclass(frozen=True)
class Context:
    """What the checks know beyond the layer.

    Attributes:
        framework: ``torch``, ``torch.export``, ``torchscript`` or ``onnx`` (for the fixes).
        dtype: the inference dtype.
        thresholds: the settings.
        batch_size: the training batch size, when known.
        batch_note: a remark on the batches (the last batch of a loader), or "".
        sample: per layer place, the statistics a sample produced at its input.
    """

    framework: str
    dtype: str
    thresholds: Thresholds
    batch_size: int | None = None
    batch_note: str = ""
    sample: dict[str, ChannelStats] | None = None


def layer_findings(layer: Layer, context: Context) -> list[Finding]:
    """Everything wrong with one layer."""
    found = _mode_findings(layer, context)
    running = layer.running
    if running is not None and layer.mode in (RUNNING, TRAINING):
        never = _never_updated(layer, running)
        if never is not None:
            found.append(never)
        else:
            found += _statistics_findings(layer, running, context)
    small = _small_batch(layer, context)
    if small is not None:
        found.append(small)
    eps = _epsilon_finding(layer, context.dtype)
    if eps is not None:
        found.append(eps)
    return found


def _mode_findings(layer: Layer, context: Context) -> list[Finding]:
    found = []
    if layer.mode == TRAINING:
        fix = (
            "export the model again after model.eval() (BatchNormalization training_mode=0)"
            if context.framework == "onnx"
            else "call model.eval() before serving (and before exporting)"
        )
        found.append(
            Finding(
                "training_mode",
                layer.place,
                f"{layer.type} is in training mode: at inference it normalizes each batch "
                "with that batch's own statistics (a single request with itself) and "
                "overwrites its running statistics with served data.",
                fix,
            )
        )
    if layer.mode == BATCH:
        found.append(
            Finding(
                "batch_dependent",
                layer.place,
                f"{layer.type} keeps no running statistics (track_running_stats=False): "
                "even in eval mode it normalizes with the statistics of the batch it is "
                "in, so a prediction depends on the other requests batched with it, and a "
                "batch of one row is normalized to its bias.",
                "train it with track_running_stats=True, or use GroupNorm or LayerNorm, "
                "which normalize each sample on its own",
            )
        )
    if layer.running is not None and layer.momentum == 1.0:
        found.append(
            Finding(
                "batch_dependent",
                layer.place,
                f"{layer.type} has momentum=1: its running statistics are those of the "
                "last training batch alone, so inference depends on which batch came last.",
                "use momentum 0.1 (or None for a cumulative average) and " + _RECOMPUTE,
                {"momentum": 1.0},
            )
        )
    return found


def _never_updated(layer: Layer, running: RunningStats) -> Finding | None:
    if not running.initial or ((running.batches or 0) > 0 and layer.momentum != 0.0):
        return None
    tracked = "" if running.batches is None else f", {running.batches} batches tracked"
    why = " (momentum=0 never updates them)" if layer.momentum == 0.0 else ""
    return Finding(
        "stats_never_updated",
        layer.place,
        f"{layer.type}'s running statistics are still their initial values (mean 0, "
        f"variance 1{tracked}){why}: at inference it does not normalize its inputs at all.",
        "train the model in train() mode before eval(), or load the trained state_dict "
        "with strict=True (running statistics are buffers, not parameters)",
        {"batches_tracked": running.batches},
    )


def _statistics_findings(layer: Layer, running: RunningStats, context: Context) -> list[Finding]:
    found = []
    thresholds = context.thresholds
    eps = layer.eps or 0.0
    evidence: dict[str, object] = {}
    parts = []
    weight = _initial_weight(layer, running)
    sample = (context.sample or {}).get(layer.place)
    far = None if sample is None else far_channels(running, sample, eps, thresholds)
    if weight > thresholds.initial_weight and (sample is None or far is not None):
        evidence["initial_weight"] = weight
        parts.append(
            f"only {running.batches} batch(es) tracked with momentum {layer.momentum:g}: "
            f"{weight:.0%} of its running mean and variance are still the initial 0 and 1"
        )
    if far is not None:
        evidence["sample"] = far
        parts.append(
            f"on the sample, {far['channels']} of {far['of']} channel(s) are far from "
            f"the running statistics (channel {far['channel']}: running mean "
            f"{far['running_mean']:.4g}, variance {far['running_var']:.4g}; the sample "
            f"gives {far['sample_mean']:.4g} and {far['sample_var']:.4g}, "
            f"{far['mean_shift_sd']:.1f} SD apart, variance ratio "
            f"{far['variance_ratio']:.3g})"
        )
    if parts:
        found.append(
            Finding(
                "stale_statistics",
                layer.place,
                f"{layer.type}'s running statistics do not describe the data: "
                + "; ".join(parts)
                + ".",
                _RECOMPUTE,
                evidence,
            )
        )
    zero = _near_zero(layer, running, eps, thresholds)
    if zero is not None:
        found.append(zero)
    return found


def _initial_weight(layer: Layer, running: RunningStats) -> float:
    """The share of the running statistics that is still their initial value after
    ``batches`` updates with ``momentum``: ``(1 - momentum) ** batches`` (0 for a
    cumulative average). A sample, when given, has the last word: statistics recomputed
    as an exact average over a few batches (``torch.optim.swa_utils.update_bn``) count
    few batches too."""
    momentum = layer.momentum
    if not running.batches or momentum is None or not 0.0 < momentum < 1.0:
        return 0.0
    return (1.0 - momentum) ** running.batches


def _near_zero(
    layer: Layer, running: RunningStats, eps: float, thresholds: Thresholds
) -> Finding | None:
    limit = thresholds.zero_variance * eps
    low = np.flatnonzero(running.var <= limit)
    if not low.size:
        return None
    worst = int(low[np.argmin(running.var[low])])
    gain = 1.0 / math.sqrt(max(float(running.var[worst]), 0.0) + eps) if eps > 0 else math.inf
    return Finding(
        "zero_variance",
        layer.place,
        f"{low.size} of {running.var.size} channel(s) of {layer.type} have a running "
        f"variance near zero (at most {thresholds.zero_variance:g} x eps = {limit:.3g}; "
        f"channel {worst}: {running.var[worst]:.3g}): their scale 1/sqrt(var + eps) is up "
        f"to {gain:.4g}, so a small deviation at inference becomes a large activation.",
        "if the channels are dead (constant in training), prune them or zero their weight; "
        "otherwise " + _RECOMPUTE,
        {"channels": low.tolist()[:50], "limit": limit, "gain": gain},
    )


def _small_batch(layer: Layer, context: Context) -> Finding | None:
    size = context.batch_size
    if layer.family != "batch" or size is None or size >= context.thresholds.small_batch:
        return None
    if layer.type == "SyncBatchNorm" or "Frozen" in layer.type:
        return None
    sample = (context.sample or {}).get(layer.place)
    positions = sample.count // sample.rows if sample else 1
    per_channel = f"{size} x {positions} values" if positions > 1 else f"{size} values"
    note = f" {context.batch_note}" if context.batch_note else ""
    return Finding(
        "small_batch",
        layer.place,
        f"{layer.type} was trained with batches of {size} ({per_channel} per channel): its "
        "training-time batch statistics were too noisy to describe the data, and the "
        f"running statistics it serves with are not what the model learned with.{note}",
        "replace BatchNorm with GroupNorm (convolutions) or LayerNorm (MLPs, "
        "transformers), or train with batches of 16 or more (SyncBatchNorm across devices)",
        {"batch_size": size},
    )


def round_to(value: float, dtype: str) -> float:
    """``value`` rounded to float16 or bfloat16 (round to nearest, ties to even)."""
    if dtype == "float16":
        return float(np.float16(value))
    bits = int(np.array(value, dtype=np.float32).view(np.uint32))
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return float(np.array(bits, dtype=np.uint32).view(np.float32))


def _epsilon_finding(layer: Layer, dtype: str) -> Finding | None:
    eps = layer.eps
    if eps is None or layer.family == "local_response":
        return None
    tiny = SMALLEST_NORMAL.get(dtype)
    if eps > 0 and (tiny is None or eps >= tiny):
        return None
    stored = round_to(eps, dtype) if tiny is not None else eps
    if stored == 0.0:
        what = f"eps {eps:.3g} is 0 in {dtype}" if eps > 0 else f"eps is {eps:g}"
        effect = "divides by zero (inf, then NaN)"
    else:
        what = (
            f"eps {eps:.3g} is below {dtype}'s smallest normal number {tiny:.3g}: it is "
            f"subnormal there, stored as {stored:.4g}"
        )
        effect = "divides by an epsilon with few significant bits, and any rounding swamps it"
    floor = f"{tiny:.2g}" if tiny is not None else "1e-6"
    return Finding(
        "epsilon_underflow",
        layer.place,
        f"{layer.type}: {what}; where the variance is 0 (a constant row, padding) the layer "
        f"{effect} in runtimes that compute it in {dtype} (float16 ONNX graphs, "
        "hand-written norms).",
        f"set eps to at least {floor}, or keep this layer in float32",
        {"eps": eps, "dtype": dtype, "stored": stored, "smallest_normal": tiny},
    )
