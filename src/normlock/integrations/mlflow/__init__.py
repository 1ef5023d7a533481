"""The lock inside MLflow: its sealed file in a run or a model, and a pyfunc model that
applies it before the model (see :mod:`normlock.mlflow`, the public entry point).

* :mod:`.lockfile`: the lock as an MLflow artifact (log it, find it, read it verified);
* :mod:`.flavors`: the wrapped model saved in its own MLflow flavor;
* :mod:`.composition`: lock, then model, then the target's inverse, on one frame;
* :mod:`.wrapper` and :mod:`.model_code`: the pyfunc model, logged as code;
* :mod:`.models`: ``log_model``.
"""
