"""normlock on Spark (``pip install normlock[spark]``): :func:`fit`, :func:`transform` and
:func:`profile` on PySpark DataFrames, and :func:`from_spark` (locks from fitted Spark ML
scalers); see :mod:`normlock.engines.spark`."""

from normlock.engines.spark import fit, from_spark, profile, transform

__all__ = ["fit", "from_spark", "profile", "transform"]
