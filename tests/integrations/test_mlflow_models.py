"""normlock.mlflow against a real MLflow tracking store (SQLite in a temporary folder).

Each model is logged once per module, loaded back in fresh processes (one that loads the
pyfunc models, one that serves over HTTP), and its predictions compared bit for bit with
the lock and the model applied in Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import onnxruntime
import pandas as pd
import pytest
import torch
from sklearn.linear_model import Ridge

import normlock as nl
import normlock.mlflow as nlm
from tests.integrations.mlflow_setup import (
    FEATURES,
    Tracking,
    fitted_lock,
    open_store,
    orders,
    scoring_server,
)

LOAD_AND_PREDICT = """
import sys, numpy as np, pandas as pd, mlflow
served = pd.read_parquet(sys.argv[1])
out = {}
for key, uri in zip(sys.argv[3::2], sys.argv[4::2]):
    model = mlflow.pyfunc.load_model(uri)
    out[key] = np.asarray(model.predict(served))
    out[key + "_lock"] = np.frombuffer(
        model.unwrap_python_model().lock.fingerprint.encode(), dtype=np.uint8)
np.savez(sys.argv[2], **out)
"""


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracking]:
    before = mlflow.get_tracking_uri()
    yield open_store(tmp_path_factory.mktemp("mlflow"))
    mlflow.set_tracking_uri(before)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return orders(600, seed=1)


@pytest.fixture(scope="module")
def served() -> pd.DataFrame:
    return orders(40, seed=2)


@pytest.fixture(scope="module")
def lock(train: pd.DataFrame) -> nl.Lock:
    return fitted_lock(train)


@pytest.fixture(scope="module")
def ridge(lock: nl.Lock, train: pd.DataFrame) -> Ridge:
    return Ridge(alpha=0.1).fit(lock.transform(train[FEATURES]), lock.transform_target(train.price))


@pytest.fixture(scope="module")
def net(lock: nl.Lock, train: pd.DataFrame) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    return model.eval()


@pytest.fixture(scope="module")
def logged(tracking: Tracking, lock: nl.Lock, ridge: Ridge, net: torch.nn.Module) -> dict[str, Any]:
    """The lock and three lock-wrapped models logged in one run."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    graph = convert_sklearn(ridge, initial_types=[("X", FloatTensorType([None, 3]))])
    with mlflow.start_run() as run:
        found = {
            "lock_uri": nlm.log_lock(lock),
            "sklearn": nlm.log_model(lock, ridge, name="ridge", model_columns=FEATURES),
            "torch": nlm.log_model(lock, net, name="net", model_columns=FEATURES),
            "onnx": nlm.log_model(lock, graph, name="graph", model_columns=FEATURES),
        }
    return {**found, "run_id": run.info.run_id, "graph": graph}


def expected_predictions(lock: nl.Lock, models: dict[str, Any], served: pd.DataFrame) -> dict:
    """Lock, then model, then the target's inverse, in Python."""
    z = lock.transform(served[FEATURES])
    with torch.no_grad():
        net_out = models["torch"](torch.from_numpy(z.to_numpy(np.float32))).numpy()
    session = onnxruntime.InferenceSession(models["onnx"].SerializeToString())
    onnx_out = session.run(None, {"X": z.to_numpy(np.float32)})[0]
    return {
        "sklearn": lock.inverse_transform_target(models["sklearn"].predict(z)),
        "torch": lock.inverse_transform_target(net_out[:, 0]),
        "onnx": lock.inverse_transform_target(onnx_out[:, 0]),
    }


def test_models_loaded_in_a_fresh_process_predict_what_lock_and_model_give_in_python(
    tracking: Tracking,
    logged: dict[str, Any],
    lock: nl.Lock,
    ridge: Ridge,
    net: torch.nn.Module,
    served: pd.DataFrame,
    tmp_path: Path,
) -> None:
    served.to_parquet(tmp_path / "served.parquet")
    uris = [part for key in ("sklearn", "torch", "onnx") for part in (key, logged[key].model_uri)]
    script = [sys.executable, "-c", LOAD_AND_PREDICT, tmp_path / "served.parquet"]
    subprocess.run(
        [*script, tmp_path / "out", *uris],
        check=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking.uri},
        capture_output=True,
        timeout=180,
    )
    got = np.load(tmp_path / "out.npz")
    models = {"sklearn": ridge, "torch": net, "onnx": logged["graph"]}
    for key, expected in expected_predictions(lock, models, served).items():
        assert got[key].dtype == expected.dtype, key
        np.testing.assert_array_equal(got[key], expected, err_msg=key)
        assert got[f"{key}_lock"].tobytes().decode() == lock.fingerprint
    assert np.ptp(got["sklearn"]) > 10  # in price units, not normalized


