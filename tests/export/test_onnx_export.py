"""The ONNX graph gives lock.transform's bits in ONNX Runtime, alone and in front of a model."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import compose, numpy_helper
from skl2onnx import to_onnx as sklearn_to_onnx
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import normlock as nl
from normlock.chain import Step
from normlock.export.imported import imported_lock
from normlock.export.onnx_graph import attach
from normlock.export.tolerance import allowed_difference

from .parity import (
    AFFINE_SPEC,
    LEVELS,
    NONLINEAR_SPEC,
    assert_same_bits,
    fitted,
    inputs,
    normalize_onnx,
    probe_matrix,
    run_onnx,
)

AFFINE, AFFINE_DATA = fitted(AFFINE_SPEC)
EXPORTABLE = {k: v for k, v in NONLINEAR_SPEC.items() if k != "quantile_normal"}
NONLINEAR, NONLINEAR_DATA = fitted(EXPORTABLE)
DTYPES = [np.float64, np.float32]
STANDARD = {"with_mean": True, "with_std": True, "ddof": 0}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_affine_methods_are_bit_identical_to_numpy(dtype, level: str) -> None:
    model = AFFINE.to_onnx(dtype=dtype.__name__)
    x = inputs(AFFINE, AFFINE_DATA).astype(dtype)
    out = normalize_onnx(model, {"input": x}, level)
    assert_same_bits(out, AFFINE.transform(x), AFFINE.columns)
    probes, expected = probe_matrix(AFFINE, dtype.__name__)
    out = normalize_onnx(model, {"input": probes}, level)
    assert_same_bits(out, expected, AFFINE.columns)


def test_divisions_stay_divisions_in_the_graph() -> None:
    """Scales are slices of the parameter vector fed to Div; no Reciprocal, no Mul by a
    folded constant, and no initializer among the graph inputs."""
    graph = AFFINE.to_onnx().graph
    kinds = [node.op_type for node in graph.node]
    assert "Reciprocal" not in kinds and "Div" in kinds
    divisors = {node.input[1] for node in graph.node if node.op_type == "Div"}
    (split,) = [node for node in graph.node if node.op_type == "Split"]
    assert divisors <= set(split.output)
    stored = {init.name for init in graph.initializer}
    assert "normlock/parameters" in stored
    assert not stored & {i.name for i in graph.input}


def _required_inputs(model: onnx.ModelProto) -> list[str]:
    stored = {init.name for init in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in stored]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_runtime_optimizer_cannot_drop_near_noop_operations(dtype, level: str) -> None:
    """ONNX Runtime removes ``x / s`` when s rounds to 1.0 in float32, and ``x - c`` when c
    rounds to 0.0, for a one-value constant; the lock's parameters are out of its reach."""
    steps = {
        "a": [Step("standard", {**STANDARD, "mean": 1e-50, "std": 1.00000001})],
        "b": [Step("standard", {**STANDARD, "mean": -0.0, "std": 1.0})],
        "c": [Step("minmax", {"feature_range": [0.0, 2.0], "clip": False, "min": 0.0, "max": 1.0})],
    }
    x = np.array([[3.0, -0.0, -0.0], [0.0, 0.0, 0.5], [-0.0, 2.0, 1.0]], dtype=dtype)
    for name, chain in steps.items():
        lock = imported_lock({name: chain}, [name], source="test", details={})
        column = x[:, list(steps).index(name)][:, None]
        out = normalize_onnx(lock.to_onnx(dtype=dtype.__name__), {"input": column}, level)
        assert_same_bits(out, lock.transform(column), [name])


