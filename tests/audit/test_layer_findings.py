"""Each layer finding on a real model that has the fault, in every form it is served in,
and never on the same model without it."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import normlock as nl
from normlock.audit.layers import FAMILIES, MODES
from tests.audit.forms import FORMS, audited
from tests.audit.models import Block, ConvNet, calibrate, images, to_onnx, train


def places(report: nl.audit.AuditReport, kind: str) -> list[str]:
    return [f.layer for f in report.of_kind(kind)]


@pytest.mark.parametrize("form", FORMS)
def test_a_well_trained_eval_model_has_no_finding(form: str, healthy: ConvNet, held_out) -> None:
    report = audited(healthy, form, held_out[:2], sample=held_out, batch_size=64)
    assert [layer.place for layer in report.layers] == ["bn1", "bn2"]
    assert report.ok, str(report)


@pytest.mark.parametrize("form", FORMS)
def test_batch_norm_left_in_training_mode(form: str, healthy: ConvNet, held_out) -> None:
    report = audited(healthy.train(), form, held_out[:2])
    assert places(report, "training_mode") == ["bn1", "bn2"]
    assert "eval()" in report.of_kind("training_mode")[0].fix
    assert {layer.mode for layer in report.layers} == {"training"}


@pytest.mark.parametrize("form", FORMS)
def test_running_statistics_never_updated(form: str, held_out) -> None:
    report = audited(ConvNet().eval(), form, held_out[:2])
    assert places(report, "stats_never_updated") == ["bn1", "bn2"]
    assert report.kinds() == {"stats_never_updated"}


def test_statistics_of_a_few_training_steps_are_mostly_initial(few_steps: ConvNet) -> None:
    """3 batches with momentum 0.1: 0.9 ** 3 = 73% of the statistics is still 0 and 1."""
    report = nl.audit(few_steps)
    assert places(report, "stale_statistics") == ["bn1", "bn2"]
    assert report.of_kind("stale_statistics")[0].evidence["initial_weight"] == pytest.approx(0.9**3)
    assert "73%" in report.of_kind("stale_statistics")[0].message


@pytest.mark.parametrize("form", FORMS)
def test_a_sample_shows_the_stale_statistics(form: str, few_steps: ConvNet, held_out) -> None:
    report = audited(few_steps, form, held_out[:2], sample=held_out)
    assert places(report, "stale_statistics") == ["bn1", "bn2"]
    far = report.of_kind("stale_statistics")[1].evidence["sample"]
    assert far["channels"] >= 1 and far["values_per_channel"] == 256 * 64


@pytest.mark.parametrize("form", FORMS)
def test_statistics_far_from_a_shifted_sample(form: str, healthy: ConvNet) -> None:
    """Served images brighter than the training images: the first layer's running
    statistics no longer describe what it receives."""
    shifted = images(256, seed=2, shift=1.0)[0]
    report = audited(healthy, form, shifted[:2], sample=shifted)
    assert "bn1" in places(report, "stale_statistics")
    evidence = report.of_kind("stale_statistics")[0].evidence["sample"]
    assert evidence["mean_shift_sd"] > 0.5


def test_the_sample_statistics_are_those_of_the_layer_input(healthy: ConvNet, held_out) -> None:
    """The hook's statistics, checked against the layer input computed by hand."""
    from normlock.audit.torch_model import inspect_torch

    found = inspect_torch(healthy, "net", held_out, None)
    with torch.no_grad():
        inputs = healthy.conv1(held_out).double()
    assert torch.allclose(torch.from_numpy(found.stats["bn1"].mean), inputs.mean(dim=(0, 2, 3)))
    expected_var = inputs.var(dim=(0, 2, 3), unbiased=False)
    assert torch.allclose(torch.from_numpy(found.stats["bn1"].var), expected_var)
    assert healthy.bn1.num_batches_tracked.item() == 40  # the pass updated nothing


def test_a_small_sample_raises_no_false_alarm(healthy: ConvNet, held_out) -> None:
    """Two images miss the spread between images: too few to judge, and said so."""
    report = audited(healthy, "torch", held_out[:2], sample=held_out[:2])
    assert report.ok and "the sample has 2 row(s): at least 16" in report.notes[0]
    assert audited(healthy, "torch", held_out[:2], sample=held_out[:16]).ok


@pytest.mark.parametrize("form", ("torch", "onnx"))
def test_channels_with_zero_running_variance(form: str, healthy: ConvNet, data) -> None:
    """A dead channel (its convolution zeroed) has variance 0: eps alone scales it."""
    with torch.no_grad():
        healthy.conv1.weight[3] = 0.0
        healthy.conv1.bias[3] = 0.0
    calibrate(healthy, data[0], batch_size=16)
    report = audited(healthy, form, data[0][:2])
    (finding,) = report.of_kind("zero_variance")
    assert finding.layer == "bn1" and finding.evidence["channels"] == [3]
    assert finding.evidence["gain"] == pytest.approx(1 / 1e-5**0.5, rel=1e-3)


