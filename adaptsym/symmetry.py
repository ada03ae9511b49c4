"""Statistics of symmetry about zero: of weights, circuits and gradient entries (Li §II.4-II.5, Figs. 3-4).

Li's circuit symmetry (eq. 14) is mu(psi) ~ mu(-psi): a law symmetric about zero.  For a sample x this module
measures how far the empirical law is from symmetric — the mean over the standard deviation, the skewness, and the
Kolmogorov-Smirnov distance between the laws of x and -x — with bootstrap standard errors, and tests symmetry with
random sign flips: x_i -> s_i |x_i| with s_i = +-1 uniform is a sample of a symmetric law with the same |x|, so the
reflection KS of such flipped samples is the null level that a finite symmetric sample shows (O(1/sqrt(n)), not 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.ndimage
import scipy.stats
import torch

STATISTICS = ("mean_over_std", "skewness", "reflection_ks")


def _as_array(x: Any) -> np.ndarray:
    """A flat float64 numpy array from a tensor or array; NaN or an empty sample raises ValueError."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0 or np.isnan(x).any():
        raise ValueError(f"need a non-empty sample without NaN; got {x.size} values, {np.isnan(x).sum()} NaN")
    return x


def reflection_ks(x: Any) -> float:
    """The Kolmogorov-Smirnov distance between the empirical laws of ``x`` and ``-x`` (0 for a symmetric sample)."""
    x = _as_array(x)
    return float(scipy.stats.ks_2samp(x, -x).statistic)


def _statistics(x: np.ndarray) -> dict[str, float]:
    std = x.std()
    return {"mean": float(x.mean()), "std": float(std),
            "mean_over_std": float(x.mean() / std) if std > 0 else float("nan"),
            "skewness": float(scipy.stats.skew(x)) if std > 0 else float("nan"),
            "reflection_ks": reflection_ks(x)}


def symmetry_stats(x: Any, n_boot: int = 200, seed: int = 0, max_samples: int = 200_000) -> dict[str, float]:
    """Symmetry statistics of a sample with bootstrap standard errors and a sign-flip test of symmetry.

    Keys: ``n`` (values used), ``n_total``, ``mean``, ``std``, ``mean_over_std``, ``skewness``, ``reflection_ks``;
    ``<key>_se`` for each (standard deviation over ``n_boot`` resamples with replacement); ``reflection_ks_null``,
    the mean reflection KS of ``n_boot`` sign-flipped copies (its level under exact symmetry); and
    ``reflection_p``, the share of sign-flipped copies (counting the sample itself) whose reflection KS reaches
    the observed one: the p-value of the symmetric null.  Samples beyond ``max_samples`` values are subsampled
    without replacement (seeded) first.
    """
    x = _as_array(x)
    rng = np.random.default_rng(seed)
    n_total = x.size
    if x.size > max_samples:
        x = rng.choice(x, max_samples, replace=False)
    stats = _statistics(x)
    boots = [_statistics(rng.choice(x, x.size)) for _ in range(n_boot)]
    for key in list(stats):
        stats[f"{key}_se"] = float(np.std([b[key] for b in boots], ddof=1))
    nulls = np.array([reflection_ks(np.abs(x) * rng.choice((-1.0, 1.0), x.size)) for _ in range(n_boot)])
    stats["reflection_ks_null"] = float(nulls.mean())
    stats["reflection_p"] = float((1 + (nulls >= stats["reflection_ks"]).sum()) / (1 + n_boot))
    return {"n": x.size, "n_total": n_total, **stats}


def sign_change_fraction(w0: Any, wt: Any) -> float:
    """The share of entries whose sign differs between two arrays of the same shape."""
    w0, wt = _as_array(w0), _as_array(wt)
    if w0.shape != wt.shape:
        raise ValueError(f"arrays of different sizes: {w0.size} and {wt.size}")
    return float((np.sign(w0) != np.sign(wt)).mean())


def gate_correlations(gates: Any, seed: int = 0) -> dict[str, Any]:
    """Pairwise Pearson correlations of ReLU gate states across inputs, against a shuffled baseline.

    ``gates`` is (inputs, units) of 0/1.  Units always on or always off have no correlation and are left out
    (counted in ``n_constant``).  The baseline permutes each unit's column independently: same firing rates,
    no correlation, so its |r| is the sampling noise of the number of inputs.  Returns the arrays ``r`` and
    ``r_shuffled`` (pairs i < j) and ``mean_abs``, ``rms`` of each, ``n_units``, ``n_constant`` and
    ``firing_rate_mean`` (over all units).
    """
    if isinstance(gates, torch.Tensor):
        gates = gates.detach().cpu().numpy()
    gates = np.asarray(gates, dtype=np.float64)
    if gates.ndim != 2 or gates.shape[0] < 2:
        raise ValueError(f"gates must be (inputs >= 2, units); got shape {gates.shape}")
    varying = gates.std(axis=0) > 0
    kept = gates[:, varying]
    rng = np.random.default_rng(seed)
    shuffled = np.column_stack([rng.permutation(column) for column in kept.T]) if kept.size else kept
    upper = np.triu_indices(kept.shape[1], 1)
    r = np.corrcoef(kept, rowvar=False)[upper] if kept.shape[1] > 1 else np.empty(0)
    r_shuffled = np.corrcoef(shuffled, rowvar=False)[upper] if kept.shape[1] > 1 else np.empty(0)
    return {"r": r, "r_shuffled": r_shuffled,
            "mean_abs": float(np.abs(r).mean()), "mean_abs_shuffled": float(np.abs(r_shuffled).mean()),
            "rms": float(np.sqrt((r ** 2).mean())), "rms_shuffled": float(np.sqrt((r_shuffled ** 2).mean())),
            "n_units": gates.shape[1], "n_constant": int((~varying).sum()), "firing_rate_mean": float(gates.mean())}


def smoothed_density(x: Any, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """Li Fig. 3a's "smoothed histograms ... with a Gaussian kernel": the histogram of ``x`` on bins centred on the
    uniform ``grid``, smoothed by a Gaussian of standard deviation ``bandwidth``, as a density that integrates to
    1 on the grid.  Values outside the grid are dropped (the density is that of the part of the law in view)."""
    x, grid = _as_array(x), np.asarray(grid, dtype=np.float64)
    step = grid[1] - grid[0]
    counts, _ = np.histogram(x, np.append(grid - step / 2, grid[-1] + step / 2))
    smooth = scipy.ndimage.gaussian_filter1d(counts.astype(np.float64), bandwidth / step, mode="constant")
    return smooth / (smooth.sum() * step)