def test_the_scoring_server_serves_the_same_predictions(
    tracking: Tracking, logged: dict[str, Any], lock: nl.Lock, ridge: Ridge, served: pd.DataFrame
) -> None:
    import httpx

    rows = served[["age", "income", "ctr"]]
    request = {"dataframe_split": {"columns": list(rows.columns), "data": rows.values.tolist()}}
    with scoring_server(logged["sklearn"].model_uri, tracking.uri) as base:
        answer = httpx.post(f"{base}/invocations", json=request, timeout=30)
        broken = httpx.post(
            f"{base}/invocations",
            json={"dataframe_split": {"columns": ["age", "ctr"], "data": [[40.0, 0.1]]}},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text
    predictions = [row["price"] for row in answer.json()["predictions"]]
    expected = lock.inverse_transform_target(ridge.predict(lock.transform(rows)))
    np.testing.assert_array_equal(np.array(predictions), expected)
    assert broken.status_code == 400
    assert "income" in broken.json()["message"]


def test_the_signature_carries_the_lock_columns_and_types(
    logged: dict[str, Any], tracking: Tracking, lock: nl.Lock, train: pd.DataFrame, ridge: Ridge
) -> None:
    signature = mlflow.models.Model.load(logged["sklearn"].model_uri).signature
    assert signature.inputs.input_names() == FEATURES
    assert [t.name for t in signature.inputs.input_types()] == ["double"] * 3
    assert signature.outputs.input_names() == ["price"]

    example = train[FEATURES].head(4).astype(np.float32)
    example["customer_id"] = train["customer_id"].head(4).to_numpy()
    with mlflow.start_run():
        wide = nlm.log_model(
            lock,
            Ridge().fit(lock.transform(train.drop(columns="price")), train.price),
            input_example=example,
        )
    inputs = mlflow.models.Model.load(wide.model_uri).signature.inputs
    assert inputs.input_names() == ["age", "income", "ctr", "customer_id"]
    assert [t.name for t in inputs.input_types()] == ["float", "float", "float", "long"]


def test_load_lock_reads_the_lock_back_from_every_kind_of_uri(
    logged: dict[str, Any], lock: nl.Lock, tmp_path: Path
) -> None:
    run = logged["run_id"]
    local = mlflow.artifacts.download_artifacts(logged["sklearn"].model_uri, dst_path=tmp_path)
    for uri in (
        logged["lock_uri"],
        f"runs:/{run}/normlock",
        logged["sklearn"].model_uri,
        logged["torch"].model_uri,
        local,
    ):
        assert nlm.load_lock(uri).to_json() == lock.to_json(), uri
    assert logged["lock_uri"] == f"runs:/{run}/normlock/model.normlock.json"


def test_the_run_records_the_fingerprint_and_features(
    logged: dict[str, Any], lock: nl.Lock, tmp_path: Path
) -> None:
    data = mlflow.get_run(logged["run_id"]).data
    assert data.tags["normlock.fingerprint"] == lock.fingerprint
    assert data.params["normlock.features"] == "age,income,ctr"
    assert data.params["normlock.target"] == "price"
    import hashlib

    assert data.tags["normlock.sha256"] == hashlib.sha256(lock.to_json().encode()).hexdigest()
    with mlflow.start_run(run_id=logged["run_id"]):
        other = nl.fit({"z": np.arange(10.0)})
        with pytest.raises(nl.InputError, match="already records another lock"):
            nlm.log_lock(other)


def test_nothing_is_pickled(logged: dict[str, Any], tmp_path: Path) -> None:
    for key in ("sklearn", "torch", "onnx"):
        uri = logged[key].model_uri
        folder = Path(mlflow.artifacts.download_artifacts(uri, dst_path=tmp_path / key))
        names = [p.name for p in folder.rglob("*") if p.is_file()]
        assert not [n for n in names if n.endswith((".pkl", ".pickle", ".cloudpickle"))], names
        pyfunc = mlflow.models.Model.load(str(folder)).flavors["python_function"]
        assert pyfunc["model_code_path"].endswith("model_code.py")
        assert (folder / "artifacts" / "model.normlock.json").is_file()


def _model_folder(tracking: Tracking, info: Any) -> Path:
    found = list(tracking.artifacts.rglob(f"models/{info.model_id}/artifacts"))
    assert len(found) == 1
    return found[0]


def test_a_tampered_lock_artifact_is_refused(
    tracking: Tracking, lock: nl.Lock, ridge: Ridge, served: pd.DataFrame
) -> None:
    with mlflow.start_run():
        info = nlm.log_model(lock, ridge, model_columns=FEATURES)
    path = _model_folder(tracking, info) / "artifacts" / "model.normlock.json"
    text = path.read_text()
    mean = repr(lock.feature("age").steps[0].params["mean"])
    path.write_text(text.replace(mean, repr(float(mean) + 1.0), 1))
    with pytest.raises(nl.LockIntegrityError, match="changed or replaced"):
        nlm.load_lock(info.model_uri)
    with pytest.raises(Exception, match="changed or replaced"):
        mlflow.pyfunc.load_model(info.model_uri).predict(served[FEATURES])

    other = nl.fit(served.drop(columns="price"), {"customer_id": "passthrough"})
    path.write_text(other.to_json())  # sealed, but another lock than the one logged
    with pytest.raises(nl.LockIntegrityError, match="changed or replaced"):
        nlm.load_lock(info.model_uri)


def test_an_edited_lock_logged_on_its_own_fails_its_seal(tracking: Tracking, lock: nl.Lock) -> None:
    with mlflow.start_run() as run:
        uri = nlm.log_lock(lock, artifact_path="locks/orders")
    path = next(tracking.artifacts.rglob(f"{run.info.run_id}/artifacts/locks/orders/*.json"))
    path.write_text(path.read_text().replace('"standard"', '"minmax"', 1))
    with pytest.raises(nl.LockIntegrityError):
        nlm.load_lock(uri)


MODEL_CODE = """
import mlflow, numpy as np
class Half(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return np.asarray(model_input, dtype=float).sum(axis=1) / 2
mlflow.models.set_model(Half())
"""


def test_any_pyfunc_wraps_a_models_from_code_file_and_an_existing_mlflow_model(
    tracking: Tracking, lock: nl.Lock, ridge: Ridge, served: pd.DataFrame, tmp_path: Path
) -> None:
    code = tmp_path / "half.py"
    code.write_text(MODEL_CODE)
    with mlflow.start_run():
        half = nlm.log_model(lock, code, model_columns=["age", "ctr"], pip_requirements=[])
        plain = mlflow.sklearn.log_model(ridge, name="plain", pip_requirements=["scikit-learn"])
        wrapped = nlm.log_model(lock, plain.model_uri, model_columns=FEATURES)
    z = lock.transform(served[FEATURES])
    got = mlflow.pyfunc.load_model(half.model_uri).predict(served[FEATURES])
    expected = lock.inverse_transform_target((z.age + z.ctr).to_numpy() / 2)
    np.testing.assert_array_equal(got.to_numpy(), expected)
    got = mlflow.pyfunc.load_model(wrapped.model_uri).predict(served[FEATURES])
    np.testing.assert_array_equal(got.to_numpy(), lock.inverse_transform_target(ridge.predict(z)))


def test_what_cannot_be_logged_is_refused_with_the_remedy(
    tracking: Tracking, lock: nl.Lock, ridge: Ridge
) -> None:
    class Instance(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input

    with mlflow.start_run():
        with pytest.raises(nl.InputError, match="models-from-code file"):
            nlm.log_model(lock, Instance(), model_columns=FEATURES)
        with pytest.raises(nl.InputError, match="cannot log a model of type dict"):
            nlm.log_model(lock, {}, model_columns=FEATURES)
        with pytest.raises(nl.InputError, match=r"passthrough column\(s\) \['customer_id'\]"):
            nlm.log_model(lock, ridge)
        with pytest.raises(nl.ColumnNotFoundError, match="'agee'"):
            nlm.log_model(lock, ridge, model_columns=["agee"])


def test_load_lock_names_what_is_missing(tracking: Tracking, lock: nl.Lock, tmp_path: Path) -> None:
    with mlflow.start_run() as run:
        mlflow.log_text("hello", "notes/readme.txt")
    with pytest.raises(nl.InputError, match=r"holds no lock file \(\*\.normlock\.json\)"):
        nlm.load_lock(f"runs:/{run.info.run_id}/notes")
