"""Images: per-channel normalization fitted on the training split, or declared.

>>> import numpy as np
>>> from normlock.domains import images
>>> train = np.random.default_rng(0).integers(0, 256, (8, 3, 16, 16), dtype=np.uint8)
>>> lock = images.fit(train, max_value=255)          # pooled per-channel mean and std
>>> lock.transform(train[:2]).shape, lock.transform(train[:2]).dtype
((2, 3, 16, 16), dtype('float32'))

* :func:`fit`: exact pooled statistics (or the ``per_image`` policy) from arrays,
  folders or globs of image files, or a ``DataLoader``;
* :func:`preset`, :func:`from_normalize`, :func:`from_hf_preprocessor`,
  :func:`from_timm`, :func:`image_lock`: locks of declared constants;
* :class:`ImageLock`: ``transform``/``inverse_transform`` of batches in its layout,
  ``to_torch``, ``to_onnx``, ``verify`` and ``monitor``.
"""

from normlock.domains.images.fit import fit
from normlock.domains.images.lock import ImageLock
from normlock.domains.images.presets import (
    PRESETS,
    ImagePreset,
    from_hf_preprocessor,
    from_normalize,
    from_timm,
    image_lock,
    preset,
    transform_image,
)

__all__ = [
    "PRESETS",
    "ImageLock",
    "ImagePreset",
    "fit",
    "from_hf_preprocessor",
    "from_normalize",
    "from_timm",
    "image_lock",
    "preset",
    "transform_image",
]
