"""Exports of a lock to scikit-learn, PyTorch and ONNX, and imports from other libraries.

One module per runtime; each imports its library only when used.
"""

INVALID_OUTPUT = "normlock_invalid"
"""The name of the ONNX graph output that flags the values ``lock.transform`` rejects
(see :mod:`normlock.export.onnx_checks`); serving code and the verify runner read it."""
