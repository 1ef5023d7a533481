"""Per-channel image locks from presets, torchvision Normalize, Hugging Face and timm configs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import normlock as nl
from normlock.export.images import (
    PRESETS,
    from_hf_preprocessor,
    from_normalize,
    from_timm,
    image_lock,
    preset,
    transform_image,
)

from .parity import assert_same_bits, normalize_onnx

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _images(dtype=np.uint8) -> np.ndarray:
    rng = np.random.default_rng(21)
    pixels = rng.integers(0, 256, (2, 3, 5, 4))
    pixels[0, :, 0, 0] = [0, 255, 128]
    return pixels.astype(dtype)


def _by_hand(images: np.ndarray, mean, std, max_value: float | None) -> np.ndarray:
    """((x - 0) / max_value - mean) / std per channel, in float64, in the lock's order."""
    x = images.astype(np.float64)
    if max_value is not None:
        x = (x - 0.0) / max_value
    m = np.array(mean)[None, :, None, None]
    s = np.array(std)[None, :, None, None]
    return (x - m) / s


def test_imagenet_preset_on_8_bit_images() -> None:
    lock = preset("imagenet", max_value=255)
    assert lock.columns == ("red", "green", "blue")
    assert PRESETS["imagenet"].mean == IMAGENET_MEAN
    images = _images()
    out = transform_image(lock, images, channel_axis=1)
    assert_same_bits(out, _by_hand(images, IMAGENET_MEAN, IMAGENET_STD, 255.0))
    hwc = transform_image(lock, np.moveaxis(images[0], 0, -1), channel_axis=-1)
    assert_same_bits(np.moveaxis(hwc, -1, 0), out[0])


def test_image_lock_in_torch_and_onnx_gives_the_same_bits() -> None:
    lock = preset("imagenet", max_value=255)
    images = _images(np.float32)
    expected = transform_image(lock, images, channel_axis=1)
    module = lock.to_torch(feature_dim=-3)
    assert_same_bits(module(torch.from_numpy(images)).numpy(), expected)
    assert_same_bits(module(torch.from_numpy(images[0])).numpy(), expected[0])  # CHW
    out = normalize_onnx(lock.to_onnx(feature_axis=1, rank=4), {"input": images})
    assert_same_bits(out, expected)


def test_torchvision_style_normalize_with_lists_or_tensors() -> None:
    images = _images(np.float64) / 255.0
    for mean, std in [
        (list(IMAGENET_MEAN), list(IMAGENET_STD)),
        (torch.tensor(IMAGENET_MEAN, dtype=torch.float64), torch.tensor(IMAGENET_STD)),
    ]:
        lock = from_normalize(SimpleNamespace(mean=mean, std=std, inplace=False))
        assert lock.provenance["sources"] == ["imported from torchvision-style SimpleNamespace"]
        x = torch.from_numpy(images)
        m = torch.as_tensor(mean, dtype=torch.float64)[:, None, None]
        s = torch.as_tensor(std, dtype=torch.float64)[:, None, None]
        torchvision_formula = ((x - m) / s).numpy()  # Normalize's sub then div, in float64
        assert_same_bits(transform_image(lock, images, channel_axis=1), torchvision_formula)
    with pytest.raises(nl.InputError, match="has no 'mean' and 'std'"):
        from_normalize(object())


def test_hugging_face_preprocessor_config(tmp_path) -> None:
    config = {
        "do_normalize": True,
        "do_rescale": True,
        "rescale_factor": 0.00392156862745098,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "image_processor_type": "ViTImageProcessor",
    }
    path = tmp_path / "preprocessor_config.json"
    path.write_text(json.dumps(config))
    lock = from_hf_preprocessor(path)
    assert lock.provenance["sources"] == ["imported from Hugging Face preprocessor_config.json"]
    images = _images()
    out = transform_image(lock, images, channel_axis=1)
    assert_same_bits(out, _by_hand(images, [0.5] * 3, [0.5] * 3, 255.0))
    rescaled = images.astype(np.float64) * config["rescale_factor"]  # Hugging Face multiplies
    assert np.allclose(out, (rescaled - 0.5) / 0.5, rtol=0, atol=4e-16)
    assert out.min() == -1.0 and out.max() == 1.0


def test_hugging_face_switches_and_missing_constants() -> None:
    no_rescale = from_hf_preprocessor({"do_rescale": False, "image_mean": 0.5, "image_std": 0.25})
    assert [s.method for s in no_rescale.feature("red").steps] == ["standard"]
    only_rescale = from_hf_preprocessor({"do_normalize": False})
    assert [s.method for s in only_rescale.feature("blue").steps] == ["minmax"]
    assert only_rescale.transform({"red": 255.0, "green": 0.0, "blue": 51.0})["blue"] == 0.2
    with pytest.raises(nl.InputError, match=r"no 'image_mean' or 'image_std'.*preset"):
        from_hf_preprocessor({"do_rescale": True})
    with pytest.raises(nl.InputError, match="neither a rescale nor a mean/std"):
        from_hf_preprocessor({"do_rescale": False, "do_normalize": False})
    with pytest.raises(nl.InputError, match="rescale_factor must be a positive number"):
        from_hf_preprocessor({"rescale_factor": "1/255", "do_normalize": False})


@dataclass
class PretrainedCfg:
    """The shape of timm's pretrained_cfg dataclass (timm itself is not needed)."""

    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    hf_hub_id: str = "timm/resnet50.a1_in1k"


def test_timm_pretrained_cfg_as_dict_or_object() -> None:
    from_dict = from_timm({"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "crop_pct": 0.95})
    from_object = from_timm(PretrainedCfg(), max_value=255)
    assert from_object.provenance["imported_from"]["hf_hub_id"] == "timm/resnet50.a1_in1k"
    assert from_dict.fingerprint == preset("imagenet").fingerprint
    assert from_object.fingerprint == preset("imagenet", max_value=255).fingerprint
    with pytest.raises(nl.InputError, match=r"no 'mean' or 'std'.*ImageNet"):
        from_timm({"input_size": (3, 224, 224)})


def test_image_locks_save_load_and_reject_bad_constants(tmp_path) -> None:
    lock = image_lock([0.1, 0.2], [0.3, 0.4], max_value=65535, channels=["nir", "red"])
    assert lock.columns == ("nir", "red")
    assert all(f.reference["count"] == 0 for f in lock.features)
    loaded = nl.load(lock.save(tmp_path / "image.normlock.json"))
    pixels = np.array([[0.0, 65535.0], [1000.0, 30.0]])
    assert_same_bits(loaded.transform(pixels), lock.transform(pixels))
    with pytest.raises(nl.InputError, match="std must be positive"):
        image_lock([0.5], [0.0])
    with pytest.raises(nl.InputError, match="std has 1 values, expected 3"):
        image_lock(IMAGENET_MEAN, [0.2])
    with pytest.raises(nl.InputError, match="unknown image preset 'imagenet1k'"):
        preset("imagenet1k")
    with pytest.raises(nl.InputError, match="the lock has 2 channels"):
        transform_image(lock, np.zeros((3, 4, 4)))
