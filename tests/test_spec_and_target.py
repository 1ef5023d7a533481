"""Specs from files and mappings, defaults, chains, and locked regression targets."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split

import normlock as nl

DATA = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [10.0, 0.0, 5.0, 1.0], "tag": list("wxyz")})


def test_yaml_and_json_spec_files(tmp_path: Path) -> None:
    yaml_path = tmp_path / "spec.yaml"
    yaml_path.write_text(
        "features:\n  a: minmax\n  tag: passthrough\n"
        "  b:\n    steps: [log1p, standard]\n    nan: error\n"
    )
    json_path = tmp_path / "spec.json"
    json_path.write_text(
        json.dumps(
            {
                "a": "minmax",
                "tag": "passthrough",
                "b": {"steps": ["log1p", "standard"], "nan": "error"},
            }
        )
    )
    from_yaml, from_json = nl.fit(DATA, yaml_path), nl.fit(DATA, json_path)
    assert from_yaml.fingerprint == from_json.fingerprint
    assert [s.method for s in from_yaml.feature("b").steps] == ["log1p", "standard"]
    assert from_yaml.feature("b").nan == "error"


def test_bad_spec_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [minmax\n")
    with pytest.raises(nl.SpecError, match="not valid YAML"):
        nl.fit(DATA, broken)
    with pytest.raises(nl.SpecError, match="cannot read spec file"):
        nl.fit(DATA, tmp_path / "absent.yaml")


def test_default_applies_to_unnamed_numeric_columns() -> None:
    lock = nl.fit(DATA, {"tag": "passthrough"})
    assert [f.name for f in lock.features] == ["a", "b"]
    assert all(f.steps[0].method == "standard" for f in lock.features)
    passthrough_all = nl.fit(DATA, {"a": "maxabs"}, default="passthrough")
    assert passthrough_all.feature_names == ("a",)
    assert passthrough_all.passthrough == ("b", "tag")


def test_chain_later_steps_fit_on_earlier_outputs() -> None:
    lock = nl.fit(DATA, {"b": ["log1p", "standard"], "tag": "passthrough"})
    logged = np.log1p(DATA["b"].to_numpy())
    params = lock.feature("b").steps[1].params
    assert params["mean"] == float(np.mean(logged))
    assert abs(params["std"] - float(np.std(logged))) <= 1e-15


def test_power_standardize_option() -> None:
    lock = nl.fit(DATA, {"a": {"method": "power", "standardize": False}, "tag": "passthrough"})
    assert [s.method for s in lock.feature("a").steps] == ["yeo-johnson"]
    lock = nl.fit(DATA, {"a": "power", "tag": "passthrough"})
    assert [s.method for s in lock.feature("a").steps] == ["yeo-johnson", "standard"]


def test_target_is_locked_and_inverted_with_training_statistics() -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    lock = nl.fit(
        X_train.assign(progression=y_train), target="progression", target_spec=["log", "standard"]
    )
    assert lock.target is not None and lock.target.name == "progression"
    assert "progression" not in lock.columns
    assert lock.target.steps[1].params["mean"] == pytest.approx(np.log(y_train).mean(), rel=1e-15)
    model = Ridge(alpha=1e-3).fit(lock.transform(X_train), lock.transform_target(y_train))
    predicted = lock.inverse_transform_target(
        pd.Series(model.predict(lock.transform(X_test)), index=X_test.index)
    )
    assert isinstance(predicted, pd.Series) and predicted.index.equals(X_test.index)
    assert np.corrcoef(predicted, y_test)[0, 1] > 0.5
    round_trip = lock.inverse_transform_target(lock.transform_target(y_test.to_numpy()))
    assert np.allclose(round_trip, y_test.to_numpy(), rtol=1e-13)


def test_target_as_array() -> None:
    y = np.array([3.0, 5.0, 7.0, 9.0])
    lock = nl.fit(DATA[["a", "b"]], target=y, target_spec="minmax")
    assert lock.transform_target([3.0, 9.0]) == [0.0, 1.0]
    with pytest.raises(nl.InputError, match="one value per row"):
        nl.fit(DATA[["a", "b"]], target=y[:3])


def test_lock_without_target_refuses_target_transform() -> None:
    with pytest.raises(nl.InputError, match="no target"):
        nl.fit(DATA[["a"]]).transform_target([1.0])


def _label_warnings(frame: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lock = nl.fit(frame, target="target")
    found = [str(w.message) for w in caught if "classification label" in str(w.message)]
    assert len(found) == len(lock.target.warnings)
    return found


def test_a_classification_label_as_target_is_warned_about() -> None:
    """scikit-learn's breast cancer and iris targets are class labels; the diabetes
    target (integers, but 214 distinct values) is a regression target."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

    assert (
        "2 distinct integer values: 0, 1"
        in _label_warnings(load_breast_cancer(as_frame=True).frame)[0]
    )
    assert (
        "3 distinct integer values: 0, 1, 2" in _label_warnings(load_iris(as_frame=True).frame)[0]
    )
    assert _label_warnings(load_diabetes(as_frame=True).frame) == []
