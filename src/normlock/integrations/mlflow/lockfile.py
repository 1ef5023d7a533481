"""The lock as an MLflow artifact: its sealed file, the run's tags and params, reading it back.

The file is the lock's own text, byte for byte (``model.normlock.json``); MLflow never
pickles or rewrites it. Reading it back checks the lock's seal and, for a model logged by
:func:`normlock.mlflow.log_model`, the SHA-256 its MLmodel file recorded, so an edited
artifact and a lock swapped for another are both refused.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from normlock.errors import InputError, LockIntegrityError

if TYPE_CHECKING:
    from normlock.lock import Lock

LOCK_FILE = "model.normlock.json"
"""The file name of a lock logged to MLflow."""
LOCK_ARTIFACT = "normlock_lock"
"""The pyfunc artifact key of the lock inside a model."""
METADATA_KEY = "normlock"
"""The key of the lock's record in an MLmodel file's ``metadata``."""
PARAM_LIMIT = 6000
"""The longest parameter value MLflow stores."""


@dataclass(frozen=True)
class LockText:
    """A lock with its file's exact text (what is logged) and the text's SHA-256."""

    lock: Lock
    text: str

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the file's UTF-8 bytes (the registry's content address)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @classmethod
    def of(cls, lock: Lock | str | os.PathLike[str]) -> LockText:
        """From a :class:`~normlock.lock.Lock` or a lock file (kept byte for byte)."""
        from normlock.lock import Lock, load

        if isinstance(lock, Lock):
            return cls(lock, lock.to_json())
        if not isinstance(lock, str | os.PathLike):
            raise InputError(
                f"expected a normlock Lock or the path of a lock file, got {type(lock).__name__}"
            )
        loaded = load(lock)
        return cls(loaded, Path(lock).read_bytes().decode("utf-8"))

    def write(self, folder: Path) -> Path:
        """Write the file into ``folder``; its path."""
        path = folder / LOCK_FILE
        path.write_bytes(self.text.encode("utf-8"))
        return path

    def record(self) -> dict[str, Any]:
        """What an MLmodel file records about the lock (checked when it is read back)."""
        lock = self.lock
        return {
            "fingerprint": lock.fingerprint,
            "sha256": self.sha256,
            "features": list(lock.feature_names),
            "passthrough": list(lock.passthrough),
            "target": None if lock.target is None else lock.target.name,
            "library_version": lock.library_version,
        }


def read_verified(path: Path, *, sha256: str | None, where: str) -> Lock:
    """The lock in the file at ``path``, its seal checked (and its hash, when recorded).

    Raises:
        LockIntegrityError: the file was changed, or is another lock than the one logged.
    """
    from normlock.lock import Lock

    raw = path.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and actual != sha256:
        raise LockIntegrityError(
            f"{where}: the lock file hashes to sha256:{actual[:16]}, but the model was logged "
            f"with sha256:{sha256[:16]}; the artifact was changed or replaced. Refusing it: "
            "log the model again with its lock (normlock.mlflow.log_model)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LockIntegrityError(f"{where} is not UTF-8 text: the lock file is damaged") from None
    return Lock.from_json(text, source=where)


def _param_value(values: list[str]) -> str:
    joined = ",".join(values)
    if len(joined) <= PARAM_LIMIT:
        return joined
    suffix = f",... ({len(values)} in all; see the lock file)"
    return joined[: PARAM_LIMIT - len(suffix)] + suffix


def tag_run(locked: LockText, artifact: str) -> None:
    """Record the lock on the active run: tags (fingerprint, hash, where its file is) and
    params (feature names, target).

    Raises:
        InputError: the run already records another lock's params.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    lock = locked.lock
    mlflow.set_tags(
        {
            "normlock.fingerprint": lock.fingerprint,
            "normlock.sha256": locked.sha256,
            "normlock.artifact": artifact,
        }
    )
    params = {
        "normlock.features": _param_value(list(lock.feature_names)),
        "normlock.target": "" if lock.target is None else lock.target.name,
    }
    try:
        mlflow.log_params(params)
    except MlflowException as exc:
        if "Changing param values is not allowed" not in str(exc):
            raise
        raise InputError(
            "this MLflow run already records another lock's features and target (params "
            "are immutable); log each lock in its own run: with mlflow.start_run(): ..."
        ) from None


