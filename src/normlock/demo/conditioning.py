"""``normlock demo --conditioning``: why normalizing makes a linear model train faster.

A generated table of house sales (rooms, age in years, distance to the centre in
kilometres: columns in their own units, none centered) is locked with ``standard`` for
every column, an affine change of variables, so the least-squares model (with an
intercept) is the same model on both; it is trained by plain gradient descent, step
``1 / λmax``, on the raw and on the normalized columns until its weights are within a
relative ``1e-6`` of the exact solution. The steps each took stand beside ``κ(XᵀX)``
and the count the theory predicts, ``ln(1e-6) / ln(1 - 1/κ)``; a chart of the error per
step is written beside, with the advisor's report on the table (its spec, histograms, κ
and precision tables).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from normlock.advise.conditioning import iterations
from normlock.monitor.svg import Series, chart

TOLERANCE = 1e-6
MAX_STEPS = 3_000_000
FEATURES = ("rooms", "age_years", "distance_km")


def houses(rows: int = 2000, seed: int = 11) -> dict[str, np.ndarray]:
    """House sales: three features in their own units and the price (in thousands)."""
    rng = np.random.default_rng(seed)
    rooms = rng.integers(1, 7, rows).astype(np.float64)
    age = rng.uniform(0.0, 70.0, rows)
    distance = rng.lognormal(1.5, 0.6, rows)
    price = 300 + 40 * rooms - 0.8 * age - 6 * distance + rng.normal(0, 15, rows)
    return {"rooms": rooms, "age_years": age, "distance_km": distance, "price": price}


@dataclass(frozen=True)
class Descent:
    """One run of gradient descent on a least-squares problem.

    Attributes:
        label: which data it ran on.
        kappa: ``κ(XᵀX)`` of the design matrix (with an intercept).
        steps: the steps to a relative error of :data:`TOLERANCE` (None: not within
            :data:`MAX_STEPS`).
        predicted: the steps the theory predicts for that ``κ``.
        errors: the relative error of the weights after each recorded step.
        recorded: the steps at which ``errors`` were recorded.
    """

    label: str
    kappa: float
    steps: int | None
    predicted: float
    errors: np.ndarray
    recorded: np.ndarray


def descend(label: str, features: np.ndarray, y: np.ndarray, max_steps: int = MAX_STEPS) -> Descent:
    """Plain gradient descent with step ``1/λmax`` on ``|[1, X] w - y|² / 2n`` from ``w = 0``,
    until ``|w - w*| <= TOLERANCE |w*|``."""
    x = np.column_stack([np.ones(len(y)), features])
    hessian, gradient_at_zero = x.T @ x / len(y), x.T @ y / len(y)
    eigenvalues = np.linalg.eigvalsh(hessian)
    kappa = float(eigenvalues[-1] / eigenvalues[0])
    best = np.linalg.solve(hessian, gradient_at_zero)
    step = 1.0 / eigenvalues[-1]
    update, shift = np.eye(len(best)) - step * hessian, step * gradient_at_zero
    w = np.zeros_like(best)
    scale = float(np.linalg.norm(best))
    every = max(1, int(min(iterations(kappa, TOLERANCE), max_steps)) // 400)
    errors, recorded = [1.0], [0]
    done = None
    for t in range(1, max_steps + 1):
        w = update @ w + shift  # w - step * (H w - Xᵀy / n)
        gap = w - best
        error = float(np.sqrt(gap @ gap)) / scale
        if t % every == 0 or error <= TOLERANCE:
            errors.append(error)
            recorded.append(t)
        if error <= TOLERANCE:
            done = t
            break
    return Descent(label, kappa, done, iterations(kappa, TOLERANCE), np.array(errors),
                   np.array(recorded))  # fmt: skip


@dataclass(frozen=True)
class ConditioningDemo:
    """Both runs, and where the demo wrote its files."""

    raw: Descent
    normalized: Descent
    chart: Path
    report: Path
    spec: Path

    @property
    def measured_ratio(self) -> float:
        """Steps on raw over steps on normalized data."""
        if self.raw.steps is None or self.normalized.steps is None:
            return float("inf")
        return self.raw.steps / self.normalized.steps

    @property
    def predicted_ratio(self) -> float:
        """The theory's steps on raw over on normalized data."""
        return self.raw.predicted / self.normalized.predicted


def _plot(runs: list[Descent], path: Path) -> Path:
    colors = ("#d62728", "#2ca02c")
    series = [
        Series(f"{r.label} (κ {r.kappa:.3g})", r.recorded.astype(float),
               np.log10(np.maximum(r.errors, 1e-300)), color)
        for r, color in zip(runs, colors, strict=True)
    ]  # fmt: skip
    svg = chart(series, "gradient descent: relative error of the weights", "step", "log10 error")
    path.write_text(svg, encoding="utf-8")
    return path


def conditioning_demo(folder: Path, rows: int = 2000) -> ConditioningDemo:
    """Run the demo in ``folder``: advise, lock, descend on raw and standardized data."""
    import normlock as nl
    from normlock.advise.html import write_html

    data = houses(rows)
    advice = nl.advise(data, target="price", source="generated house sales")
    spec = folder / "houses.spec.yaml"
    spec.write_text(advice.spec_yaml(), encoding="utf-8")
    columns = {n: data[n] for n in FEATURES}
    lock = nl.fit(columns)  # standard for every column: affine, so the same linear model
    raw = np.column_stack(list(columns.values()))
    normalized = lock.transform(raw)
    runs = [descend("raw", raw, data["price"]), descend("normalized", normalized, data["price"])]
    return ConditioningDemo(
        runs[0],
        runs[1],
        _plot(runs, folder / "gradient_descent.svg"),
        write_html(advice, folder / "houses.advice.html"),
        spec,
    )


def run_conditioning(directory: Path | None, console: Any) -> ConditioningDemo:
    """Run the demo, print its table, and keep its files in ``directory`` (else a
    temporary folder, removed at the end)."""
    from rich.table import Table

    if directory is None:
        with tempfile.TemporaryDirectory(prefix="normlock-conditioning-") as temporary:
            return run_conditioning(Path(temporary), console)
    directory.mkdir(parents=True, exist_ok=True)
    found = conditioning_demo(directory)
    table = Table(title="the same linear model, plain gradient descent to a relative 1e-6")
    for header in ("data", "κ(XᵀX)", "steps", "steps the theory predicts"):
        table.add_column(header)
    for run in (found.raw, found.normalized):
        steps = f"{run.steps:,}" if run.steps is not None else f"> {MAX_STEPS:,}"
        table.add_row(run.label, f"{run.kappa:.4g}", steps, f"{run.predicted:,.0f}")
    console.print(table)
    console.print(
        f"raw data took {found.measured_ratio:,.0f}x the steps; the theory says "
        f"{found.predicted_ratio:,.0f}x (κ ratio {found.raw.kappa / found.normalized.kappa:,.0f})",
        highlight=False,
    )
    console.print(f"→ {found.chart}, {found.report}, {found.spec}", highlight=False, soft_wrap=True)
    return found
