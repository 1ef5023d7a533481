"""The seam: the model's input layer against the lock in front of it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import normlock as nl
from normlock.export.images import preset
from tests.audit.forms import FORMS, audited
from tests.audit.models import ConvNet, to_onnx
from tests.audit.tabular import labels, matrix, raw_rows, standard_lock, trained_on


class Normalize(nn.Module):
    """A torchvision-style ``Normalize`` inside the model (mean and std as lists)."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.mean, self.std = mean, std
        self.register_buffer("m", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("s", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.m) / self.s


@pytest.fixture(scope="module")
def rows() -> dict[str, np.ndarray]:
    return raw_rows()


@pytest.fixture(scope="module")
def lock(rows) -> nl.Lock:
    return standard_lock(rows)


@pytest.fixture(scope="module")
def on_raw(rows) -> nn.Sequential:
    """Trained on the raw features: its input batch normalization normalizes them."""
    return trained_on(matrix(rows), labels(rows))


@pytest.fixture(scope="module")
def behind_lock(rows, lock) -> nn.Sequential:
    """Trained on the lock's outputs."""
    return trained_on(lock.transform(matrix(rows)), labels(rows))


def example(lock: nl.Lock) -> torch.Tensor:
    return torch.from_numpy(lock.transform(matrix(raw_rows(4, seed=5))).astype(np.float32))


@pytest.mark.parametrize("form", FORMS)
def test_an_input_batch_norm_trained_on_raw_features_normalizes_twice(
    form: str, on_raw, behind_lock, lock
) -> None:
    report = audited(on_raw, form, example(lock), lock=lock)
    (finding,) = report.of_kind("double_normalization")
    assert finding.layer == "0" and report.input_layer == "0"
    assert finding.evidence["per_feature"] == {"age": "raw", "income": "raw", "ratio": "raw"}
    assert "trained on the raw features" in finding.message
    assert "feature 'age': running mean 39.5" in finding.message
    assert "raw inputs mean 39.51, std 9.719" in finding.message
    assert audited(behind_lock, form, example(lock), lock=lock).ok


@pytest.mark.parametrize("form", ("torch", "onnx"))
def test_an_input_layer_trained_behind_another_lock(form: str, rows, lock) -> None:
    other = nl.fit(rows, {name: "minmax" for name in rows})
    model = trained_on(other.transform(matrix(rows)), labels(rows))
    report = audited(model, form, example(lock), lock=lock)
    (finding,) = report.of_kind("input_mismatch")
    assert "3 of 3 feature(s)" in finding.message
    assert audited(model, form, example(lock), lock=other).ok


def test_the_input_layer_is_found_by_running_the_lock_s_probes(on_raw, lock) -> None:
    """The BatchNorm1d registered second is the one that reads the input."""

    class Reordered(nn.Module):
        def __init__(self, inner: nn.Sequential) -> None:
            super().__init__()
            self.head = inner[1:]
            self.norm = inner[0]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.norm(x))

    report = nl.audit(Reordered(on_raw), lock=lock)
    assert report.input_layer == "norm" and report.kinds() == {"double_normalization"}


@pytest.mark.parametrize("form", ("torch", "onnx"))
def test_a_normalize_at_the_model_input_duplicates_the_lock(form: str) -> None:
    image_lock = preset("imagenet", max_value=255)
    imagenet = Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    model = nn.Sequential(imagenet, ConvNet()).eval()
    x = torch.rand(2, 3, 8, 8)
    report = audited(model, form, x, lock=image_lock)
    finding = report.of_kind("double_normalization")[0]
    assert (
        "with the same constants" in finding.message and "(0.485, 0.456, 0.406)" in finding.message
    )
    other = nn.Sequential(Normalize([0.5] * 3, [0.5] * 3), ConvNet()).eval()
    twice = audited(other, form, x, lock=image_lock).of_kind("double_normalization")
    assert "with other constants" in twice[0].message
    assert not audited(ConvNet().eval(), form, x, lock=image_lock).of_kind("double_normalization")
    assert not audited(model, form, x).of_kind("double_normalization")  # no lock in front


# ---- a lock attached to a model -----------------------------------------------------------


def test_attached_torch_model_takes_raw_features_and_records_the_lock(
    behind_lock, lock, rows
) -> None:
    combined = lock.attach(behind_lock)
    x = torch.from_numpy(matrix(raw_rows(16, seed=3)).astype(np.float32))
    with torch.no_grad():
        assert torch.equal(combined(x), behind_lock(lock.to_torch()(x)))
    assert combined.fingerprint == lock.fingerprint and combined[0] is combined.lock
    report = nl.audit(combined, lock=lock)
    assert report.attached is not None and report.attached.confirmed is True
    assert report.attached.verdict == "identical" and report.ok
    assert [layer.place for layer in report.layers] == ["model.0"]
    parity = lock.verify(combined)
    assert parity.verdict == "identical" and "lock stage" in parity.notes[0]


