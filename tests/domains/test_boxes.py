"""Box locks: exact format conversions, relative coordinates, bad boxes named by row."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import normlock as nl
from normlock.domains import boxes


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(9)
    width = rng.choice([640.0, 1280.0, 333.0], 500)
    height = rng.choice([480.0, 720.0, 517.0], 500)
    x1 = np.floor(rng.uniform(0, 0.6, 500) * width)
    y1 = np.floor(rng.uniform(0, 0.6, 500) * height)
    x2 = x1 + np.floor(rng.uniform(0, 0.4, 500) * width) + 0.5
    y2 = y1 + np.floor(rng.uniform(0, 0.4, 500) * height) + 0.5
    return pd.DataFrame({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "width": width, "height": height})


def test_pixels_to_relative_are_correctly_rounded_in_every_format(frame) -> None:
    for target in ("xyxy", "xywh", "cxcywh"):
        lock = boxes.declare("xyxy", size_columns=("width", "height"), output_format=target)
        out = lock.transform(frame)
        assert list(out.columns) == [*boxes.FORMATS[target], "width", "height"]
        for row in range(0, 500, 37):  # exact rationals: half-pixel boxes convert exactly
            x1, y1, x2, y2, w, h = (Fraction(float(v)) for v in frame.iloc[row])
            exact = {
                "xyxy": (x1 / w, y1 / h, x2 / w, y2 / h),
                "xywh": (x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h),
                "cxcywh": ((x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h),
            }[target]
            got = out.iloc[row, :4].tolist()
            assert got == [float(v) for v in exact]
        back = lock.inverse_transform(out)
        assert np.allclose(
            back[["x1", "y1", "x2", "y2"]], frame[["x1", "y1", "x2", "y2"]], rtol=1e-15
        )


def test_containers_formats_and_fixed_sizes() -> None:
    lock = boxes.declare(
        "cxcywh", image_size=(200, 100), output_format="xyxy", clip=True, tolerance=5
    )
    array = np.array([[100.0, 50.0, 200.0, 100.0], [190.0, 95.0, 30.0, 20.0]], np.float32)
    out = lock.transform(array)
    assert out.dtype == np.float32
    assert out.tolist() == [[0.0, 0.0, 1.0, 1.0], [0.875, 0.8500000238418579, 1.0, 1.0]]  # clipped
    table = pa.table({"cx": array[:, 0], "cy": array[:, 1], "w": array[:, 2], "h": array[:, 3]})
    assert lock.transform(table).column_names == ["x1", "y1", "x2", "y2"]
    assert lock.transform(pl.from_arrow(table)).columns == ["x1", "y1", "x2", "y2"]
    relative = boxes.declare(
        "xywh", coordinates="relative", image_size=(640, 480), output_format="xyxy"
    )
    assert relative.transform({"x": [0.5], "y": [0.25], "w": [0.5], "h": [0.5]})["x2"].tolist() == [
        1.0
    ]
    assert relative.inverse_transform({"x1": [0.5], "y1": [0.25], "x2": [1.0], "y2": [0.75]})[
        "w"
    ].tolist() == [0.5]  # back in the input's units


def test_bad_boxes_are_errors_naming_the_row(frame) -> None:
    lock = boxes.declare("xyxy", size_columns=("width", "height"))
    bad = frame.copy()
    bad.loc[7, "x2"] = bad.loc[7, "x1"] - 1
    with pytest.raises(nl.DomainError, match=r"box at row 8 .*width is negative"):
        lock.transform(bad)
    bad = frame.copy()
    bad.loc[3, "y2"] = bad.loc[3, "height"] + 2
    with pytest.raises(
        nl.DomainError, match=r"box at row 4 .*beyond the image by more than the tolerance 0"
    ):
        lock.transform(bad)
    assert (
        boxes.declare("xyxy", size_columns=("width", "height"), tolerance=2).transform(bad)
        is not None
    )
    bad.loc[3, "y2"] = np.nan
    with pytest.raises(nl.DomainError, match=r"box at row 4 .*NaN or infinite"):
        lock.transform(bad)
    with pytest.raises(nl.DomainError, match=r"box at row 1 .*image size is not positive"):
        lock.transform(frame.assign(width=0.0))


def test_fit_records_references_save_load_monitor_and_verify(tmp_path, frame) -> None:
    lock = boxes.fit(frame, size_columns=("width", "height"), output_format="cxcywh")
    assert lock.feature("x2").reference["count"] == 500 and lock.fitted_on() == "500 boxes"
    loaded = nl.load(lock.save(tmp_path / "boxes.normlock.json"))
    assert isinstance(loaded, boxes.BoxLock) and loaded.fingerprint == lock.fingerprint
    assert loaded.transform(frame).equals(lock.transform(frame))
    monitor = lock.monitor()
    monitor.update(
        frame.assign(
            x1=frame.x1 / frame.width,
            y1=frame.y1 / frame.height,
            x2=frame.x2 / frame.width,
            y2=frame.y2 / frame.height,
        )
    )
    assert not monitor.report().ok  # relative boxes served to a lock fitted on pixels

    def serve(rows, *, divide=True, swap=False, fmt="cxcywh"):
        w, h = rows["width"].astype(float), rows["height"].astype(float)
        if swap:
            w, h = h, w
        x1, y1, x2, y2 = (rows[k].astype(float) for k in ("x1", "y1", "x2", "y2"))
        box = boxes.convert(np.column_stack([x1, y1, x2, y2]), "xyxy", fmt)
        if divide:
            box = box / np.column_stack([w, h, w, h])
        return box.astype(rows["x1"].dtype)

    assert lock.verify(serve).verdict == "identical"
    for kind, target in {
        "pixels": lambda r: serve(r, divide=False),
        "swapped_size": lambda r: serve(r, swap=True),
        "output_format": lambda r: serve(r, fmt="xywh"),
    }.items():
        report = lock.verify(target)
        assert {r.cause.kind for r in report.mismatches} == {kind}, report.summary()
    assert {r.feature for r in lock.verify(serve).results} == {"cx", "cy", "w", "h"}
