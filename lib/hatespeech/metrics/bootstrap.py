"""Seeded cluster (grouped) percentile bootstrap intervals for any metric, and paired system comparisons.

Why a bootstrap: a single test-set number hides how much it would move on another sample of the same kind of
data; the percentile interval of the metric over resampled test sets says how far to trust a difference.

Why *cluster* resampling: rows are often not independent. The prefixes of one sentence (anticipation), or the
comments of one thread, share most of their content, so resampling rows one by one pretends there is far more
independent evidence than there is and gives intervals that are too narrow. Here the resampled unit is a group
of rows (``groups``: one unit id per row); a drawn unit brings all of its rows along.

Hand-written (numpy only) because ``scipy.stats.bootstrap`` resamples observations independently and cannot
resample clusters (groups) of rows together; it also cannot share one set of resamples across several
systems, which is what makes :func:`paired_bootstrap` and :func:`multi_bootstrap` paired and consistent.

Everything is seeded (``np.random.default_rng(seed)``): the same seed, data and groups give the same interval.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np


def _json_float(value: float) -> float | None:
    """JSON has no NaN: write it as null so reports stay valid JSON."""
    value = float(value)
    return None if math.isnan(value) else value


def _from_json_float(value) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class Interval:
    """A metric on the full data with its bootstrap percentile interval, and how that interval was made."""

    estimate: float
    low: float
    high: float
    level: float = 0.95
    n_units: int = 0
    n_resamples: int = 0
    unit: str = "sentence"

    def to_json(self) -> dict:
        return {
            "estimate": _json_float(self.estimate),
            "low": _json_float(self.low),
            "high": _json_float(self.high),
            "level": float(self.level),
            "n_units": int(self.n_units),
            "n_resamples": int(self.n_resamples),
            "unit": str(self.unit),
        }

    @classmethod
    def from_json(cls, d: dict) -> Interval:
        return cls(
            estimate=_from_json_float(d["estimate"]),
            low=_from_json_float(d["low"]),
            high=_from_json_float(d["high"]),
            level=float(d.get("level", 0.95)),
            n_units=int(d.get("n_units", 0)),
            n_resamples=int(d.get("n_resamples", 0)),
            unit=str(d.get("unit", "sentence")),
        )

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the closed interval (False when the bounds are NaN)."""
        return bool(self.low <= value <= self.high)

    def fmt(self, digits: int = 3) -> str:
        """``"0.561 [0.520, 0.602]"`` - the form the reports print."""
        return bounds_text(self.estimate, self.low, self.high, digits)


def bounds_text(estimate: float, low: float, high: float, digits: int = 3) -> str:
    """``"0.561 [0.520, 0.602]"``: an estimate and its interval, the one form every report table prints."""
    return f"{estimate:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def interval_text(interval: Interval | None, digits: int = 3) -> str:
    """An :class:`Interval` as the reports print it (:meth:`Interval.fmt`); "–" for none."""
    return interval.fmt(digits) if interval is not None else "–"


@dataclass(frozen=True)
class PairedDifference:
    """Two systems scored on the same resamples, with the interval of ``metric(A) - metric(B)``.

    Pairing matters: both systems see the same hard and easy units in every resample, so the difference
    interval is much narrower than what two separate intervals suggest when they overlap.
    """

    a: Interval
    b: Interval
    difference: Interval
    higher_is_better: bool
    name_a: str
    name_b: str

    def verdict(self) -> str:
        """Which system is better, only when the difference interval excludes 0."""
        a_higher = self.difference.low > 0
        b_higher = self.difference.high < 0
        if not (a_higher or b_higher):
            return "no clear difference"
        a_better = a_higher if self.higher_is_better else b_higher
        winner, loser = (self.name_a, self.name_b) if a_better else (self.name_b, self.name_a)
        return f"{winner} better than {loser}"

    def to_json(self) -> dict:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "difference": self.difference.to_json(),
            "higher_is_better": bool(self.higher_is_better),
            "name_a": str(self.name_a),
            "name_b": str(self.name_b),
            "verdict": self.verdict(),
        }

    @classmethod
    def from_json(cls, d: dict) -> PairedDifference:
        # "verdict" is derived from the rest, so it is recomputed rather than read back.
        return cls(
            a=Interval.from_json(d["a"]),
            b=Interval.from_json(d["b"]),
            difference=Interval.from_json(d["difference"]),
            higher_is_better=bool(d["higher_is_better"]),
            name_a=str(d["name_a"]),
            name_b=str(d["name_b"]),
        )


def _unit_ids(groups) -> list:
    """Unit ids as a list of hashables; not via ``np.asarray``, which turns tuple ids into a 2-d array."""
    if isinstance(groups, np.ndarray):
        if groups.ndim != 1:
            raise ValueError(f"groups must be 1-d (one unit id per row), got shape {groups.shape}")
        return groups.tolist()
    return list(groups)


def unit_index(groups) -> list[np.ndarray]:
    """Row indices of each unit, units in order of first appearance (so the result does not depend on sorting
    the ids, which fails for mixed types)."""
    ids = _unit_ids(groups)
    codes_of: dict = {}
    codes = np.fromiter((codes_of.setdefault(g, len(codes_of)) for g in ids), dtype=np.int64, count=len(ids))
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(codes_of))
    return np.split(order, np.cumsum(counts)[:-1]) if len(codes_of) else []


