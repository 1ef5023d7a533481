"""Exports of a lock to scikit-learn, PyTorch and ONNX, and imports from other libraries.

One module per runtime; each imports its library only when used.
"""

INVALID_OUTPUT = "normlock_invalid"
"""The name of the ONNX graph output that flags the values ``lock.transform`` rejects
(see :mod:`normlock.export.onnx_checks`); serving code and the verify runner read it."""

FINGERPRINT_KEY = "normlock.fingerprint"
"""The ONNX metadata key of the fingerprint of the lock a graph applies."""

LOCK_OUTPUT_KEY = "normlock.lock_output"
"""The ONNX metadata key, in a model with a lock attached in front
(:func:`normlock.export.onnx_graph.attach`), of the tensor the lock stage outputs."""

FINGERPRINT_BUFFER = "normlock_fingerprint"
"""The buffer of a torch module with a lock attached
(:class:`normlock.export.torch_attach.AttachedModule`) that holds the lock's
fingerprint as ASCII bytes: it stays in ``state_dict()`` and in exported programs."""