def test_batch_norm_trained_with_batches_of_two(small_batches: ConvNet, healthy: ConvNet) -> None:
    report = nl.audit(small_batches, batch_size=2)
    assert places(report, "small_batch") == ["bn1", "bn2"]
    assert "GroupNorm" in report.of_kind("small_batch")[0].fix
    assert not nl.audit(healthy, batch_size=64).findings


def test_the_batch_size_is_read_from_the_data_loader(small_batches: ConvNet, data) -> None:
    x, y = data
    report = nl.audit(small_batches, loader=DataLoader(TensorDataset(x, y), batch_size=2))
    assert places(report, "small_batch") == ["bn1", "bn2"]
    assert "last batch" not in report.of_kind("small_batch")[0].message
    large = DataLoader(TensorDataset(x, y), batch_size=64)
    assert not nl.audit(small_batches, loader=large).of_kind("small_batch")
    uneven = nl.audit(small_batches, loader=DataLoader(TensorDataset(x[:5]), batch_size=2))
    assert "last batch has 1 row(s)" in uneven.of_kind("small_batch")[0].message


def test_group_norm_trained_with_batches_of_two_is_fine(data) -> None:
    x, y = data
    model = train(ConvNet("group"), x, y, batch_size=2, steps=5)
    report = nl.audit(model, batch_size=2)
    assert [layer.family for layer in report.layers] == ["group", "group"]
    assert report.ok


@pytest.mark.parametrize("form", FORMS)
def test_epsilon_below_the_smallest_float16_normal(form: str) -> None:
    example = torch.randn(2, 5, 8)
    report = audited(Block(eps=1e-12), form, example, dtype="float16")
    assert places(report, "epsilon_underflow") == ["ln", "rms"]
    assert "is 0 in float16" in report.of_kind("epsilon_underflow")[0].message
    subnormal = audited(Block(eps=1e-5), form, example, dtype="float16")
    assert "subnormal there, stored as 1.001e-05" in subnormal.findings[0].message
    assert audited(Block(eps=1e-3), form, example, dtype="float16").ok
    assert audited(Block(eps=1e-12), form, example, dtype="float32").ok


def test_the_inference_dtype_is_the_model_s() -> None:
    half = Block(eps=1e-12).half()
    report = nl.audit(half)
    assert report.dtype == "float16" and report.kinds() == {"epsilon_underflow"}
    assert nl.audit(Block(eps=1e-12, rms="torch")).ok
    assert nl.audit(Block(eps=1e-40), dtype="bfloat16").kinds() == {"epsilon_underflow"}
    assert nl.audit(Block(eps=1e-12), dtype="bfloat16").ok


@pytest.mark.parametrize("form", ("torch", "export"))
def test_no_running_statistics_makes_inference_batch_dependent(form: str, data) -> None:
    x, y = data
    model = train(ConvNet(track_running_stats=False), x, y, batch_size=64, steps=3)
    report = audited(model, form, x[:2])
    assert places(report, "batch_dependent") == ["bn1", "bn2"]
    assert {layer.mode for layer in report.layers} == {"batch statistics"}
    one = model(x[:1])
    assert not torch.allclose(one, model(x[:8])[:1])  # what the finding says


@pytest.mark.parametrize("form", FORMS)
def test_momentum_one_keeps_the_last_batch_only(form: str, data, held_out) -> None:
    x, y = data
    model = calibrate(train(ConvNet(momentum=1.0), x, y, batch_size=64, steps=3), x)
    model.bn1.momentum = model.bn2.momentum = 1.0
    report = audited(model, form, held_out[:2])
    assert places(report, "batch_dependent") == ["bn1", "bn2"]
    healthy = copy.deepcopy(model)
    healthy.bn1.momentum = healthy.bn2.momentum = 0.1
    assert not audited(healthy, form, held_out[:2]).of_kind("batch_dependent")


