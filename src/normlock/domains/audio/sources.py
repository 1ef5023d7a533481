"""Where audio clips come from: arrays, lists of clips of any length, ``.npy`` files.

A clip is one array: a spectrogram ``[..., bins, frames]`` (clips may differ in their
number of frames) or a waveform ``[..., samples]``. A source is one array (a clip, or a
batch of clips of one length), a list or iterable of them, or ``.npy`` files (paths,
globs or folders of them).
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from normlock.domains.arrays import as_array, is_tensor
from normlock.errors import InputError


def npy_files(paths: list[str]) -> list[Path]:
    """The ``.npy`` files of paths, globs and folders, sorted within each."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(path.rglob("*.npy"))
        elif path.is_file():
            found.append(path)
        else:
            found += sorted(
                Path(p) for p in glob.glob(str(given), recursive=True) if p.endswith(".npy")
            )
    if not found:
        raise InputError(f"no .npy clip in {', '.join(paths)}")
    return found


def clip_files(paths: list[str]) -> Iterator[np.ndarray]:
    """The clips of ``.npy`` files (loaded without pickles)."""
    for path in npy_files(list(paths)):
        try:
            yield np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"file {str(path)!r} is not a .npy array: {exc}") from None


def clips(source: Any) -> Iterator[tuple[np.ndarray, str]]:
    """Each clip of ``source`` with where it came from."""
    if isinstance(source, str | Path) or (
        isinstance(source, list | tuple)
        and source
        and all(isinstance(s, str | Path) for s in source)
    ):
        names = [str(source)] if isinstance(source, str | Path) else [str(s) for s in source]
        for path, clip in zip(npy_files(names), clip_files(names), strict=True):
            yield clip, f"file {str(path)!r}"
        return
    if isinstance(source, np.ndarray) or is_tensor(source):
        yield as_array(source), "the clips"
        return
    if not isinstance(source, Iterable):
        raise InputError(
            f"cannot read clips from {type(source).__name__}: pass an array, a list of "
            "arrays (clips of any length) or .npy files"
        )
    for index, item in enumerate(source):
        yield as_array(item), f"clip {index}"
