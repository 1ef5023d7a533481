"""``normlock fit --domain`` and the other commands on domain locks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

import normlock as nl
from normlock.domains import images
from tests.cli.helpers import run
from tests.domains.images_data import sample_images


def _image_folder(directory: Path, name: str, start: int) -> Path:
    folder = directory / name
    folder.mkdir()
    photos = sample_images()
    for i in range(3):
        crop = photos[i % 2, start + 20 * i : start + 20 * i + 30, 100:140]
        Image.fromarray(crop).save(folder / f"img{i}.png")
    return folder


def test_fit_show_verify_monitor_and_diff_an_image_lock(tmp_path: Path) -> None:
    train = _image_folder(tmp_path, "train", 0)
    out = tmp_path / "images.normlock.json"
    result = run("fit", "--domain", "images", train, "--set", "max_value=255", "-o", out)
    assert result.exit_code == 0, result.output
    assert "locked images (3 feature(s)) from 3 images (3,600 pixels)" in result.output
    lock = nl.load(out)
    assert lock.fingerprint == images.fit(train, max_value=255).fingerprint
    shown = run("show", out)
    assert "images lock: layout=NCHW" in shown.output and "mode=pooled" in shown.output
    overview = json.loads(run("show", out, "--json").output)
    assert overview["domain"]["kind"] == "images"
    module = tmp_path / "serving.py"
    means = [f.steps[1].params["mean"] for f in lock.features]
    stds = [f.steps[1].params["std"] for f in lock.features]
    module.write_text(
        "import numpy as np\n"
        f"MEAN = np.array({means}).reshape(1, 3, 1, 1)\n"
        f"STD = np.array({stds}).reshape(1, 3, 1, 1)\n"
        "def good(x):\n"
        "    z = (x.astype(np.float64) / 255 - MEAN) / STD\n"
        "    return z if x.dtype == np.float64 else z.astype(np.float32)\n"
        "def per_image(x):\n"
        "    y = x.astype(np.float64) / 255\n"
        "    m, s = y.mean(axis=(2, 3), keepdims=True), y.std(axis=(2, 3), keepdims=True)\n"
        "    return ((y - m) / s).astype(np.float32)\n"
    )
    served = _image_folder(tmp_path, "served", 200)
    verified = run("verify", out, "--against", f"{module}:good", "--data", served)
    assert verified.exit_code == 0, verified.output
    mistaken = run("verify", out, "--against", f"{module}:per_image", "--json")
    assert mistaken.exit_code == 1
    assert "standardized per image" in json.loads(mistaken.output)["causes"]["red"][0]
    watched = run("monitor", out, served, "--json")
    assert json.loads(watched.output)["rows"] == 3600
    other = tmp_path / "per_image.normlock.json"
    assert (
        run("fit", "--domain", "images", train, "--set", "mode=per_image", "-o", other).exit_code
        == 0
    )
    differs = run("diff", out, other)
    assert differs.exit_code == 1 and "mode" in differs.output


def test_domain_settings_are_checked(tmp_path: Path) -> None:
    train = _image_folder(tmp_path, "train", 0)
    result = run(
        "fit", "--domain", "images", train, "--set", "colour=rgb", "-o", tmp_path / "x.json"
    )
    assert result.exit_code == 2 and "images has no setting 'colour'" in result.output
    assert "layout" in result.output
    result = run("fit", "--domain", "pictures", train, "-o", tmp_path / "x.json")
    assert result.exit_code == 2 and "--domain must be one of images" in result.output
    result = run("fit", train, "--set", "mode=pooled", "-o", tmp_path / "x.json")
    assert result.exit_code == 2 and "add --domain" in result.output


def test_fit_apply_show_diff_and_monitor_a_series_lock(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.domains.series_data import panel

    data = panel(200, seed=8)
    pq.write_table(pa.table(data), tmp_path / "train.parquet")
    out = tmp_path / "series.normlock.json"
    fitted = run(
        "fit",
        "--domain",
        "series",
        tmp_path / "train.parquet",
        "--set",
        "id=sensor",
        "--set",
        "time=t",
        "-o",
        out,
    )
    assert fitted.exit_code == 0, fitted.output
    assert f"from 200 series ({len(data['sensor']):,} rows)" in fitted.output
    lock = nl.load(out)
    applied = run("apply", out, tmp_path / "train.parquet", "-o", tmp_path / "out.parquet")
    assert applied.exit_code == 0, applied.output
    written = pq.read_table(tmp_path / "out.parquet")
    assert np.array_equal(written["load"].to_numpy(), lock.transform(data)["load"])
    assert "series lock: id=sensor, method=standard" in run("show", out).output
    other = tmp_path / "robust.normlock.json"
    settings = ["--set", "id=sensor", "--set", "method=robust"]
    assert (
        run(
            "fit", "--domain", "series", tmp_path / "train.parquet", *settings, "-o", other
        ).exit_code
        == 0
    )
    differs = run("diff", out, other, "--json")
    assert differs.exit_code == 1
    keys = {c["key"] for c in json.loads(differs.output)["changes"] if c["kind"] == "domain"}
    assert "method" in keys
    watched = run("monitor", out, tmp_path / "train.parquet", "--json")
    assert watched.exit_code == 0, watched.output


def test_fit_show_and_monitor_an_audio_lock_from_npy_clips(tmp_path: Path) -> None:
    from tests.domains.test_audio import _clips

    folder = tmp_path / "clips"
    folder.mkdir()
    for i, clip in enumerate(_clips()):
        np.save(folder / f"clip{i}.npy", clip)
    out = tmp_path / "audio.normlock.json"
    fitted = run("fit", "--domain", "audio", folder, "--set", "scale=db", "-o", out)
    assert fitted.exit_code == 0, fitted.output
    assert "locked audio (33 feature(s)) from 4 clips" in fitted.output
    assert "audio lock: mode=spectrogram, scale=db, bins=33" in run("show", out).output
    watched = run("monitor", out, folder, "--json")
    assert json.loads(watched.output)["rows"] == sum(c.shape[1] for c in _clips())


def test_fit_and_apply_a_box_lock(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "x1": [0.0, 10.5],
            "y1": [0.0, 20.0],
            "x2": [640.0, 30.5],
            "y2": [480.0, 60.0],
            "width": [640.0, 640.0],
            "height": [480.0, 480.0],
        }
    )
    pq.write_table(table, tmp_path / "boxes.parquet")
    out = tmp_path / "boxes.normlock.json"
    settings = ["--set", "size_columns=[width, height]", "--set", "output_format=cxcywh"]
    fitted = run("fit", "--domain", "boxes", tmp_path / "boxes.parquet", *settings, "-o", out)
    assert fitted.exit_code == 0, fitted.output
    assert "from 2 boxes" in fitted.output
    applied = run("apply", out, tmp_path / "boxes.parquet", "-o", tmp_path / "out.parquet")
    assert applied.exit_code == 0, applied.output
    written = pq.read_table(tmp_path / "out.parquet")
    assert written.column_names == ["cx", "cy", "w", "h", "width", "height"]
    assert written["w"].to_pylist() == [1.0, 20 / 640]