def resample_rows(units: list[np.ndarray], n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield ``n_resamples`` row-index arrays, each made of ``len(units)`` units drawn with replacement.

    A unit drawn k times contributes its rows k times. The rows are gathered with one vectorised repeat per
    resample instead of concatenating per-unit arrays, so small units (one row each) stay cheap.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    n_units = len(units)
    if n_units == 0:
        raise ValueError("cannot resample: there are no units")
    flat = np.concatenate([np.asarray(u, dtype=np.int64).ravel() for u in units])
    lengths = np.array([np.size(u) for u in units], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    singletons = bool((lengths == 1).all())
    rng = np.random.default_rng(seed)
    for _ in range(n_resamples):
        picks = rng.integers(0, n_units, size=n_units)
        if singletons:
            yield flat[picks]
            continue
        picked_lengths = lengths[picks]
        # Position p of the output belongs to the j-th picked unit; its source is start_j + (p - out_start_j).
        out_starts = np.cumsum(picked_lengths) - picked_lengths
        offsets = np.repeat(starts[picks] - out_starts, picked_lengths)
        yield flat[offsets + np.arange(int(picked_lengths.sum()))]


def _prepare(arrays: Sequence, groups) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Check the inputs once and turn them into arrays plus the unit index."""
    if not arrays:
        raise ValueError("no arrays given: pass the data the metric takes")
    arrays = [np.asarray(a) for a in arrays]
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("every argument must be an array with one entry per row, got a scalar")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"arrays must have the same number of rows, got lengths {lengths}")
    n = lengths[0]
    if n == 0:
        raise ValueError("cannot bootstrap empty arrays (0 rows)")
    if groups is None:
        units = list(np.arange(n, dtype=np.int64).reshape(n, 1))
    else:
        ids = _unit_ids(groups)
        if len(ids) != n:
            raise ValueError(f"groups must hold one unit id per row: got {len(ids)} ids for {n} rows")
        units = unit_index(ids)
    return arrays, units


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")


def interval_of(
    estimate: float, values: np.ndarray, level: float, n_units: int, n_resamples: int, unit: str
) -> Interval:
    """Percentile interval; resamples where the metric is undefined (NaN) are left out."""
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).all():
        low = high = math.nan
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(values, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return Interval(
        estimate=float(estimate),
        low=float(low),
        high=float(high),
        level=float(level),
        n_units=n_units,
        n_resamples=n_resamples,
        unit=unit,
    )


def _replicates(
    metric: Callable,
    y_true: np.ndarray,
    preds: list[np.ndarray],
    units: list[np.ndarray],
    n_resamples: int,
    seed: int,
) -> np.ndarray:
    """Metric of every system on every resample, shape (n_resamples, n_systems): one pass, shared indices."""
    values = np.empty((n_resamples, len(preds)), dtype=np.float64)
    for r, idx in enumerate(resample_rows(units, n_resamples, seed)):
        truth = y_true[idx]
        for s, pred in enumerate(preds):
            values[r, s] = metric(truth, pred[idx])
    return values


def bootstrap_interval(
    metric: Callable[..., float],
    *arrays,
    groups=None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    unit: str = "sentence",
) -> Interval:
    """Percentile bootstrap interval of ``metric(*arrays)``, resampling units (``groups``) or single rows.

    ``metric`` gets the arrays indexed by the same resampled rows, e.g. ``metric(y_true[idx], y_pred[idx])``.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    _check_level(level)
    arrays, units = _prepare(arrays, groups)
    estimate = metric(*arrays)
    resampled = (metric(*[a[idx] for a in arrays]) for idx in resample_rows(units, n_resamples, seed))
    values = np.fromiter(resampled, dtype=np.float64, count=n_resamples)
    return interval_of(estimate, values, level, len(units), n_resamples, unit)


def multi_bootstrap(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true,
    preds: dict[str, np.ndarray],
    groups=None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    unit: str = "sentence",
) -> dict[str, Interval]:
    """One interval per system, all on the same resamples (same seed = same resamples as
    :func:`paired_bootstrap`), so intervals and later paired differences come from one consistent draw."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    _check_level(level)
    if not preds:
        raise ValueError("preds is empty: pass at least one system")
    names = list(preds)
    arrays, units = _prepare([y_true, *(preds[name] for name in names)], groups)
    truth, systems = arrays[0], arrays[1:]
    values = _replicates(metric, truth, systems, units, n_resamples, seed)
    return {
        name: interval_of(metric(truth, pred), values[:, s], level, len(units), n_resamples, unit)
        for s, (name, pred) in enumerate(zip(names, systems))
    }


def paired_bootstrap(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true,
    pred_a,
    pred_b,
    groups=None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    unit: str = "sentence",
    higher_is_better: bool = True,
    name_a: str = "A",
    name_b: str = "B",
) -> PairedDifference:
    """Compare two systems on the SAME resampled rows: A, B and ``metric(A) - metric(B)`` per resample.

    ``higher_is_better`` says which sign of the difference favours A (False for losses such as MSE).
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    _check_level(level)
    (truth, a, b), units = _prepare([y_true, pred_a, pred_b], groups)
    values = _replicates(metric, truth, [a, b], units, n_resamples, seed)
    est_a, est_b = float(metric(truth, a)), float(metric(truth, b))
    n_units = len(units)
    return PairedDifference(
        a=interval_of(est_a, values[:, 0], level, n_units, n_resamples, unit),
        b=interval_of(est_b, values[:, 1], level, n_units, n_resamples, unit),
        difference=interval_of(est_a - est_b, values[:, 0] - values[:, 1], level, n_units, n_resamples, unit),
        higher_is_better=higher_is_better,
        name_a=name_a,
        name_b=name_b,
    )
