"""``normlock advise``, and the advisor's warnings in ``normlock fit``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import normlock as nl
from tests.cli.helpers import run, write_training


def test_advise_writes_a_spec_that_fit_takes_and_a_report(tmp_path: Path) -> None:
    data = write_training(tmp_path)
    spec, html = tmp_path / "spec.yaml", tmp_path / "advice.html"
    result = run("advise", data, "-o", spec, "--html", html)
    assert result.exit_code == 0, result.output
    assert "conditioning" in result.output and "precision risks" in result.output
    text = spec.read_text()
    assert "income: [log1p, standard]" in text and "city: passthrough" in text
    page = html.read_text()
    assert page.count("<svg") >= 4 and "κ" in page and "float16" in page
    lock_file = tmp_path / "model.normlock.json"
    fitted = run("fit", data, "--spec", spec, "-o", lock_file)
    assert fitted.exit_code == 0, fitted.output
    assert nl.load(lock_file).feature("income").steps[0].method == "log1p"


def test_advise_json_and_a_missing_target(tmp_path: Path) -> None:
    data = write_training(tmp_path)
    result = run("advise", data, "--json", "--max-rows", "500")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["rows"] == 500
    assert {c["column"]: c["method"] for c in found["columns"]}["age"] == "standard"
    assert found["conditioning"]["kappa"]["raw"] > found["conditioning"]["kappa"]["normalized"]
    missing = run("advise", data, "--target", "price")
    assert missing.exit_code == 2 and "price" in missing.output


def test_fit_warns_of_an_id_column_a_label_target_and_float16_overflow(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    rows = 400
    table = pa.table(
        {
            "user_id": np.arange(rows) + 5000,
            "spend": np.r_[rng.normal(size=rows - 1), 1e8],
            "churned": rng.integers(0, 2, rows),
        }
    )
    path = tmp_path / "train.parquet"
    pq.write_table(table, path)
    out, spec = tmp_path / "m.normlock.json", tmp_path / "spec.yaml"
    spec.write_text("spend: robust\n")  # the IQR, ~1.35, scales the 1e8 to 7e7
    result = run("fit", path, "--target", "churned", "--spec", spec, "-o", out)
    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())
    assert "user_id: looks like an ID" in words
    assert "churned" in words and "classification label" in words
    assert "spend: normalized values reach" in words and "float16" in words
    lock = nl.load(out)
    assert any("ID" in w for w in lock.feature("user_id").warnings)  # kept in the lock
