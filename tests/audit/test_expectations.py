"""A pretrained model's declared preprocessing against the lock in front of it."""

from __future__ import annotations

import json

import pytest
import torch

import normlock as nl
from normlock.export.images import PRESETS, image_lock, preset
from tests.audit.models import ConvNet, to_onnx

IMAGENET = PRESETS["imagenet"]
HF = {
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": list(IMAGENET.mean),
    "image_std": list(IMAGENET.std),
}


class ToTensor:
    """A torchvision-style transform that scales 8-bit pixels to [0, 1]."""


class Normalize:
    def __init__(self, mean: list[float], std: list[float]) -> None:
        self.mean, self.std = mean, std


class Compose:
    def __init__(self, transforms: list[object]) -> None:
        self.transforms = transforms


@pytest.fixture(scope="module")
def model() -> ConvNet:
    return ConvNet("group").eval()


def mismatch(report: nl.audit.AuditReport) -> nl.audit.Finding:
    (finding,) = report.of_kind("preprocessing_mismatch")
    return finding


def test_the_lock_built_from_the_model_s_config_matches_it(model) -> None:
    report = nl.audit(model, lock=preset("imagenet", max_value=255), expects=HF)
    assert report.ok and report.expectations["rescale"] == 255
    assert report.expectations["mean"] == list(IMAGENET.mean)


def test_other_constants_are_named_with_their_numbers(model) -> None:
    clip = preset("openai-clip", max_value=255)
    finding = mismatch(nl.audit(model, lock=clip, expects=HF))
    assert finding.evidence["cause"] == "constants"
    assert "mean (0.485, 0.456, 0.406)" in finding.message and "other constants" in finding.message
    assert "from_hf_preprocessor" in finding.fix


def test_a_lock_for_images_in_0_1_in_front_of_a_model_that_rescales_0_255(model) -> None:
    finding = mismatch(nl.audit(model, lock=preset("imagenet"), expects=HF))
    assert finding.evidence["cause"] == "rescale"
    assert "255 times larger" in finding.message and "takes 0-255 pixels" in finding.message
    hf_unit = {**HF, "do_rescale": False}
    reverse = mismatch(nl.audit(model, lock=preset("imagenet", max_value=255), expects=hf_unit))
    assert (
        reverse.evidence["cause"] == "rescale" and "the lock takes 0-255 pixels" in reverse.message
    )


def test_channels_in_the_other_order(model) -> None:
    bgr = image_lock(
        IMAGENET.mean[::-1], IMAGENET.std[::-1], max_value=255, channels=["blue", "green", "red"]
    )
    finding = mismatch(nl.audit(model, lock=bgr, expects=HF))
    assert finding.evidence["cause"] == "channel_order" and "RGB vs BGR" in finding.message


def test_a_timm_config_is_compared_after_the_lock_s_own_rescale(model) -> None:
    """timm states mean and std of images in [0, 1], whatever produced them."""
    cfg = {"mean": IMAGENET.mean, "std": IMAGENET.std, "hf_hub_id": "timm/resnet18.a1_in1k"}
    assert nl.audit(model, lock=preset("imagenet", max_value=255), expects=cfg).ok
    assert nl.audit(model, lock=preset("imagenet"), expects=cfg).ok
    standard = preset("imagenet-standard", max_value=255)
    finding = mismatch(nl.audit(model, lock=standard, expects=cfg))
    assert "applies mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5) after its rescale" in finding.message


def test_a_model_s_own_pretrained_cfg_is_read() -> None:
    carrying = ConvNet("group").eval()
    carrying.pretrained_cfg = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
    report = nl.audit(carrying, lock=preset("imagenet"))
    assert mismatch(report).evidence["declared"]["source"] == "timm pretrained_cfg"


def test_torchvision_style_transforms(model) -> None:
    transforms = Compose([ToTensor(), Normalize(list(IMAGENET.mean), list(IMAGENET.std))])
    assert nl.audit(model, lock=preset("imagenet", max_value=255), expects=transforms).ok
    finding = mismatch(nl.audit(model, lock=preset("imagenet"), expects=transforms))
    assert finding.evidence["cause"] == "rescale"
    bare = Normalize(list(IMAGENET.mean), list(IMAGENET.std))  # images in [0, 1]
    assert nl.audit(model, lock=preset("imagenet"), expects=bare).ok


def test_a_config_file_beside_an_onnx_model_is_read(tmp_path, model) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(model, torch.rand(2, 3, 8, 8)).SerializeToString())
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({**HF, "image_mean": [0.5] * 3}))
    report = nl.audit(path, lock=preset("imagenet", max_value=255))
    assert (
        mismatch(report).evidence["declared"]["source"] == "Hugging Face preprocessor_config.json"
    )
    assert nl.audit(path).notes == (
        "Hugging Face preprocessor_config.json was not compared: no lock was given",
    )


def test_what_cannot_be_compared_is_noted(model) -> None:
    tabular = nl.fit({"a": [1.0, 2.0, 3.0]})
    report = nl.audit(model, lock=tabular, expects=HF)
    assert report.ok and "declares 3 channel(s); the lock has 1 feature(s)" in report.notes[0]
    no_normalize = nl.audit(model, lock=preset("imagenet"), expects={**HF, "do_normalize": False})
    assert "declares no mean and std" in no_normalize.notes[0]
    with pytest.raises(nl.InputError, match="declares a mean but no std"):
        nl.audit(model, lock=preset("imagenet"), expects={"mean": [0.5] * 3})
