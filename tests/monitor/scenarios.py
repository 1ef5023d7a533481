"""Seeded scenarios for the diagnosis: bundled scikit-learn datasets and synthetic data.

Each scenario fits a lock on a training split, breaks the served split the way production
pipelines break (normalized twice, skipped, other units, swapped columns, ...) and states
the findings a correct diagnosis reports: their kinds, features, and a word the message
must contain (the factor, the other column, the conversion).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from sklearn import datasets
from sklearn.preprocessing import StandardScaler

import normlock as nl
from normlock.errors import DomainError
from normlock.lock import Lock

Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class Expect:
    """A finding the diagnosis must report: kind, exact features, words in the message."""

    kind: str
    features: frozenset[str]
    words: tuple[str, ...] = ()
    optional: frozenset[str] = frozenset()
    """Features the finding may name besides ``features`` (a barely visible instance of
    the same cause)."""

    def matches(self, kind: str, features: frozenset[str]) -> bool:
        return kind == self.kind and self.features <= features <= self.features | self.optional


@dataclass(frozen=True)
class Scenario:
    """A lock, a served batch at a stage, and the findings expected."""

    name: str
    lock: Lock
    batch: Columns
    stage: str
    expected: tuple[Expect, ...]
    tolerated: frozenset[str] = field(default_factory=frozenset)
    """Extra finding kinds that do not make the diagnosis wrong (real-data drift)."""


@dataclass(frozen=True)
class Data:
    """A dataset split into a training part (locked) and a served part."""

    name: str
    train: Columns
    served: Columns
    spec: dict[str, object]

    def lock(self) -> Lock:
        return nl.fit(self.train, self.spec)


def _split(name: str, frame: np.ndarray, names: list[str], seed: int) -> Data:
    rng = np.random.default_rng(seed)
    order = rng.permutation(frame.shape[0])
    cut = int(0.6 * frame.shape[0])
    columns = [n.replace(" ", "_").replace("/", "_") for n in names]
    train = {c: frame[order[:cut], i].astype(float) for i, c in enumerate(columns)}
    served = {c: frame[order[cut:], i].astype(float) for i, c in enumerate(columns)}
    return Data(name, train, served, {})


def bundled() -> list[Data]:
    """The bundled scikit-learn datasets used by the suite."""
    diabetes = datasets.load_diabetes(scaled=False)
    wine = datasets.load_wine()
    cancer = datasets.load_breast_cancer()
    iris = datasets.load_iris()
    return [
        _split("diabetes", diabetes.data, list(diabetes.feature_names), 1),
        _split("wine", wine.data, list(wine.feature_names), 2),
        _split("breast_cancer", cancer.data, list(cancer.feature_names), 3),
        _split("iris", iris.data, list(iris.feature_names), 4),
    ]


def synthetic(rows: int = 3000, served: int = 800, seed: int = 5) -> Data:
    """Measurements in physical units, with a skewed income locked as log1p -> standard."""
    rng = np.random.default_rng(seed)

    def draw(size: int) -> Columns:
        return {
            "temperature_c": rng.normal(21, 6, size),
            "weight_kg": rng.gamma(20, 3.5, size),
            "height_cm": rng.normal(170, 9, size),
            "speed_ms": rng.gamma(6, 2, size),
            "duration_min": rng.exponential(12, size) + 1,
            "brightness": rng.beta(2, 5, size),
            "income": rng.lognormal(10.5, 0.6, size),
            "distance_km": rng.gamma(3, 4, size),
        }

    spec = {"income": ["log1p", "standard"], "brightness": "minmax"}
    return Data("synthetic", draw(rows), draw(served), spec)


def _copy(columns: Columns) -> Columns:
    return {k: v.copy() for k, v in columns.items()}


def _two_distinct(data: Data, lock: Lock) -> tuple[str, str]:
    """Two features whose training distributions are far apart (a visible swap)."""
    names = list(data.train)
    medians = {n: np.median(data.train[n]) for n in names}
    ordered = sorted(names, key=lambda n: medians[n])
    return ordered[-1], ordered[len(ordered) // 2]


def _continuous(data: Data) -> list[str]:
    """Feature names, the most distinct values first."""
    return sorted(data.train, key=lambda n: -np.unique(data.train[n]).size)


def _normalize_again(lock: Lock, normalized: Columns) -> Columns:
    """Model inputs normalized a second time where the chain accepts them (a log step
    rejects negative values, so a pipeline would fail there instead)."""
    twice = {}
    for feature in lock.features:
        try:
            twice[feature.name] = feature.apply(normalized[feature.name])
        except DomainError:
            twice[feature.name] = normalized[feature.name]
    return twice


def _visible(before: Columns, after: Columns) -> frozenset[str]:
    """Features whose distribution differs visibly between two versions of the batch
    (a mean apart by half an SD, or SDs apart by half): where a cause can be seen at all."""
    found = set()
    for name, a in before.items():
        b = after[name]
        spread = max(np.std(a), np.std(b))
        ratio = np.std(a) / np.std(b) if np.std(b) > 0 else np.inf
        if abs(np.mean(a) - np.mean(b)) > 0.5 * spread or not 2 / 3 < ratio < 1.5:
            found.add(name)
    return frozenset(found)


def _everyday(data: Data, lock: Lock) -> Iterator[Scenario]:
    served = data.served
    normalized = lock.transform(served)
    every = _visible(served, normalized)
    all_names = frozenset(served)
    first, second = _two_distinct(data, lock)
    third = next(n for n in _continuous(data) if n not in (first, second))
    fourth = next(n for n in _continuous(data) if n not in (first, second, third))
    yield Scenario(f"{data.name}: ok raw", lock, served, "raw", ())
    yield Scenario(f"{data.name}: ok normalized", lock, normalized, "normalized", ())
    yield Scenario(
        f"{data.name}: already normalized",
        lock,
        normalized,
        "raw",
        (Expect("double_normalization", every, ("normalize them twice",), all_names),),
    )
    yield Scenario(
        f"{data.name}: normalization skipped",
        lock,
        served,
        "normalized",
        (Expect("skipped_normalization", every, ("skipped",), all_names),),
    )
    twice = _normalize_again(lock, normalized)
    yield Scenario(
        f"{data.name}: normalized twice",
        lock,
        twice,
        "normalized",
        (
            Expect(
                "double_normalization",
                _visible(normalized, twice),
                ("normalized twice",),
                all_names,
            ),
        ),
    )
    for factor, word in ((1000.0, "×1000"), (0.001, "×0.001"), (100.0, "×100")):
        batch = _copy(served)
        batch[third] = batch[third] * factor
        yield Scenario(
            f"{data.name}: {third} {word}",
            lock,
            batch,
            "raw",
            (Expect("unit_change", frozenset({third}), (word,)),),
        )
    batch = _copy(served)
    batch[fourth] = batch[fourth] * 1000.0
    yield Scenario(
        f"{data.name}: {fourth} ×1000 before the lock",
        lock,
        lock.transform(batch),
        "normalized",
        (Expect("unit_change", frozenset({fourth}), ("×1000",)),),
    )
    swapped = _copy(served)
    swapped[first], swapped[second] = served[second].copy(), served[first].copy()
    yield Scenario(
        f"{data.name}: {first} and {second} swapped",
        lock,
        swapped,
        "raw",
        (Expect("swapped_columns", frozenset({first, second}), (first, second)),),
    )
    yield Scenario(
        f"{data.name}: {first} and {second} swapped after the lock",
        lock,
        lock.transform(swapped),
        "normalized",
        (Expect("swapped_columns", frozenset({first, second}), (first, second)),),
    )
    stuck = _copy(served)
    stuck[third] = np.full(served[third].size, 0.0)
    yield Scenario(
        f"{data.name}: {third} stuck at 0",
        lock,
        stuck,
        "raw",
        (Expect("stuck_feature", frozenset({third}), ("0.00",)),),
    )
    holes = _copy(served)
    holes[fourth][::3] = np.nan
    yield Scenario(
        f"{data.name}: {fourth} one third missing",
        lock,
        holes,
        "raw",
        (Expect("missing_surge", frozenset({fourth}), ("missing",)),),
    )
    if len(served[third]) < 150:
        return
    shifted = _copy(served)
    shifted[third] = shifted[third] + np.std(data.train[third])
    yield Scenario(
        f"{data.name}: {third} drifted",
        lock,
        shifted,
        "raw",
        (Expect("drift", frozenset({third}), ("shift",)),),
    )
    several = _copy(served)
    several[third] = several[third] * 1000.0
    several[first], several[second] = served[second].copy(), served[first].copy()
    several[fourth][::3] = np.nan
    yield Scenario(
        f"{data.name}: several at once",
        lock,
        several,
        "raw",
        (
            Expect("unit_change", frozenset({third}), ("×1000",)),
            Expect("swapped_columns", frozenset({first, second}), (first, second)),
            Expect("missing_surge", frozenset({fourth}), ("missing",)),
        ),
    )


def _model_inputs(data: Data, lock: Lock) -> Iterator[Scenario]:
    """Mismatches only visible on model inputs: other parameters, method, a skipped step."""
    served = data.served
    standard = [f for f in lock.features if [s.method for s in f.steps] == ["standard"]]
    target = standard[0]
    mean, std = target.steps[0].params["mean"], target.steps[0].params["std"]
    batch = lock.transform(served)
    batch[target.name] = (served[target.name] - 1.1 * mean) / (1.5 * std)
    yield Scenario(
        f"{data.name}: {target.name} scaled with other parameters",
        lock,
        batch,
        "normalized",
        (Expect("wrong_parameters", frozenset({target.name}), ("implied mean",)),),
    )
    low, high = target.reference["min"], target.reference["max"]
    batch = lock.transform(served)
    batch[target.name] = (served[target.name] - low) / (high - low)
    yield Scenario(
        f"{data.name}: {target.name} min-max scaled",
        lock,
        batch,
        "normalized",
        (Expect("wrong_method", frozenset({target.name}), ("min-max",)),),
    )


def _synthetic_only(data: Data, lock: Lock) -> Iterator[Scenario]:
    served = data.served
    conversions = [
        ("temperature_c", lambda x: x * 1.8 + 32, "offset_change", "°F"),
        ("temperature_c", lambda x: x + 273.15, "offset_change", "kelvin"),
        ("height_cm", lambda x: x / 2.54, "unit_change", "inches"),
        ("weight_kg", lambda x: x / 0.45359237, "unit_change", "pounds"),
        ("distance_km", lambda x: x / 1.609344, "unit_change", "miles"),
        ("speed_ms", lambda x: x * 3.6, "unit_change", "km/h"),
        ("duration_min", lambda x: x * 60, "unit_change", "seconds"),
        ("brightness", lambda x: x * 255, "unit_change", "0-255"),
        ("height_cm", lambda x: x / 100, "unit_change", "×0.01"),
    ]
    for feature, convert, kind, word in conversions:
        batch = _copy(served)
        batch[feature] = convert(batch[feature])
        yield Scenario(
            f"synthetic: {feature} {word}",
            lock,
            batch,
            "raw",
            (Expect(kind, frozenset({feature}), (word,)),),
        )
        yield Scenario(
            f"synthetic: {feature} {word} before the lock",
            lock,
            lock.transform(batch),
            "normalized",
            (Expect(kind, frozenset({feature}), (word,)),),
        )
    income = lock.feature("income")
    mean, std = income.steps[1].params["mean"], income.steps[1].params["std"]
    batch = lock.transform(served)
    batch["income"] = (served["income"] - mean) / std
    yield Scenario(
        "synthetic: income log1p forgotten",
        lock,
        batch,
        "normalized",
        (Expect("missing_step", frozenset({"income"}), ("log1p",)),),
    )
    everything_minmax = {}
    for feature in lock.features:
        low, high = feature.reference["min"], feature.reference["max"]
        everything_minmax[feature.name] = (served[feature.name] - low) / (high - low)
    standardized = frozenset(
        f.name for f in lock.features if [s.method for s in f.steps] == ["standard"]
    )
    yield Scenario(
        "synthetic: min-max everywhere",
        lock,
        everything_minmax,
        "normalized",
        (Expect("wrong_method", standardized, ("min-max",), frozenset({"income"})),),
        tolerated=frozenset({"missing_step", "drift"}),
    )


def _min_max(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Min-max over the served batch itself, to [low, high]."""
    return low + (high - low) * (values - values.min()) / (values.max() - values.min())