def test_layers_of_every_family_are_listed() -> None:
    class HFRMSNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(4))
            self.variance_epsilon = 1e-6

    model = nn.Sequential(
        nn.BatchNorm1d(4),
        nn.SyncBatchNorm(4),
        nn.InstanceNorm1d(4, track_running_stats=True),
        nn.LayerNorm(4),
        nn.RMSNorm(4),
        nn.GroupNorm(2, 4),
        nn.LocalResponseNorm(2),
        HFRMSNorm(),
    ).eval()
    layers = nl.audit(model).layers
    assert {x.family for x in layers} == set(FAMILIES) and {x.mode for x in layers} <= set(MODES)
    assert [(x.place, x.type, x.family) for x in layers] == [
        ("0", "BatchNorm1d", "batch"),
        ("1", "SyncBatchNorm", "batch"),
        ("2", "InstanceNorm1d", "instance"),
        ("3", "LayerNorm", "layer"),
        ("4", "RMSNorm", "rms"),
        ("5", "GroupNorm", "group"),
        ("6", "LocalResponseNorm", "local_response"),
        ("7", "HFRMSNorm", "rms"),
    ]
    assert layers[0].params == {"num_features": 4, "affine": True, "track_running_stats": True}
    assert layers[2].mode == "running statistics" and layers[3].mode == "per sample"
    assert layers[4].eps is None and layers[7].eps == 1e-6
    assert layers[5].params == {"num_groups": 2, "num_channels": 4, "affine": True}
    assert "eps=1e-05" in layers[0].settings()


def test_torchscript_files_are_read_like_the_module(tmp_path, few_steps: ConvNet) -> None:
    path = tmp_path / "net.pt"
    torch.jit.script(few_steps).save(str(path))
    report = nl.audit(path, sample=images(8)[0])
    assert report.framework == "torchscript"
    assert places(report, "stale_statistics") == ["bn1", "bn2"]
    assert "takes no forward hooks" in report.notes[0]


def test_onnx_operators_of_every_family_are_listed() -> None:
    """A graph written by hand with each operator (as other exporters write them)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from normlock.audit.onnx_layers import Graph, onnx_layers

    def const(name: str, value: list[float]) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(value, dtype=np.float32), name)

    nodes = [
        helper.make_node(
            "BatchNormalization", ["x", "s", "b", "m", "v"], ["y1"], name="/bn/BN",
            epsilon=1e-3, momentum=0.99, training_mode=0,
        ),
        helper.make_node("GroupNormalization", ["y1", "s", "b"], ["y2"], num_groups=1,
                         epsilon=1e-6),
        helper.make_node("LRN", ["y2"], ["y3"], size=3, alpha=1e-4, beta=0.75, bias=2.0),
        helper.make_node("RMSNormalization", ["y3", "s"], ["y4"], epsilon=1e-7),
        helper.make_node(
            "SkipLayerNormalization", ["y4", "y1", "s", "b"], ["y5"], domain="com.microsoft",
            epsilon=1e-12,
        ),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y5", TensorProto.FLOAT, [None, 2])],
        [const("s", [1, 1]), const("b", [0, 0]), const("m", [0.5, 2.0]), const("v", [4.0, 0.0])],
    )
    layers = onnx_layers(Graph.of(graph))
    assert [(x.place, x.family, x.eps) for x in layers] == [
        ("bn", "batch", pytest.approx(1e-3)),
        ("GroupNormalization", "group", pytest.approx(1e-6)),
        ("LRN", "local_response", None),
        ("RMSNormalization", "rms", pytest.approx(1e-7)),
        ("SkipLayerNormalization", "layer", pytest.approx(1e-12)),
    ]
    bn = layers[0]
    assert bn.momentum == pytest.approx(0.01) and bn.mode == "running statistics"
    assert bn.running is not None and bn.running.var.tolist() == [4.0, 0.0]
    assert layers[2].params == {
        "node": "",
        "size": 3,
        "alpha": pytest.approx(1e-4),
        "beta": 0.75,
        "bias": 2.0,
    }


def test_onnx_exports_of_instance_and_group_norms_are_told_apart() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.InstanceNorm2d(4), nn.GroupNorm(2, 4), nn.LocalResponseNorm(2)
    ).eval()
    report = nl.audit(to_onnx(model, torch.randn(2, 3, 4, 4)))
    assert [(x.place, x.family) for x in report.layers] == [
        ("1", "instance"),
        ("2", "group"),
    ]  # torch's exporter writes LocalResponseNorm as pooling arithmetic
    assert report.layers[1].params["num_groups"] == 2


def test_decomposed_programs_read_as_the_exported_ones(healthy: ConvNet, held_out) -> None:
    """``run_decompositions`` turns batch_norm into its native variants (no_training,
    functional, no_stats): each is read with its own arguments."""
    cases = {
        "healthy": (healthy, set()),
        "training": (copy.deepcopy(healthy).train(), {"training_mode"}),
        "fresh": (ConvNet().eval(), {"stats_never_updated"}),
        "untracked": (ConvNet(track_running_stats=False).eval(), {"batch_dependent"}),
    }
    for name, (model, kinds) in cases.items():
        program = torch.export.export(model, (held_out[:2],)).run_decompositions()
        report = nl.audit(program)
        assert report.kinds() == kinds, name
        assert [layer.eps for layer in report.layers] == [1e-5, 1e-5], name
