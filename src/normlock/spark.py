"""normlock on Spark (``pip install normlock[spark]``): :func:`fit`, :func:`transform` and
:func:`profile` on PySpark DataFrames; see :mod:`normlock.engines.spark`."""

from normlock.engines.spark import fit, profile, transform

__all__ = ["fit", "profile", "transform"]