def _within(values: np.ndarray, low: float, high: float) -> bool:
    """Whether every value lies in [low, high], give or take 5% of its width."""
    slack = 0.05 * (high - low)
    return bool(values.min() >= low - slack and values.max() <= high + slack)


def _through_lock(lock: Lock, batch: Columns) -> Columns:
    """``batch`` through the lock, feature by feature: a feature whose chain rejects its
    values (a log step on negative values) is left as it came, as a pipeline that skips it."""
    return _normalize_again(lock, batch)


def _conventions(data: Data, lock: Lock) -> Iterator[Scenario]:
    """Served values already normalized by another convention before the lock."""
    served = data.served
    names = list(served)
    all_names = frozenset(names)
    l2 = {n: v / np.linalg.norm(v) for n, v in served.items()}
    yield Scenario(
        f"{data.name}: unit L2 norm over the served batch",
        lock,
        l2,
        "raw",
        (Expect("double_normalization", _visible(served, l2), ("unit L2 norm",), all_names),),
    )
    affine = frozenset(
        f.name
        for f in lock.features
        if all(s.method in ("standard", "minmax", "maxabs", "robust") for s in f.steps)
    )
    yield Scenario(
        f"{data.name}: unit L2 norm before the lock",
        lock,
        _through_lock(lock, l2),
        "normalized",
        (Expect("double_normalization", _visible(served, l2) & affine, ("unit L2 norm",), affine),),
        tolerated=frozenset({"drift"}) if affine != all_names else frozenset(),
    )
    # a training column within [-1, 1] with negative values could be served raw there
    signed = frozenset(
        n for n in names if _within(data.train[n], -1, 1) and data.train[n].min() < -0.1
    )
    symmetric = {n: _min_max(v, -1.0, 1.0) for n, v in served.items()}
    yield Scenario(
        f"{data.name}: min-max to [-1, 1] over the served batch",
        lock,
        symmetric,
        "raw",
        (
            Expect(
                "double_normalization",
                _visible(served, symmetric) - signed,
                ("[-1, 1]",),
                all_names - signed,
            ),
        ),
    )
    bounded = frozenset(n for n in names if _within(data.train[n], 0, 1))
    unit = {n: v if n in bounded else _min_max(v, 0.0, 1.0) for n, v in served.items()}
    scaled = all_names - bounded
    yield Scenario(
        f"{data.name}: min-max to [0, 1] where a column is not in [0, 1] already",
        lock,
        unit,
        "raw",
        (Expect("double_normalization", _visible(served, unit), ("[0, 1]",), scaled),),
    )
    train = np.column_stack([data.train[n] for n in names])
    other = (train - train.mean(0)) * 1.15 + train.mean(0) + 0.3 * train.std(0)
    standardized = StandardScaler().fit(other).transform(np.column_stack(list(served.values())))
    elsewhere = {n: standardized[:, i] for i, n in enumerate(names)}
    rows = len(served[names[0]])
    words = ("already", "StandardScaler fitted on other data") if rows >= 150 else ("already",)
    yield Scenario(
        f"{data.name}: a StandardScaler fitted on other data",
        lock,
        elsewhere,
        "raw",
        (Expect("double_normalization", _visible(served, elsewhere), words, all_names),),
    )


