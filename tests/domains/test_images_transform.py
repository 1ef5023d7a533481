"""Image locks applied: the canonical chain per channel, the same bits in torch and ONNX."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import normlock as nl
from normlock.domains import images
from tests.export.parity import assert_same_bits, normalize_onnx

from .images_data import by_hand, exact_mean_std, sample_images


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    """Crops of the photographs, NCHW uint8."""
    return np.ascontiguousarray(sample_images()[:, 100:140, 200:248].transpose(0, 3, 1, 2))


@pytest.fixture(scope="module")
def lock(photos) -> images.ImageLock:
    return images.fit(photos)


def _means_stds(lock):
    return (
        [f.steps[1].params["mean"] for f in lock.features],
        [f.steps[1].params["std"] for f in lock.features],
    )


def test_transform_is_the_chain_rounded_once_in_every_layout_and_container(lock, photos) -> None:
    means, stds = _means_stds(lock)
    expected = by_hand(photos, means, stds, 255.0, axis=1)
    out = lock.transform(photos)
    assert out.dtype == np.float32  # integer pixels: what image models take
    assert_same_bits(out, expected.astype(np.float32))
    assert_same_bits(lock.transform(photos, dtype=np.float64), expected)
    assert_same_bits(lock.transform(photos[0]), out[0])  # one CHW image
    nhwc = np.ascontiguousarray(photos.transpose(0, 2, 3, 1))
    assert_same_bits(lock.transform(nhwc, layout="NHWC"), out.transpose(0, 2, 3, 1))
    tensor = lock.transform(torch.from_numpy(photos.astype(np.float32)))
    assert isinstance(tensor, torch.Tensor)
    assert_same_bits(
        tensor.numpy(), by_hand(photos.astype(np.float32), means, stds, 255.0, 1).astype(np.float32)
    )
    columns = {c: photos[:, j].reshape(-1) for j, c in enumerate(lock.columns)}
    assert_same_bits(lock.transform(columns)["green"], expected[:, 1].reshape(-1))
    back = lock.inverse_transform(lock.transform(photos, dtype=np.float64))
    assert np.abs(back - photos).max() < 1e-10


def test_a_batch_in_the_other_layout_is_an_error_that_says_so(lock, photos) -> None:
    nhwc = photos.transpose(0, 2, 3, 1)
    with pytest.raises(nl.InputError, match=r"looks like NHWC .*permute\(0, 3, 1, 2\)"):
        lock.transform(nhwc)
    with pytest.raises(nl.InputError, match="expected a batch of images"):
        lock.transform(photos[None])


def test_torch_module_gives_the_same_bits_in_both_layouts(lock, photos) -> None:
    for dtype in (np.uint8, np.float32, np.float64):
        batch = photos.astype(dtype)
        module = lock.to_torch()
        assert_same_bits(module(torch.from_numpy(batch)).numpy(), lock.transform(batch))
        assert_same_bits(module(torch.from_numpy(batch[1])).numpy(), lock.transform(batch[1]))
        nhwc = np.ascontiguousarray(batch.transpose(0, 2, 3, 1))
        swapped = lock.to_torch(layout="NHWC")(torch.from_numpy(nhwc)).numpy()
        assert_same_bits(swapped, lock.transform(nhwc, layout="NHWC"))


def test_onnx_graph_gives_the_same_bits_for_uint8_and_float_inputs(lock, photos) -> None:
    for input_dtype in ("uint8", "float32", "float64"):
        batch = photos.astype(input_dtype)
        graph = lock.to_onnx(input_dtype=input_dtype)
        assert_same_bits(normalize_onnx(graph, {"input": batch}), lock.transform(batch))
    nhwc = np.ascontiguousarray(photos.transpose(0, 2, 3, 1))
    graph = lock.to_onnx(input_dtype="uint8", layout="NHWC")
    assert_same_bits(normalize_onnx(graph, {"input": nhwc}), lock.transform(nhwc, layout="NHWC"))


def test_per_image_policy_matches_instance_norm_and_exact_statistics(photos) -> None:
    lock = images.fit(photos, mode="per_image", epsilon=1e-5)
    assert [s.method for s in lock.features[0].steps] == ["minmax"] and lock.epsilon == 1e-5
    out = lock.transform(photos, dtype=np.float64)
    y = torch.from_numpy(photos.astype(np.float64) / 255.0)
    instance = torch.nn.InstanceNorm2d(3, eps=1e-5)(y).numpy()
    assert np.abs(out - instance).max() < 1e-13
    mean, std = exact_mean_std(photos[1, 2], 255.0)
    by_exact = (photos[1, 2].astype(np.float64) / 255.0 - mean) / np.sqrt(std * std + 1e-5)
    assert np.abs(out[1, 2] - by_exact).max() < 1e-14
    assert_same_bits(lock.transform(photos[1:]), lock.transform(photos)[1:])  # batch-free
    module = lock.to_torch()
    for dtype in (np.uint8, np.float32):
        got = module(torch.from_numpy(photos.astype(dtype))).numpy()
        assert np.abs(got.astype(np.float64) - lock.transform(photos.astype(dtype))).max() <= 2.4e-7
    with pytest.raises(nl.NotInvertibleError, match="each image's own mean"):
        lock.inverse_transform(out)
    with pytest.raises(nl.NotExportableError, match="pooled locks"):
        lock.to_onnx()
    with pytest.raises(nl.InputError, match="whole images"):
        lock.transform({"red": np.zeros(3), "green": np.zeros(3), "blue": np.zeros(3)})


def test_image_locks_save_load_seal_show_and_diff(tmp_path, lock, photos) -> None:
    path = lock.save(tmp_path / "images.normlock.json")
    loaded = nl.load(path)
    assert isinstance(loaded, images.ImageLock) and loaded == lock
    assert loaded.fingerprint == lock.fingerprint and loaded.format_version == 2
    assert_same_bits(loaded.transform(photos), lock.transform(photos))
    text = path.read_text()
    path.write_text(text.replace('"layout": "NCHW"', '"layout": "NHWC"'))
    with pytest.raises(nl.LockIntegrityError, match="modified after it was written"):
        nl.load(path)
    from normlock.diff import diff_locks
    from normlock.render import lock_overview

    other = images.fit(photos, mode="per_image")
    changes = {c.key: (c.old, c.new) for c in diff_locks(lock, other).changes if c.kind == "domain"}
    assert changes["mode"] == ("pooled", "per_image") and changes["epsilon"] == (None, 1e-5)
    assert diff_locks(lock, other).transforms_differ
    assert lock_overview(lock)["domain"]["layout"] == "NCHW"
    table = nl.fit({"a": np.arange(5.0)}).to_json()
    with pytest.raises(nl.InputError, match="a tabular lock, which ImageLock does not read"):
        images.ImageLock.from_json(table)


def test_presets_and_importers_are_image_locks() -> None:
    from normlock.export.images import preset as old_path

    lock = images.preset("imagenet", max_value=255, layout="NHWC")
    assert isinstance(lock, images.ImageLock) and lock.layout == "NHWC"
    assert (
        old_path("imagenet", max_value=255).fingerprint
        == images.preset("imagenet", max_value=255).fingerprint
    )
    pixels = np.full((1, 2, 2, 3), 255, np.uint8)
    assert_same_bits(
        lock.transform(pixels)[0, 0, 0], np.array([2.2489083, 2.4285715, 2.64], np.float32)
    )
