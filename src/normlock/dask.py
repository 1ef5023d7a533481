"""normlock on Dask (``pip install normlock[dask]``): :func:`fit`, :func:`transform` and
:func:`profile` on Dask DataFrames and 2-D arrays; see :mod:`normlock.engines.dask`."""

from normlock.engines.dask import fit, profile, transform

__all__ = ["fit", "profile", "transform"]