def test_a_combined_model_carrying_another_lock(behind_lock, lock, rows) -> None:
    other = nl.fit({k: v * 2 for k, v in rows.items()}, {name: "standard" for name in rows})
    report = nl.audit(other.attach(behind_lock), lock=lock)
    (finding,) = report.findings
    assert finding.kind == "attached_lock_mismatch" and report.attached.confirmed is False
    assert "mismatch" in finding.message
    assert not lock.verify(other.attach(behind_lock)).passed


def test_a_combined_model_whose_input_layer_normalizes_again(on_raw, lock) -> None:
    report = nl.audit(lock.attach(on_raw), lock=lock)
    assert report.kinds() == {"double_normalization"} and report.input_layer == "model.0"


def test_exported_combined_program_keeps_the_fingerprint(tmp_path, behind_lock, lock) -> None:
    combined = lock.attach(behind_lock).eval()
    x = torch.from_numpy(matrix(raw_rows(4, seed=3)).astype(np.float32))
    path = tmp_path / "combined.pt2"
    torch.export.save(torch.export.export(combined, (x,)), str(path))
    report = nl.audit(path, lock=lock)
    assert report.attached.fingerprint == lock.fingerprint and report.attached.confirmed
    assert report.attached.verdict == "identical" and report.ok
    assert lock.verify(path).verdict == "identical"


def test_attached_onnx_model_confirms_its_lock(behind_lock, lock, rows) -> None:
    combined = lock.attach(to_onnx(behind_lock, example(lock)))
    report = nl.audit(combined, lock=lock)
    assert report.attached.confirmed and report.attached.verdict == "identical"
    assert report.attached.columns == ("age", "income", "ratio")
    assert [layer.place for layer in report.layers] == ["0"] and report.ok
    assert lock.verify(combined).verdict == "identical"
    other = nl.fit({k: v + 1 for k, v in rows.items()})
    assert nl.audit(combined, lock=other).kinds() == {"attached_lock_mismatch"}


def test_combined_model_in_onnx_runtime_matches_the_lock_then_the_model_in_torch(
    behind_lock, lock
) -> None:
    """The lock stage gives the lock's bits (verify: identical); the model part, the
    same float32 operations in another runtime, agrees to float32 rounding."""
    from tests.audit.models import run_onnx

    combined = lock.attach(behind_lock)
    x = matrix(raw_rows(256, seed=7)).astype(np.float32)
    with torch.no_grad():
        expected = behind_lock(lock.to_torch()(torch.from_numpy(x))).numpy()
    exported = combined.to_onnx(torch.from_numpy(x[:2]))
    invalid, got = run_onnx(exported, x)
    assert not invalid.any()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert lock.verify(exported).verdict == "identical"
    assert nl.audit(exported, lock=lock).attached.confirmed
    traced = to_onnx(combined, torch.from_numpy(x[:2]))  # torch's exporter, lock ops included
    np.testing.assert_allclose(run_onnx(traced, x)[0], expected, rtol=1e-5, atol=1e-5)


def test_to_onnx_refuses_a_model_in_training_mode(behind_lock, lock) -> None:
    combined = lock.attach(behind_lock)
    combined.model.train()
    with pytest.raises(nl.InputError, match="training mode; call eval"):
        combined.to_onnx(torch.zeros(2, 3))
    combined.model.eval()


def test_a_sample_of_raw_rows_is_normalized_by_the_lock(behind_lock, lock) -> None:
    report = nl.audit(behind_lock, lock=lock, sample=raw_rows(256, seed=9))
    assert report.ok
    stale = nl.audit(behind_lock, lock=lock, sample={k: v * 3 for k, v in raw_rows(256).items()})
    assert stale.kinds() == {"stale_statistics"}


def test_an_image_lock_attached_to_a_convolutional_model() -> None:
    """The lock's own image module (8-bit pixels in, NCHW) in torch; its graph in ONNX."""
    from tests.audit.models import run_onnx

    lock = preset("imagenet", max_value=255)
    model = ConvNet("group").eval()
    combined = lock.attach(model)
    pixels = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    with torch.no_grad():
        expected = model(torch.from_numpy(lock.transform(pixels.numpy()))).numpy()
        assert np.array_equal(combined(pixels).numpy(), expected)
    report = nl.audit(combined, lock=lock)
    assert report.attached.columns == ("red", "green", "blue")
    assert report.attached.verdict == "identical" and report.ok
    exported = combined.to_onnx(pixels.float())
    _, got = run_onnx(exported, pixels.float().numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert lock.verify(exported).verdict == "identical"
    clip = preset("openai-clip", max_value=255)
    assert nl.audit(exported, lock=clip).kinds() == {"attached_lock_mismatch"}


def test_a_sample_of_raw_rows_for_a_combined_model_file_stays_raw(
    tmp_path, behind_lock, lock
) -> None:
    import onnx

    path = tmp_path / "combined.onnx"
    onnx.save(lock.attach(to_onnx(behind_lock, example(lock))), str(path))
    report = nl.audit(path, lock=lock, sample=raw_rows(256, seed=9))
    assert report.ok and report.attached.confirmed  # the rows went through its own lock stage
