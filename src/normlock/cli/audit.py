"""``normlock audit``: a model's normalization layers and the seam to its lock."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from normlock.cli.common import (
    EXIT_FINDING,
    EXIT_OK,
    JsonOption,
    app,
    console,
    guarded,
    read_table,
)


@app.command()
@guarded
def audit(
    model: Annotated[
        str,
        typer.Argument(
            help="The model: a .onnx, .pt2 (torch.export) or .pt/.pth/.ts (TorchScript) "
            "file, or module:attr naming a torch module (or a function returning one)."
        ),
    ],
    lock: Annotated[
        Path | None,
        typer.Option(
            "--lock",
            "-l",
            help="The lock in front of the model (for a combined model: the lock it should carry).",
        ),
    ] = None,
    sample: Annotated[
        Path | None,
        typer.Option(
            help="A batch of model inputs (.npy, .npz) or of raw rows (Parquet, CSV, Arrow; "
            "normalized by --lock) to compare with the running statistics."
        ),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="The batch size the model was trained with.")
    ] = None,
    dtype: Annotated[
        str | None,
        typer.Option(
            help="The inference dtype: float16, bfloat16, float32, float64 [default: the model's]."
        ),
    ] = None,
    expects: Annotated[
        Path | None,
        typer.Option(
            help="The model's declared preprocessing: a Hugging Face preprocessor_config.json "
            "or a timm pretrained_cfg as JSON [default: preprocessor_config.json beside the "
            "model file]."
        ),
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the model's normalization layers and what is wrong with them; exit 1 on a finding.

    Checks: batch normalization left in training mode, running statistics never updated,
    stale or (with --sample) far from the data, near-zero variances, small training
    batches (--batch-size), epsilons that vanish in float16 (--dtype), settings that make
    inference depend on the batch; with --lock, a normalization at the model's input that
    duplicates the lock, or expects other inputs, and the preprocessing the model declares.

    Examples:

        normlock audit model.onnx --lock model.normlock.json

        normlock audit model.pt2 --sample batch.npy --batch-size 8 --json

        normlock audit serving/model.py:build --lock model.normlock.json --dtype float16

        normlock audit vit.onnx --lock image.normlock.json --expects preprocessor_config.json
    """
    from normlock.audit.api import audit as run_audit

    if os.getcwd() not in sys.path:  # so that module:attr finds the user's modules
        sys.path.insert(0, os.getcwd())
    report = run_audit(
        model,
        lock=lock,
        sample=None if sample is None else _read_sample(sample),
        batch_size=batch_size,
        dtype=dtype,
        expects=expects,
    )
    if html:
        from normlock.audit.render import write_html

        write_html(html, report)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=False, ensure_ascii=False))
    else:
        from normlock.audit.render import report_table

        console().print(report_table(report))
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDING)


def _read_sample(path: Path) -> Any:
    """An array from .npy/.npz, else a table from Parquet, CSV or Arrow files."""
    from normlock.errors import InputError

    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        import numpy as np

        if not path.is_file():
            raise InputError(f"sample file {str(path)!r} does not exist")
        try:
            loaded = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InputError(f"{str(path)!r} is not a numeric array file: {exc}") from None
        if suffix == ".npz":
            if len(loaded.files) != 1:
                raise InputError(f"{str(path)!r} holds {loaded.files}; save one array")
            return loaded[loaded.files[0]]
        return loaded
    return read_table([str(path)])
