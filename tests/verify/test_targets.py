"""Real runtimes as targets: ONNX Runtime, scikit-learn (in process and skops), torch,
and callables named by reference."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
import skops.io as sio
import torch
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import normlock as nl
from normlock.verify import ParityReport, TargetError
from normlock.verify.targets import resolve_target

NAMES = ["a", "b", "c"]


def data(seed: int = 1, rows: int = 400) -> np.ndarray:
    return np.random.default_rng(seed).normal([40.0, -3.0, 1e4], [10.0, 0.5, 2e3], (rows, 3))


def fitted(seed: int = 1) -> nl.Lock:
    x = data(seed)
    return nl.fit({n: x[:, i] for i, n in enumerate(NAMES)})


def centers_scales(lock: nl.Lock) -> tuple[np.ndarray, np.ndarray]:
    params = [lock.feature(n).steps[0].params for n in NAMES]
    return np.array([p["mean"] for p in params]), np.array([p["std"] for p in params])


def onnx_graph(lock: nl.Lock, per_feature: bool, elem: int = TensorProto.DOUBLE) -> onnx.ModelProto:
    """The lock's formula in float64 ONNX ops (Cast in and out for float inputs)."""
    centers, scales = centers_scales(lock)
    nodes, inits, inputs, outputs = [], [], [], []
    heads = NAMES if per_feature else ["X"]
    for i, head in enumerate(heads):
        center = centers[i] if per_feature else centers
        scale = scales[i] if per_feature else scales
        shape = ["N"] if per_feature else ["N", len(NAMES)]
        inputs.append(helper.make_tensor_value_info(head, elem, shape))
        outputs.append(helper.make_tensor_value_info(f"{head}_z", elem, shape))
        inits += [
            numpy_helper.from_array(np.array(center), f"{head}_c"),
            numpy_helper.from_array(np.array(scale), f"{head}_s"),
        ]
        nodes += [
            helper.make_node("Cast", [head], [f"{head}_64"], to=TensorProto.DOUBLE),
            helper.make_node("Sub", [f"{head}_64", f"{head}_c"], [f"{head}_d"]),
            helper.make_node("Div", [f"{head}_d", f"{head}_s"], [f"{head}_q"]),
            helper.make_node("Cast", [f"{head}_q"], [f"{head}_z"], to=elem),
        ]
    graph = helper.make_graph(nodes, "normalize", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


@pytest.mark.parametrize("per_feature", [True, False])
@pytest.mark.parametrize("elem", [TensorProto.DOUBLE, TensorProto.FLOAT])
def test_onnx_graph_built_with_the_helper_api_passes(
    tmp_path: Path, per_feature: bool, elem: int
) -> None:
    lock = fitted()
    path = tmp_path / "serving.onnx"
    path.write_bytes(onnx_graph(lock, per_feature, elem).SerializeToString())
    report = lock.verify(str(path))
    assert report.passed, report.summary()
    assert {r.dtype for r in report.results} == {
        "float64" if elem == TensorProto.DOUBLE else "float32"
    }
    assert any(("per feature" in n) == per_feature for n in report.notes)


def test_onnx_graph_with_swapped_inputs_names_the_columns() -> None:
    lock = fitted()
    model = onnx_graph(lock, per_feature=True)
    for node in model.graph.node:  # feed 'a' through c's constants and 'c' through a's
        node.input[:] = [
            {"a_c": "c_c", "a_s": "c_s", "c_c": "a_c", "c_s": "a_s"}.get(i, i) for i in node.input
        ]
    report = lock.verify(model)
    assert {r.feature: r.cause.kind for r in report.mismatches} == {
        "a": "feature_order",
        "c": "feature_order",
    }


def test_onnx_graph_whose_inputs_do_not_match_is_refused() -> None:
    lock = nl.fit({"a": data()[:, 0], "z": data()[:, 1], "c": data()[:, 2]})
    with pytest.raises(TargetError, match=r"graph inputs \['a', 'b', 'c'\] do not match"):
        lock.verify(onnx_graph(fitted(), per_feature=True))


def test_a_locks_own_graph_passes_and_its_flags_raise_for_the_first_feature_and_row() -> None:
    """The graph's normlock_invalid output is no feature output; a flagged value raises,
    naming the first feature (in lock order) and row, as lock.transform does."""
    x = data()
    spec = {"a": "standard", "b": {"method": "standard", "nan": "error"}, "c": "standard"}
    lock = nl.fit({n: x[:, i] for i, n in enumerate(NAMES)}, spec)
    model = lock.to_onnx(dtype="float64")
    report = lock.verify(model)
    assert report.passed, report.summary()
    assert "output 'normlock_invalid' flags the values lock.transform rejects" in report.notes
    run = resolve_target(model, NAMES).run
    rows = x[:6].copy()
    rows[3, 1], rows[4, 0], rows[5, 2] = np.nan, np.inf, -np.inf
    with pytest.raises(nl.DomainError, match=r"feature 'a', row 5: infinite value inf"):
        lock.transform(rows)
    with pytest.raises(
        TargetError,
        match=r"flags 3 input value\(s\) .* the first: feature 'a', row 5: inf is infinite "
        r"\(its policy is inf='error'\)",
    ):
        run(rows)
    rows[4, 0] = rows[5, 2] = 1.0
    with pytest.raises(TargetError, match=r"the first: feature 'b', row 4: nan is NaN"):
        run(rows)
    rows[3, 1] = 1.0
    assert np.array_equal(run(rows), lock.transform(rows))


def test_skl2onnx_standard_scaler_runs_end_to_end() -> None:
    lock, x = fitted(), data()
    scaler = StandardScaler().fit(x)
    report = lock.verify(to_onnx(scaler, x[:1].astype(np.float32)))
    assert {r.run for r in report.results} == {"float32 probes"}
    # skl2onnx stores the mean and the reciprocal of the std as float32 constants
    assert {r.cause.kind for r in report.mismatches} == {"parameter_precision"}
    assert {r.cause.details["precision"] for r in report.mismatches} == {"float32"}
    worst = max(r.max_ulp for r in report.results)
    assert 0 < worst <= 16
    assert lock.verify(to_onnx(scaler, x[:1].astype(np.float32)), ulps=int(worst)).passed
    other = StandardScaler().fit(data(seed=5))
    mistaken = lock.verify(to_onnx(other, x[:1]))
    assert {r.cause.kind for r in mistaken.mismatches} == {"other_data"}


def test_skops_scaler_runs_by_name_and_catches_other_data(tmp_path: Path) -> None:
    lock, x = fitted(), data()
    frame = pd.DataFrame(x[:, ::-1], columns=NAMES[::-1])  # fitted with columns c, b, a
    path = tmp_path / "scaler.skops"
    sio.dump(StandardScaler().fit(frame), path)
    report = lock.verify(path)
    assert_float64_equivalent_float32_parameters(report)
    assert lock.verify(path, ulps=int(np.ceil(max(r.max_ulp for r in report.results)))).passed
    assert "by name" in report.notes[0]
    sio.dump(StandardScaler().fit(pd.DataFrame(data(seed=6), columns=NAMES)), path)
    assert {r.cause.kind for r in lock.verify(path).mismatches} == {"other_data"}


def assert_float64_equivalent_float32_parameters(report: ParityReport) -> None:
    """scikit-learn's mean and std are a few ulps from the correctly rounded ones (float64
    outputs equivalent up to rounding); on float32 input it casts them to float32."""
    float64 = [r for r in report.results if r.run == "float64 probes"]
    assert all(r.passed for r in float64) and not all(r.identical for r in float64)
    assert {(r.run, r.cause.kind, r.cause.details["precision"]) for r in report.mismatches} == {
        ("float32 probes", "parameter_precision", "float32")
    }


def shift(x: np.ndarray) -> np.ndarray:
    return x - 1.0


def test_skops_untrusted_types_and_pickles_need_consent(tmp_path: Path) -> None:
    lock, x = fitted(), data()
    custom = tmp_path / "custom.skops"
    sio.dump(FunctionTransformer(shift).fit(x), custom)
    with pytest.raises(TargetError, match=r"does not trust: tests\.verify\.test_targets\.shift"):
        lock.verify(custom)
    allowed = lock.verify(custom, trusted_types=["tests.verify.test_targets.shift"])
    assert not allowed.passed
    pickled = tmp_path / "scaler.pkl"
    pickled.write_bytes(pickle.dumps(StandardScaler().fit(x)))
    with pytest.raises(TargetError, match="is a pickle: loading it runs whatever code"):
        lock.verify(pickled)
    loaded = lock.verify(pickled, trust_pickle=True)
    assert_float64_equivalent_float32_parameters(loaded)
    tolerance = int(np.ceil(max(r.max_ulp for r in loaded.results)))
    assert lock.verify(pickled, trust_pickle=True, ulps=tolerance).passed


class Normalize(torch.nn.Module):
    """The lock's formula as a torch module with float64 buffers."""

    def __init__(self, center: np.ndarray, scale: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("center", torch.tensor(center, dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.double() - self.center) / self.scale).to(x.dtype)


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torch_module_torchscript_and_exported_program(tmp_path: Path) -> None:
    lock = fitted()
    module = Normalize(*centers_scales(lock))
    assert lock.verify(module).passed
    scripted = tmp_path / "serving.pt"
    torch.jit.save(torch.jit.script(module), scripted)
    assert lock.verify(scripted).passed
    exported = tmp_path / "serving.pt2"
    batch = torch.export.Dim("batch")
    program = torch.export.export(
        module, (torch.zeros(4, 3, dtype=torch.float32),), dynamic_shapes={"x": {0: batch}}
    )
    torch.export.save(program, exported)
    report = lock.verify(exported)
    assert report.passed and "float32 probes" in {r.run for r in report.results}
    wrong = Normalize(*centers_scales(fitted(seed=2)))
    assert {r.cause.kind for r in lock.verify(wrong).mismatches} == {"other_data"}


def test_a_pickled_torch_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    torch.save({"center": torch.zeros(3)}, path)
    with pytest.raises(TargetError, match="not a TorchScript archive"):
        fitted().verify(path)


def test_callables_by_reference(tmp_path: Path) -> None:
    lock = fitted()
    centers, scales = centers_scales(lock)
    module = tmp_path / "serving_code.py"
    module.write_text(
        "import numpy as np\n"
        f"CENTER = np.array({centers.tolist()!r})\nSCALE = np.array({scales.tolist()!r})\n"
        "def normalize(x):\n"
        "    return ((x.astype(np.float64) - CENTER) / SCALE).astype(x.dtype)\n"
        "class Service:\n"
        "    @staticmethod\n"
        "    def by_name(columns):\n"
        "        items = enumerate(columns.items())\n"
        "        return {k: (v - CENTER[i]) / SCALE[i] for i, (k, v) in items}\n"
    )
    assert lock.verify(f"{module}:normalize").passed
    by_name = lock.verify(f"{module}:Service.by_name", feed="columns")
    assert all(r.passed for r in by_name.results if r.run == "float64 probes")
    with pytest.raises(TargetError, match="has no attribute 'missing'"):
        lock.verify(f"{module}:missing")
    with pytest.raises(TargetError, match="cannot import 'no_such_module_here'"):
        lock.verify("no_such_module_here:normalize")
    with pytest.raises(nl.InputError, match="cannot tell what target"):
        lock.verify("serving")


def test_a_failing_or_misshapen_target_is_one_clear_error() -> None:
    lock = fitted()
    with pytest.raises(TargetError, match="raised ZeroDivisionError: boom"):
        lock.verify(lambda x: (_ for _ in ()).throw(ZeroDivisionError("boom")))
    with pytest.raises(TargetError, match=r"returned shape \(16, 2\)"):
        lock.verify(lambda x: x[:, :2])
    with pytest.raises(TargetError, match="lacks column"):
        lock.verify(lambda x: {"a": x[:, 0]})
    with pytest.raises(nl.InputError, match="does not exist"):
        lock.verify("missing.onnx")