def test_the_near_noop_cases_change_bits_when_their_constants_are_initializers() -> None:
    """The test above can fail: with the parameters as plain initializers, ONNX Runtime's
    basic level drops the near no-op operations and the bits change."""
    lock = imported_lock(
        {"a": [Step("standard", {**STANDARD, "mean": -0.0, "std": 1.00000001})]},
        ["a"],
        source="test",
        details={},
    )
    model = lock.to_onnx(dtype="float64")
    graph = model.graph
    (split,) = [node for node in graph.node if node.op_type == "Split"]
    (vector,) = [i for i in graph.initializer if i.name == "normlock/parameters"]
    values = numpy_helper.to_array(vector)
    for name, value in zip(split.output, values, strict=True):
        graph.initializer.append(numpy_helper.from_array(np.array([value]), name))
    graph.node.remove(split)
    x = np.array([[-0.0], [3.0]])
    expected = lock.transform(x)
    assert_same_bits(run_onnx(model, {"input": x}, "disable_all")[0], expected)
    assert not np.array_equal(
        run_onnx(model, {"input": x}, "basic")[0].view(np.uint64), expected.view(np.uint64)
    )


@pytest.mark.parametrize("per_feature", [False, True], ids=["matrix", "per-feature"])
def test_no_initializer_is_a_graph_input_so_onnx_runtime_logs_no_warning(
    capfd, per_feature: bool
) -> None:
    """ONNX Runtime logs a warning per initializer listed among the graph inputs; at
    verbose severity, loading the lock's graph logs none."""
    model = AFFINE.to_onnx(per_feature=per_feature)
    options = ort.SessionOptions()
    options.log_severity_level = 0
    capfd.readouterr()
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    logged = capfd.readouterr().err
    assert "onnxruntime" in logged  # verbose logging reached the captured stream
    assert "appears in graph inputs" not in logged


def test_one_input_per_feature_by_name() -> None:
    model = AFFINE.to_onnx(dtype="float32", per_feature=True)
    assert _required_inputs(model) == list(AFFINE.columns)
    x = inputs(AFFINE, AFFINE_DATA).astype(np.float32)
    feeds = {name: x[:, [j]] for j, name in enumerate(AFFINE.columns)}
    out = normalize_onnx(model, feeds)
    assert_same_bits(out, AFFINE.transform(x))


def test_metadata_names_the_lock_and_its_columns() -> None:
    props = {p.key: p.value for p in AFFINE.to_onnx().metadata_props}
    assert props["normlock.fingerprint"] == AFFINE.fingerprint
    assert json.loads(props["normlock.columns"]) == list(AFFINE.columns)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_nonlinear_methods_agree_within_the_stated_ulps(dtype) -> None:
    x = inputs(NONLINEAR, NONLINEAR_DATA).astype(dtype)
    out = normalize_onnx(NONLINEAR.to_onnx(dtype=dtype.__name__), {"input": x})
    expected = NONLINEAR.transform(x)
    assert np.array_equal(np.isnan(out), np.isnan(expected))
    for j, name in enumerate(NONLINEAR.columns):
        allowed = allowed_difference(NONLINEAR.feature(name), x[:, j], "onnx", dtype)
        gap = np.abs(out[:, j].astype(np.float64) - expected[:, j])
        gap = np.where(np.isnan(expected[:, j]), 0.0, gap)
        assert np.all(gap <= allowed), (name, float(np.max(gap - allowed)))


def test_normal_quantile_output_is_refused_with_the_feature_and_method_named() -> None:
    lock, _ = fitted(
        {"a": "standard", "q": {"method": "quantile", "output_distribution": "normal"}}
    )
    with pytest.raises(
        nl.NotExportableError, match=r"feature 'q': step 'quantile'.*inverse normal"
    ):
        lock.to_onnx()
    with pytest.raises(NotImplementedError):
        lock.to_onnx()


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(nl.InputError, match="dtype must be"):
        AFFINE.to_onnx(dtype="float16")
    with pytest.raises(nl.InputError, match="opset must be 13"):
        AFFINE.to_onnx(opset=11)


# ---- in front of a scikit-learn model converted with skl2onnx --------------------------


