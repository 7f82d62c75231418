"""Reading and checking what the engine is given: values, weights, kinds, quarters of the year and bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: What a headline is, for the engine: the quarter's own value, a rolling 12-month or year-to-date total of
#: the quarters' own values, or a stock at quarter end.
KINDS = ("flow", "rolling_12m", "fytd", "snapshot")
METHODS = ("auto", "linear", "linear_seasonal", "damped_holt", "ar1", "flat")


def as_values(values) -> np.ndarray:
    """One series as floats; text, None and infinities are missing (NaN)."""
    if isinstance(values, pd.Series):
        a = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    else:
        a = np.asarray(values)
        if a.dtype == object or a.dtype.kind in "US":
            s = pd.to_numeric(pd.Series(a.ravel(), dtype=object), errors="coerce")
            a = s.to_numpy(dtype=float, na_value=np.nan)
        a = a.astype(float).ravel()
    return np.where(np.isfinite(a), a, np.nan)


def as_matrix(values, name: str = "quarterly") -> np.ndarray:
    """A panel (series x quarters) as floats; text, None and infinities are missing (NaN)."""
    if isinstance(values, pd.DataFrame):
        values = values.to_numpy()
    a = np.asarray(values)
    if a.dtype == object or a.dtype.kind in "US":
        s = pd.to_numeric(pd.Series(a.ravel(), dtype=object), errors="coerce")
        a = s.to_numpy(dtype=float, na_value=np.nan).reshape(a.shape)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (series x quarters), not {a.ndim}-D")
    a = np.array(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def bound_array(bound, n_series: int, name: str) -> np.ndarray:
    """A bound per series, NaN for none."""
    if bound is None:
        return np.full(n_series, np.nan)
    b = np.asarray(bound, dtype=float)
    if b.ndim == 0:
        return np.full(n_series, float(b))
    if b.shape != (n_series,):
        raise ValueError(f"{name} must be a number or one number per series ({n_series}), not shape {b.shape}")
    return b.copy()


def kind_array(kind, n_series: int) -> np.ndarray:
    """The kind of every series (one name for all, or one per series)."""
    k = np.asarray(kind, dtype=object)
    if k.ndim == 0:
        k = np.full(n_series, k.item(), dtype=object)
    if k.shape != (n_series,):
        raise ValueError(f"kind must be one name or one per series ({n_series}), not shape {k.shape}")
    bad = sorted({str(v) for v in k if v not in KINDS})
    if bad:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {', '.join(repr(b) for b in bad)}")
    return k


def weights_matrix(weights, shape: tuple[int, int]) -> np.ndarray | None:
    if weights is None:
        return None
    w = as_matrix(weights, "weights")
    if w.shape != shape:
        raise ValueError(f"weights must have the shape of the quarterly values {shape}, not {w.shape}")
    return np.where(w > 0, w, np.nan)


def year_quarters(year_quarter, n_periods: int, horizon: int) -> np.ndarray | None:
    """The financial quarter (1..4) of every column and of the forecast steps after them, or None."""
    if year_quarter is None:
        return None
    yq = np.asarray(year_quarter)
    if yq.shape != (n_periods,):
        raise ValueError(f"year_quarter must have one quarter per column ({n_periods}), not shape {yq.shape}")
    yq = yq.astype(int)
    if n_periods and (yq.min() < 1 or yq.max() > 4 or np.any(np.diff(yq) % 4 != 1)):
        raise ValueError("year_quarter must give the financial quarter (1 to 4) of consecutive quarters")
    first = int(yq[0]) if n_periods else 1
    return (first - 1 + np.arange(n_periods + horizon)) % 4 + 1


def check_arguments(horizon: int, method: str, season_length: int) -> None:
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, not {horizon}")
    if method not in METHODS:
        raise ValueError(f"method must be {', '.join(repr(m) for m in METHODS[:-1])} or 'flat', not {method!r}")
    if season_length < 2:
        raise ValueError(f"season_length must be at least 2, not {season_length}")
