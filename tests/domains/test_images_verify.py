"""Verifying image pipelines: each classic image mistake is caught and named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from normlock.domains import images

from .images_data import sample_images


@pytest.fixture(scope="module")
def lock() -> images.ImageLock:
    crops = np.ascontiguousarray(sample_images()[:, :64, :64].transpose(0, 3, 1, 2))
    return images.fit(crops)


def _constants(lock, shape):
    mean = np.array([f.steps[1].params["mean"] for f in lock.features]).reshape(shape)
    std = np.array([f.steps[1].params["std"] for f in lock.features]).reshape(shape)
    return mean, std


def _out(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    return z.astype(np.float64 if x.dtype == np.float64 else np.float32)


def torchvision_style(lock):
    """ToTensor then Normalize, in float32, as a torchvision pipeline computes."""
    mean, std = _constants(lock, (1, 3, 1, 1))

    def serve(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.asarray(x, dtype=np.float32)) / 255.0
        return (
            (t - torch.tensor(mean, dtype=torch.float32)) / torch.tensor(std, dtype=torch.float32)
        ).numpy()

    return serve


def test_the_lock_and_its_exports_pass_and_float32_arithmetic_is_named(lock) -> None:
    assert lock.verify(lock.to_torch()).verdict == "identical"
    assert lock.verify(lock.to_onnx(input_dtype="uint8")).verdict == "identical"
    mean, std = _constants(lock, (1, 3, 1, 1))
    reciprocal = lock.verify(
        lambda x: _out(x, (x.astype(np.float64) * (1 / 255) - mean) * (1 / std))
    )
    assert reciprocal.passed and reciprocal.verdict in ("identical", "equivalent")
    runs = {r.run for r in reciprocal.results}
    assert runs == {"uint8 probe images", "float32 probe images", "float64 probe images"}
    report = lock.verify(torchvision_style(lock))  # the lock computes in float64
    assert _causes(report) <= {"precision", "parameter_precision"} and not report.passed


def _causes(report) -> set[str]:
    return {r.cause.kind for r in report.mismatches}


def test_per_image_statistics_where_the_lock_pools_are_named(lock) -> None:
    def per_image(x):
        y = x.astype(np.float64) / 255.0
        m, s = y.mean(axis=(2, 3), keepdims=True), y.std(axis=(2, 3), keepdims=True)
        return _out(x, (y - m) / s)

    report = lock.verify(per_image)
    assert not report.passed and _causes(report) == {"per_image"}
    assert "standardized per image" in report.summary()


def test_pooled_statistics_where_the_lock_standardizes_each_image_are_named(lock) -> None:
    per_image_lock = images.fit(
        np.asarray(sample_images()[:, :32, :32]), layout="NHWC", mode="per_image"
    )
    mean, std = _constants(lock, (1, 1, 1, 3))
    report = per_image_lock.verify(lambda x: _out(x, (x.astype(np.float64) / 255 - mean) / std))
    assert _causes(report) == {"pooled"}
    assert per_image_lock.verify(per_image_lock.to_torch()).passed


def test_pixels_in_0_255_against_0_1_are_named(lock) -> None:
    mean, std = _constants(lock, (1, 3, 1, 1))
    missing = lock.verify(lambda x: _out(x, (x.astype(np.float64) - mean) / std))
    assert _causes(missing) == {"rescale_missing"}
    assert "its rescale (/255) is missing" in missing.summary()
    twice = lock.verify(lambda x: _out(x, (x.astype(np.float64) / 255 / 255 - mean) / std))
    assert _causes(twice) == {"rescaled_twice"}


def test_a_pipeline_that_takes_the_other_layout_is_named(lock) -> None:
    mean, std = _constants(lock, (1, 1, 1, 3))

    def channels_last(x):  # broadcasts only over NHWC batches
        return _out(x, (x.astype(np.float64) / 255 - mean) / std)

    report = lock.verify(channels_last)
    assert _causes(report) == {"layout"}
    assert "the target takes NHWC batches" in report.summary()
    nhwc = images.preset("imagenet", max_value=255, layout="NHWC")
    assert _causes(lock.verify(nhwc.to_torch())) == {"layout"}


def test_reversed_channel_statistics_are_named(lock) -> None:
    mean, std = _constants(lock, (1, 3, 1, 1))
    report = lock.verify(
        lambda x: _out(x, (x.astype(np.float64) / 255 - mean[:, ::-1]) / std[:, ::-1])
    )
    assert _causes(report) == {"channel_order"}
    assert {r.feature for r in report.mismatches} == {"red", "blue"}


def test_other_statistics_fall_back_to_the_per_channel_diagnosis(lock) -> None:
    imagenet = images.preset("imagenet", max_value=255)
    report = lock.verify(imagenet.to_torch())
    assert not report.passed and _causes(report) == {"other_data"}


def test_monitor_names_pixels_in_0_1_fed_to_a_0_255_lock(lock) -> None:
    served = np.ascontiguousarray(sample_images()[:, 64:128, 64:128].transpose(0, 3, 1, 2))
    healthy = lock.monitor()
    healthy.update(served)
    assert healthy.profile.rows == 2 * 64 * 64
    rescaled = lock.monitor()
    rescaled.update(served.astype(np.float32) / 255.0)
    report = rescaled.report()
    assert not report.ok
    assert any(f.kind in ("unit_change", "double_normalization") for f in report.findings)
    normalized = lock.monitor(stage="normalized")
    normalized.update(lock.transform(served))
    assert normalized.profile.rows == 2 * 64 * 64