def test_skl2onnx_classifier_behind_the_lock_predicts_as_the_python_pipeline() -> None:
    """A tree's splits are exact comparisons, so any 1-ulp normalization difference
    would flip some predictions; rows at the split thresholds are included."""
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    lock = nl.fit(X, {"x0": "robust", "x1": {"method": "minmax", "clip": True}, "x2": "maxabs"})
    tree = DecisionTreeClassifier(random_state=0).fit(lock.transform(X), y)
    model = sklearn_to_onnx(tree, lock.transform(X[:1]), options={"zipmap": False})
    merged = attach(lock, model)
    assert _required_inputs(merged) == [model.graph.input[0].name]
    rng = np.random.default_rng(3)
    served = np.vstack([X, X * rng.uniform(0.9, 1.1, X.shape)]).astype(np.float32)
    at_splits = _rows_at_thresholds(tree, lock, X)
    z = lock.transform(at_splits)
    shifted = np.nextafter(z, np.float32(-np.inf))
    assert np.any(tree.predict(shifted) != tree.predict(z))  # one ulp off flips a prediction
    served = np.vstack([served, at_splits])
    invalid, labels, probabilities = run_onnx(merged, {"X": served})
    assert merged.graph.output[0].name == "normlock_invalid"  # the lock's flags come first
    assert invalid.shape == served.shape and not invalid.any()
    assert np.array_equal(labels, tree.predict(lock.transform(served)))
    assert np.array_equal(probabilities, tree.predict_proba(lock.transform(served)))


def _rows_at_thresholds(tree, lock: nl.Lock, X: np.ndarray) -> np.ndarray:
    """Raw rows whose normalized value lies within a few float32 steps of a split threshold."""
    rows = []
    for feature, threshold in zip(tree.tree_.feature, tree.tree_.threshold, strict=True):
        if feature < 0:
            continue
        thresholds = np.tile(lock.transform(X[:1]).astype(np.float64), (1, 1))
        thresholds[0, feature] = threshold
        center = np.float32(lock.inverse_transform(thresholds)[0, feature])
        for steps in range(-4, 5):
            row = X[0].copy()
            row[feature] = center + steps * np.spacing(center)
            rows.append(row)
    return np.array(rows, dtype=np.float32)


def test_regressor_composed_with_onnx_compose_predicts_as_the_python_pipeline() -> None:
    X, y = load_diabetes(return_X_y=True)
    lock = nl.fit(X, {"x2": "robust"})
    tree = DecisionTreeRegressor(random_state=0).fit(lock.transform(X), y)
    model = sklearn_to_onnx(tree, lock.transform(X[:1]).astype(np.float32), target_opset=17)
    front = lock.to_onnx(dtype="float32", opset=17, input_name="raw", output_name="features")
    front.ir_version = model.ir_version
    merged = compose.merge_models(front, model, io_map=[("features", "X")])
    onnx.checker.check_model(merged)
    x = X.astype(np.float32)
    invalid, predicted = run_onnx(merged, {"raw": x})
    assert not invalid.any()
    expected = tree.predict(lock.transform(x)).astype(np.float32)
    assert np.array_equal(predicted.ravel(), expected)


def test_skl2onnx_scaler_multiplies_by_reciprocals_where_the_lock_divides() -> None:
    """Why the lock emits its own graph: skl2onnx's scaler changes bits the lock keeps."""
    from sklearn.preprocessing import StandardScaler

    from normlock.sklearn import from_sklearn

    rng = np.random.default_rng(4)
    X = (1e3 + rng.normal(0, 7, (2000, 3))).astype(np.float32)
    scaler = StandardScaler().fit(X.astype(np.float64))
    expected = scaler.transform(X.astype(np.float64)).astype(np.float32)  # rounded once
    ours = normalize_onnx(from_sklearn(scaler).to_onnx(dtype="float32"), {"input": X})
    (theirs,) = run_onnx(sklearn_to_onnx(scaler, X[:1]), {"X": X})
    assert_same_bits(ours, expected)
    assert np.sum(theirs != expected) > 100


def test_attach_needs_a_float_input_it_can_name() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    lock = nl.fit(X[:, :3])
    tree = DecisionTreeClassifier(max_depth=2).fit(X[:, :3], y)
    model = sklearn_to_onnx(tree, X[:1, :3].astype(np.float32))
    with pytest.raises(nl.InputError, match="no input 'features'"):
        attach(lock, model, input_name="features")