def _drift_that_stays_drift(data: Data, lock: Lock) -> Iterator[Scenario]:
    """Every feature moved by one training SD and spread ×1.2, in its own units."""
    served = data.served
    moved = {n: (v - v.mean()) * 1.2 + v.mean() + np.std(data.train[n]) for n, v in served.items()}
    yield Scenario(
        f"{data.name}: every feature drifted in its own units",
        lock,
        moved,
        "raw",
        (Expect("drift", _visible(served, moved), ("population changed",), frozenset(served)),),
    )


def normalized_training() -> Iterator[Scenario]:
    """Training data already normalized (columns of unit L2 norm over the full dataset, in
    [-1, 1]; proportions in [0, 1]) that drifts: drift, not "already normalized"."""
    diabetes = datasets.load_diabetes(scaled=True)
    data = _split("scaled diabetes", diabetes.data, list(diabetes.feature_names), 6)
    lock = data.lock()
    moved = {n: v * 1.5 + np.std(data.train[n]) for n, v in data.served.items()}
    yield Scenario(
        "scaled diabetes: ok",
        lock,
        data.served,
        "raw",
        (),
    )
    yield Scenario(
        "scaled diabetes: every feature drifted",
        lock,
        moved,
        "raw",
        (
            Expect(
                "drift",
                _visible(data.served, moved),
                ("population changed",),
                frozenset(moved),
            ),
        ),
    )
    rng = np.random.default_rng(7)
    train = {f"share_{i}": rng.beta(2, 5 + i, 3000) for i in range(6)}
    served = {f"share_{i}": rng.beta(3, 4 + i, 800) for i in range(6)}
    yield Scenario(
        "proportions: drift within [0, 1]",
        nl.fit(train),
        served,
        "raw",
        (Expect("drift", _visible(train, served), ("population changed",), frozenset(served)),),
    )
    unit = {n: _min_max(v, 0.0, 1.0) for n, v in served.items()}
    yield Scenario(
        "proportions: min-max to [0, 1], already in [0, 1] in training",
        nl.fit(train),
        unit,
        "raw",
        (Expect("drift", _visible(train, unit), ("population changed",), frozenset(unit)),),
    )


def _selection_drift(data: Data, lock: Lock) -> Iterator[Scenario]:
    cancer = datasets.load_breast_cancer()
    columns = [n.replace(" ", "_") for n in cancer.feature_names]
    malignant = cancer.data[cancer.target == 0]
    served = {c: malignant[:, i].astype(float) for i, c in enumerate(columns)}
    yield Scenario(
        "breast_cancer: only malignant cases served",
        lock,
        served,
        "raw",
        (),
        tolerated=frozenset({"drift"}),
    )


def scenarios() -> list[Scenario]:
    """Every scenario of the suite."""
    found: list[Scenario] = []
    for data in [*bundled(), synthetic()]:
        lock = data.lock()
        found.extend(_everyday(data, lock))
        if len(next(iter(data.served.values()))) >= 150:
            found.extend(_model_inputs(data, lock))
        if data.name == "synthetic":
            found.extend(_synthetic_only(data, lock))
        if data.name == "breast_cancer":
            found.extend(_selection_drift(data, lock))
        found.extend(_conventions(data, lock))
        found.extend(_drift_that_stays_drift(data, lock))
    found.extend(normalized_training())
    return found