def log_lock(lock: Lock | str | os.PathLike[str], artifact_path: str = "normlock") -> str:
    """Log a lock's sealed file to the active MLflow run (one is started if none is).

    The run gets the tags ``normlock.fingerprint``, ``normlock.sha256`` (of the file) and
    ``normlock.artifact``, and the params ``normlock.features`` and ``normlock.target``.

    Args:
        lock: a :class:`~normlock.lock.Lock` or a lock file (logged byte for byte).
        artifact_path: the run's artifact folder for the file.

    Returns:
        The file's URI, ``runs:/RUN_ID/ARTIFACT_PATH/model.normlock.json``, which
        :func:`load_lock` reads back.

    Example:
        >>> import mlflow, normlock.mlflow
        >>> with mlflow.start_run():                                  # doctest: +SKIP
        ...     uri = normlock.mlflow.log_lock(lock)
        >>> normlock.mlflow.load_lock(uri).fingerprint == lock.fingerprint   # doctest: +SKIP
        True
    """
    import mlflow

    locked = LockText.of(lock)
    folder = artifact_path.strip("/")
    with tempfile.TemporaryDirectory(prefix="normlock-mlflow-") as temporary:
        mlflow.log_artifact(str(locked.write(Path(temporary))), folder or None)
    run = mlflow.active_run()
    assert run is not None  # log_artifact started one if needed
    where = f"{folder}/{LOCK_FILE}" if folder else LOCK_FILE
    tag_run(locked, where)
    return f"runs:/{run.info.run_id}/{where}"


def _recorded(model_uri: str) -> tuple[str, str | None] | None:
    """The lock file's path inside the model at ``model_uri`` and its recorded hash, or
    None when ``model_uri`` is no MLflow model."""
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    try:
        model = Model.load(model_uri)
    except (MlflowException, OSError):
        return None
    artifacts = model.flavors.get("python_function", {}).get("artifacts", {})
    if LOCK_ARTIFACT not in artifacts:
        raise InputError(
            f"the MLflow model {model_uri} holds no normlock lock (it was not logged with "
            "normlock.mlflow.log_model); give the URI of a model or run artifact that has one"
        )
    record = (model.metadata or {}).get(METADATA_KEY, {})
    return artifacts[LOCK_ARTIFACT]["path"], record.get("sha256")


def _lock_in_folder(repository: Any, model_uri: str) -> str:
    """The one lock file among the artifacts at the root of ``repository``."""
    names = [Path(entry.path).name for entry in repository.list_artifacts("")]
    found = [name for name in names if name.endswith(".normlock.json")]
    if len(found) != 1:
        listed = ", ".join(sorted(names)) or "nothing"
        raise InputError(
            f"{model_uri} holds {'no' if not found else 'more than one'} lock file "
            f"(*.normlock.json); it holds {listed}. Give the URI of the lock file itself, of "
            "a run's folder that normlock.mlflow.log_lock wrote, or of a model that "
            "normlock.mlflow.log_model logged"
        )
    return found[0]


def load_lock(model_uri: str) -> Lock:
    """The lock inside an MLflow model or run artifact, its seal (and hash) checked.

    Args:
        model_uri: a model logged by :func:`normlock.mlflow.log_model` (``models:/...``,
            ``runs:/RUN_ID/model``, a local model folder), or what
            :func:`normlock.mlflow.log_lock` returned (a lock file or its folder).

    Raises:
        LockIntegrityError: the lock file was edited, or replaced by another lock.
        InputError: the URI holds no lock.
    """
    from mlflow.artifacts import download_artifacts
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    uri = str(model_uri)
    with tempfile.TemporaryDirectory(prefix="normlock-mlflow-") as temporary:
        if uri.endswith(".json"):
            path = Path(download_artifacts(artifact_uri=uri, dst_path=temporary))
            return read_verified(path, sha256=None, where=uri)
        repository = get_artifact_repository(uri)
        recorded = _recorded(uri)
        inside, sha256 = recorded if recorded else (_lock_in_folder(repository, uri), None)
        path = Path(repository.download_artifacts(inside, temporary))
        return read_verified(path, sha256=sha256, where=f"{uri.rstrip('/')}/{inside}")
