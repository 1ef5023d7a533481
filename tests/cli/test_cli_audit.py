"""``normlock audit``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from tests.audit.models import Block, ConvNet, to_onnx
from tests.audit.tabular import labels, matrix, raw_rows, standard_lock, trained_on
from tests.cli.helpers import run


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A lock, a model trained behind it and one trained on the raw features (ONNX),
    and samples of raw rows and of model inputs."""
    folder = tmp_path_factory.mktemp("audit")
    rows = raw_rows()
    lock = standard_lock(rows)
    example = torch.from_numpy(lock.transform(matrix(raw_rows(4, seed=5))).astype(np.float32))
    paths = {
        "lock": lock.save(folder / "model.normlock.json"),
        "ok": folder / "ok.onnx",
        "raw": folder / "raw.onnx",
        "rows": folder / "served.parquet",
        "inputs": folder / "inputs.npy",
    }
    behind = trained_on(lock.transform(matrix(rows)), labels(rows))
    onnx.save(to_onnx(behind, example), str(paths["ok"]))
    onnx.save(to_onnx(trained_on(matrix(rows), labels(rows)), example), str(paths["raw"]))
    served = raw_rows(256, seed=8)
    pq.write_table(pa.table(served), paths["rows"])
    np.save(paths["inputs"], lock.transform(matrix(served)).astype(np.float32))
    return paths


def test_a_healthy_model_exits_0(files) -> None:
    result = run("audit", files["ok"], "--lock", files["lock"], "--sample", files["rows"])
    assert result.exit_code == 0, result.output
    assert "no finding" in result.output and "normalization layers" in result.output


def test_a_finding_exits_1_and_is_printed_with_its_fix(files) -> None:
    result = run("audit", files["raw"], "--lock", files["lock"])
    assert result.exit_code == 1
    assert "double_normalization" in result.output and "serve the model" in result.output


def test_json_output(files) -> None:
    result = run(
        "audit", files["raw"], "--lock", files["lock"], "--json", "--sample", files["inputs"]
    )
    assert result.exit_code == 1
    document = json.loads(result.output)
    # trained on raw features, it also receives normalized ones: its statistics are far off
    assert [f["kind"] for f in document["findings"]] == ["stale_statistics", "double_normalization"]
    assert document["framework"] == "onnx" and document["input_layer"] == "0"


def test_html_report(tmp_path: Path, files) -> None:
    page = tmp_path / "audit.html"
    result = run("audit", files["raw"], "--lock", files["lock"], "--html", page)
    assert result.exit_code == 1 and "<h2>Model audit</h2>" in page.read_text(encoding="utf-8")


def test_options_reach_the_checks(tmp_path: Path) -> None:
    block = tmp_path / "block.onnx"
    onnx.save(to_onnx(Block(eps=1e-12), torch.randn(2, 5, 8)), str(block))
    assert run("audit", block).exit_code == 0
    result = run("audit", block, "--dtype", "float16", "--json")
    assert {f["kind"] for f in json.loads(result.output)["findings"]} == {"epsilon_underflow"}
    net = tmp_path / "net.pt2"
    program = torch.export.export(ConvNet().eval(), (torch.zeros(2, 3, 8, 8),))
    torch.export.save(program, str(net))
    result = run("audit", net, "--batch-size", "4", "--json")
    kinds = {f["kind"] for f in json.loads(result.output)["findings"]}
    assert kinds == {"stats_never_updated", "small_batch"}


def test_a_module_reference(tmp_path: Path, monkeypatch) -> None:
    source = (
        "import torch\n\n\ndef build():\n    return torch.nn.Sequential(torch.nn.LayerNorm(4))\n"
    )
    (tmp_path / "serving_model.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    result = run("audit", "serving_model:build")
    assert result.exit_code == 0 and "LayerNorm" in result.output


def test_bad_input_exits_2(tmp_path: Path, files) -> None:
    assert run("audit", tmp_path / "absent.onnx").exit_code == 2
    assert run("audit", "model.txt").exit_code == 2
    assert run("audit", files["ok"], "--dtype", "int8").exit_code == 2
    assert run("audit", files["ok"], "--sample", files["rows"]).exit_code == 2  # rows need --lock
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    result = run("audit", broken)
    assert result.exit_code == 2 and "cannot be read as a ONNX model" in result.output
