"""Audio: spectrogram bins normalized with statistics fitted on the training clips, and
waveform policies.

>>> import numpy as np
>>> from scipy.signal import spectrogram
>>> from normlock.domains import audio
>>> rng = np.random.default_rng(0)
>>> clips = [spectrogram(rng.normal(size=n), nperseg=64)[2] for n in (2000, 3500, 900)]
>>> lock = audio.fit(clips, scale="db")                    # per bin, over every frame
>>> lock.transform(clips[0]).shape
(33, 35)

* :func:`fit`: per-bin mean and std of ``log(x + eps)`` or dB, exact, streaming over
  clips of different lengths;
* :func:`waveform_policy`: ``peak`` or ``rms`` per clip, locked as a policy;
* :class:`AudioLock`: ``transform``, ``inverse_transform``, ``to_torch``, ``to_onnx``,
  ``verify`` and per-bin ``monitor``.
"""

from normlock.domains.audio.fit import bin_names, fit, waveform_policy
from normlock.domains.audio.lock import AudioLock

__all__ = ["AudioLock", "bin_names", "fit", "waveform_policy"]
