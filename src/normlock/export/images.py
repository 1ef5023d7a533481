"""Image locks from presets and other libraries' configs: moved to
:mod:`normlock.domains.images`, which also fits them on training images; this module
keeps the earlier import path working."""

from normlock.domains.images import (
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
    "ImagePreset",
    "from_hf_preprocessor",
    "from_normalize",
    "from_timm",
    "image_lock",
    "preset",
    "transform_image",
]
