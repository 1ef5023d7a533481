"""Time series: statistics per series of a panel, joined by id.

>>> import numpy as np
>>> from normlock.domains import series
>>> panel = {"sensor": np.repeat([7, 8], 3), "load": np.array([1.0, 2, 3, 100, 200, 300])}
>>> lock = series.fit(panel, id="sensor")
>>> lock.transform({"sensor": np.array([8, 7]), "load": np.array([300.0, 1.0])})["load"]
array([ 1.22474487, -1.22474487])

* :func:`fit`: per-series ``standard``, ``minmax`` or ``robust`` statistics, exact,
  streaming over chunks or files, with a global fallback and an ``unseen`` policy;
* :class:`SeriesLock`: ``transform`` joined by id, ``inverse_transform`` of forecasts,
  ``verify`` and ``monitor``;
* :func:`instance_norm` and :class:`WindowLock`: each input window standardized by its
  own mean and std, forecasts de-normalized with the same numbers.
"""

from normlock.domains.series.fit import fit
from normlock.domains.series.lock import SeriesLock
from normlock.domains.series.windows import WindowLock, WindowStatistics, instance_norm

__all__ = ["SeriesLock", "WindowLock", "WindowStatistics", "fit", "instance_norm"]
