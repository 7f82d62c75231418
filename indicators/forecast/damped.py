"""Step 1b: the damped additive trend, ETS(A,Ad,N) (Holt's method with damping), for many series at once.

Error-correction form (Hyndman et al. 2008, table 2.1):

    yhat_t = l_{t-1} + phi b_{t-1};   e_t = y_t - yhat_t
    l_t = yhat_t + alpha e_t;         b_t = phi b_{t-1} + beta e_t,     0 < beta < alpha < 1, phi in [0.8, 0.98].

For fixed (alpha, beta, phi) the one-step errors are linear in the initial state (l_0, b_0), so the best
initial state is a least-squares problem: the filter is run in three channels (the data from a zero state,
and the responses to l_0 = 1 and to b_0 = 1) and the state is "concentrated" out, leaving a search over the
three smoothing parameters only. A missing quarter has no error: its states are carried forward by the
forecast. The search is a coarse grid of 200 triples and three rounds of a finer 5 x 5 x 5 grid centred on
each series' best triple, each round 2.5 times narrower (a derivative-free pattern search; a gradient
optimiser was slower per series and less predictable in run time).

The h-step forecast from the last reported quarter is l_n + (phi + ... + phi^h) b_n; its error is
e_{n+h} = sum_{i=1..h} psi_{h-i} eps_{n+i} with psi_0 = 1 and psi_j = alpha + beta (phi + ... + phi^j), so
errors h and k steps ahead have covariance sigma^2 sum_{i=1..min(h,k)} psi_{h-i} psi_{k-i} (Hyndman et al.
2008, ch. 6, class 1 models; the variance is the diagonal). sigma^2 = SSE / (n - 5): all five estimated
quantities (alpha, beta, phi, l_0, b_0) are charged to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PHI_BOUNDS = (0.8, 0.98)  #: range allowed for the damping parameter phi

_ALPHA_GRID = np.array([0.02, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95])
_BSTAR_GRID = np.array([0.02, 0.1, 0.3, 0.6, 0.95])  # beta = alpha * beta_star keeps beta < alpha
_PHI_GRID = np.linspace(PHI_BOUNDS[0], PHI_BOUNDS[1], 5)
_A, _B, _P = np.meshgrid(_ALPHA_GRID, _BSTAR_GRID, _PHI_GRID, indexing="ij")
_COARSE = (_A.ravel(), _B.ravel(), _P.ravel())  # alpha, beta_star, phi
_WORK = 1 << 14  #: elements per work array (rows x triples), so that they stay in the processor's cache


@dataclass
class DampedFit:
    """Damped-trend fits of m series (arrays of length m; ``fitted`` is m x span)."""

    alpha: np.ndarray
    beta: np.ndarray
    phi: np.ndarray
    level0: np.ndarray
    trend0: np.ndarray
    sse: np.ndarray
    n: np.ndarray  #: reported quarters
    fitted: np.ndarray  #: one-step predictions over each span (from its first reported quarter)
    level: np.ndarray  #: state after the last reported quarter
    trend: np.ndarray

    @property
    def sigma(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.n > 5, np.sqrt(self.sse / (self.n - 5)), np.nan)


def _sums(ys: np.ndarray, obs: np.ndarray, key: np.ndarray, alpha, beta, phi):
    """The six sums of products of the three channels' one-step errors, for m spans and g triples each.

    ``ys`` (m x L) are spans from each series' first reported quarter (0.0 where missing or after the span),
    ``obs`` (m x L) which are reported; ``alpha``, ``beta``, ``phi`` are (g,) for every row or (m, g).
    Rows with the same ``key`` share their pattern of reported quarters and their triples, so the channels
    answering a unit initial level and trend (which do not depend on the data) are run once per key.
    Returns (s00, s11, s12, s22, r1, r2), each (m, g): channel 0 x 0, 1 x 1, 1 x 2, 2 x 2, 1 x 0, 2 x 0.
    """
    m, span = ys.shape
    g = alpha.shape[-1]
    per_row = alpha.ndim == 2
    out = np.empty((6, m, g))
    order = np.argsort(key, kind="stable")
    step = max(1, _WORK // g)
    for c in range(0, m, step):
        rows = order[c : c + step]
        _, first, inv = np.unique(key[rows], return_index=True, return_inverse=True)
        inv = inv.ravel()
        rep = rows[first]  # one row per key
        shared = rep.size < rows.size
        a, b, p = (v[rows] for v in (alpha, beta, phi)) if per_row else (alpha, beta, phi)
        ak, bk, pk = (v[rep] for v in (alpha, beta, phi)) if per_row else (alpha, beta, phi)
        y = ys[rows]
        ob = obs[rows].astype(float)
        obk = obs[rep].astype(float)
        every = obs[rows].all(axis=0)
        r, k = rows.size, rep.size
        lev, tr = np.zeros((r, g)), np.zeros((r, g))
        ulev, utr = np.zeros((2, k, g)), np.zeros((2, k, g))
        ulev[0] = 1.0
        utr[1] = 1.0
        s00, r1, r2 = np.zeros((r, g)), np.zeros((r, g)), np.zeros((r, g))
        s11, s12, s22 = np.zeros((k, g)), np.zeros((k, g)), np.zeros((k, g))
        d, h, e, tmp = (np.empty((r, g)) for _ in range(4))
        ud, uh, ue = (np.empty((2, k, g)) for _ in range(3))
        for t in range(span):
            # the unit channels, once per key
            np.multiply(pk, utr, out=ud)
            np.add(ulev, ud, out=uh)
            np.negative(uh, out=ue)
            if not every[t]:
                ue *= obk[:, t : t + 1]
            np.multiply(ak, ue, out=ulev)
            ulev += uh
            np.multiply(bk, ue, out=utr)
            utr += ud
            s11 += ue[0] * ue[0]
            s12 += ue[0] * ue[1]
            s22 += ue[1] * ue[1]
            # the data channel, row by row
            np.multiply(p, tr, out=d)
            np.add(lev, d, out=h)
            np.subtract(y[:, t : t + 1], h, out=e)
            if not every[t]:
                e *= ob[:, t : t + 1]
            np.multiply(a, e, out=lev)
            lev += h
            np.multiply(b, e, out=tr)
            tr += d
            np.multiply(e, e, out=tmp)
            s00 += tmp
            e1, e2 = (ue[0][inv], ue[1][inv]) if shared else (ue[0], ue[1])
            np.multiply(e1, e, out=tmp)
            r1 += tmp
            np.multiply(e2, e, out=tmp)
            r2 += tmp
        for j, v in enumerate((s00, s11[inv], s12[inv], s22[inv], r1, r2)):
            out[j, rows] = v
    return tuple(out)


def _concentrate(sums):
    """The SSE at the best initial state, and that state (l_0, b_0), from the six sums."""
    s00, s11, s12, s22, r1, r2 = sums
    ridge = 1e-12 * (s11 + s22) + 1e-300
    a11 = s11 + ridge
    a22 = s22 + ridge
    det = a11 * a22 - s12 * s12
    c1 = -(a22 * r1 - s12 * r2) / det
    c2 = -(a11 * r2 - s12 * r1) / det
    return np.maximum(s00 + r1 * c1 + r2 * c2, 0.0), c1, c2


def fit_damped(ys: np.ndarray, obs: np.ndarray, pattern: np.ndarray) -> DampedFit:
    """Fit the damped trend to m spans (``ys``, ``obs`` as in :func:`_sums`) by least squares.

    ``pattern`` numbers the rows' patterns of reported quarters (rows with one number share it).
    """
    m, span = ys.shape
    every = np.arange(m)
    a_grid, b_grid, p_grid = _COARSE
    sse = _concentrate(_sums(ys, obs, pattern, a_grid, a_grid * b_grid, p_grid))[0]
    best = np.argmin(sse, axis=1)
    best_sse = sse[every, best]
    a, bstar, p = a_grid[best], b_grid[best], p_grid[best]

    widths = np.array([0.15, 0.2, 0.045])
    offsets = np.linspace(-1.0, 1.0, 5)
    for _ in range(3):
        ga = np.clip(a[:, None] + widths[0] * offsets, 1e-4, 0.9999)
        gb = np.clip(bstar[:, None] + widths[1] * offsets, 1e-4, 0.9999)
        gp = np.clip(p[:, None] + widths[2] * offsets, *PHI_BOUNDS)
        A = np.repeat(ga, 25, axis=1)  # the ravelled "ij" meshgrid: index 25 i + 5 j + k
        B = np.tile(np.repeat(gb, 5, axis=1), (1, 5))
        P = np.tile(gp, (1, 25))
        # rows with the same pattern and the same centre search the same grid
        _, centre = np.unique(np.column_stack([pattern, a, bstar, p]), axis=0, return_inverse=True)
        sse = _concentrate(_sums(ys, obs, centre.ravel(), A, A * B, P))[0]
        j = np.argmin(sse, axis=1)
        better = sse[every, j] < best_sse
        best_sse = np.where(better, sse[every, j], best_sse)
        a = np.where(better, A[every, j], a)
        bstar = np.where(better, B[every, j], bstar)
        p = np.where(better, P[every, j], p)
        widths = widths / 2.5
    beta = a * bstar

    # the best initial state for the chosen triple, then one pass for the fit, the final state and the SSE
    _, level0, trend0 = (v[:, 0] for v in _concentrate(_sums(ys, obs, every, a[:, None], beta[:, None], p[:, None])))
    end = span - 1 - np.argmax(obs[:, ::-1], axis=1)  # each span's last reported quarter
    fitted = np.empty((m, span))
    level, trend, sse_fit = level0.copy(), trend0.copy(), np.zeros(m)
    final_level, final_trend = level0.copy(), trend0.copy()
    for t in range(span):
        damped = p * trend
        yhat = level + damped
        fitted[:, t] = yhat
        e = np.where(obs[:, t], ys[:, t] - yhat, 0.0)
        sse_fit += e * e
        level = yhat + a * e
        trend = damped + beta * e
        done = end == t
        final_level[done] = level[done]
        final_trend[done] = trend[done]
    n = obs.sum(axis=1)
    return DampedFit(a, beta, p, level0, trend0, sse_fit, n, fitted, final_level, final_trend)


def forecast_damped(fit: DampedFit, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts (m, P) and the covariance of their errors (m, P, P), ``h`` (m x P) steps (>= 1) after
    each series' last reported quarter."""
    m, npos = h.shape
    hmax = int(h.max()) if h.size else 1
    phi = fit.phi[:, None]
    j = np.arange(0, hmax + 1)
    phi_sum = phi * (1.0 - phi**j) / (1.0 - phi)  # phi + ... + phi^j (0 for j = 0)
    point = fit.level[:, None] + np.take_along_axis(phi_sum, h, axis=1) * fit.trend[:, None]
    psi = fit.alpha[:, None] + fit.beta[:, None] * phi_sum  # psi_j, j >= 1
    psi[:, 0] = 1.0
    # Psi[a, i - 1] = psi_{h_a - i} for i = 1..h_a: the weight of the i-th innovation after the origin
    lag = h[:, :, None] - np.arange(1, hmax + 1)[None, None, :]
    Psi = np.where(lag >= 0, np.take_along_axis(psi[:, None, :], np.maximum(lag, 0), axis=2), 0.0)
    cov = (fit.sigma**2)[:, None, None] * np.einsum("mai,mbi->mab", Psi, Psi)
    return point, cov
