"""Meeting users' tools: the lock inside MLflow models (:mod:`normlock.mlflow`) and the
registry in a browser (:mod:`normlock.integrations.web`). Each is thin over the library
and imports its framework only when used."""
