"""Image locks fitted on real images: exact pooled statistics, any source, any batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import normlock as nl
from normlock.domains import images

from .images_data import digits, exact_mean_std, sample_images


def _params(lock: images.ImageLock) -> list[tuple[float, float]]:
    return [(f.steps[-1].params["mean"], f.steps[-1].params["std"]) for f in lock.features]


def test_pooled_statistics_of_photographs_are_exact() -> None:
    photos = sample_images()
    lock = images.fit(photos, layout="NHWC")
    assert lock.columns == ("red", "green", "blue") and lock.max_value == 255.0
    assert (lock.layout, lock.mode, lock.pixel_dtype) == ("NHWC", "pooled", "uint8")
    for c, (mean, std) in enumerate(_params(lock)):
        assert (mean, std) == exact_mean_std(photos[..., c], 255.0)
        reference = lock.features[c].reference
        assert reference["count"] == 2 * 427 * 640 and reference["quantile_mode"] == "exact"
        assert reference["quantiles"]["values"][50] == np.quantile(photos[..., c], 0.5)
    assert lock.provenance["images"] == 2 and lock.provenance["rows"] == 2 * 427 * 640


def test_any_layout_batching_or_loader_gives_the_same_lock() -> None:
    photos = sample_images()
    whole = images.fit(photos, layout="NHWC")
    nchw = np.ascontiguousarray(photos.transpose(0, 3, 1, 2))
    stripes = [photos[:, :100], photos[:, 100:], photos[0, :, :7]]  # any split of the pixels
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(nchw), torch.tensor([0, 1]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=1)
    fitted = [
        images.fit(stripes[:2], channel_axis=-1),
        images.fit(list(photos), layout="NHWC"),  # single HWC images
    ]
    assert all(f.fingerprint == whole.fingerprint for f in fitted)
    same_in_nchw = [images.fit(nchw), images.fit(loader), images.fit(iter([nchw[1], nchw[0]]))]
    assert {f.fingerprint for f in same_in_nchw} == {same_in_nchw[0].fingerprint}
    assert _params(same_in_nchw[0]) == _params(whole)
    assert images.fit(stripes, layout="NHWC").fingerprint != whole.fingerprint


def test_float_digits_through_the_moments_pass_are_exact_and_partition_proof() -> None:
    pixels = digits()
    lock = images.fit(pixels[:, None], max_value=16.0, layout="NCHW")
    assert lock.columns == ("gray",) and lock.pixel_dtype == "float64"
    assert _params(lock)[0] == exact_mean_std(pixels, 16.0)
    rng = np.random.default_rng(3)
    shuffled = pixels[rng.permutation(len(pixels))]
    parts = np.array_split(shuffled[:, None], 7)
    assert images.fit(parts, max_value=16.0).fingerprint == lock.fingerprint
    assert images.fit(pixels[:, None]).max_value is None  # float pixels: no rescale by default
    assert lock.features[0].reference["quantiles"]["values"][25] == np.quantile(pixels, 0.25)


def _write(folder, name: str, array: np.ndarray, mode: str | None = None) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path) if mode else Image.fromarray(array).save(path)


def test_folders_and_globs_of_png_jpeg_and_tiff(tmp_path) -> None:
    photos = sample_images()
    crops = [photos[0, :40, :50], photos[1, 100:130, 200:260], photos[0, 300:333, 10:30]]
    _write(tmp_path / "train", "a.png", crops[0])
    _write(tmp_path / "train", "nested/b.tiff", crops[1])
    _write(tmp_path / "train", "c.bmp", crops[2])
    (tmp_path / "train" / "notes.txt").write_text("not an image")
    lock = images.fit(tmp_path / "train")
    assert lock.fingerprint == images.fit([c.transpose(2, 0, 1) for c in crops]).fingerprint
    assert lock.provenance["image_sizes"] == {"smallest": [30, 60], "largest": [40, 50]}
    assert (
        images.fit(str(tmp_path / "train" / "*.png")).fingerprint
        == images.fit(crops[0].transpose(2, 0, 1)).fingerprint
    )
    _write(tmp_path / "jpeg", "x.jpg", crops[0])
    decoded = np.asarray(Image.open(tmp_path / "jpeg" / "x.jpg"))  # lossy: what Pillow reads
    assert _params(images.fit(tmp_path / "jpeg"))[1] == exact_mean_std(decoded[..., 1], 255.0)


def test_sixteen_bit_grayscale_and_palette_files(tmp_path) -> None:
    depth = (np.arange(12 * 9, dtype=np.uint16).reshape(12, 9) * 601).astype(np.uint16)
    Image.fromarray(depth).save(tmp_path / "depth.png")
    lock = images.fit(tmp_path / "depth.png")
    assert (lock.columns, lock.pixel_dtype, lock.max_value) == (("gray",), "uint16", 65535.0)
    assert _params(lock)[0] == exact_mean_std(depth, 65535.0)
    palette = Image.fromarray(sample_images()[0, :20, :20]).convert("P")
    palette.save(tmp_path / "palette.png")
    rgb = np.asarray(palette.convert("RGB"))
    from_file = images.fit(tmp_path / "palette.png", layout="NHWC")
    assert from_file.fingerprint == images.fit(rgb, layout="NHWC").fingerprint


def test_bad_training_images_are_errors_naming_the_image(tmp_path) -> None:
    _write(tmp_path, "rgb.png", sample_images()[0, :8, :8])
    _write(tmp_path, "z_gray.png", sample_images()[0, :8, :8, 0])
    with pytest.raises(nl.InputError, match=r"z_gray.png.*3 channel"):
        images.fit(tmp_path)
    with pytest.raises(nl.InputError, match="holds no image file"):
        images.fit(_empty(tmp_path))
    floats = np.full((2, 3, 4, 4), 0.5)
    floats[1, 2, 3, 1] = np.nan
    with pytest.raises(nl.DomainError, match=r"image 1, pixel \(row 3, column 1\), channel 'blue'"):
        images.fit(floats)
    with pytest.raises(nl.InputError, match=r"up to 300 exceed max_value=255"):
        images.fit(np.full((1, 3, 2, 2), 300.0), max_value=255)
    with pytest.raises(nl.InputError, match=r"batch 1 holds float32 pixels.*uint8"):
        images.fit([np.zeros((1, 3, 2, 2), np.uint8), np.zeros((1, 3, 2, 2), np.float32)])
    with pytest.raises(nl.InputError, match=r"looks like NHWC.*permute\(0, 3, 1, 2\)"):
        images.fit([np.zeros((1, 3, 4, 4), np.uint8), np.zeros((1, 4, 4, 3), np.uint8)])
    with pytest.warns(nl.NormlockWarning, match="already rescaled to \\[0, 1\\]"):
        images.fit(np.linspace(0, 1, 12).reshape(1, 3, 2, 2), max_value=255)


def _empty(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder
