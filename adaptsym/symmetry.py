"""Statistics of symmetry about zero: of weights, circuits and gradient entries (Li §II.4-II.5, Figs. 3-4).

Li's circuit symmetry (eq. 14) is mu(psi) ~ mu(-psi): a law symmetric about zero.  For a sample x this module
measures how far the empirical law is from symmetric — the mean over the standard deviation, the skewness, and the
Kolmogorov-Smirnov distance between the laws of x and -x — with bootstrap standard errors, and tests symmetry with
random sign flips: x_i -> s_i |x_i| with s_i = +-1 uniform is a sample of a symmetric law with the same |x|, so the
reflection KS of such flipped samples is the null level that a finite symmetric sample shows (O(1/sqrt(n)), not 0).
It also measures the correlations of ReLU gate states that Li's symmetry argument needs to be weak, and draws
Fig. 3a's smoothed histograms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.ndimage
import torch

from adaptsym.progress import progress_bar


def _as_array(x: Any) -> np.ndarray:
    """A flat float64 numpy array from a tensor or array; NaN or an empty sample raises ValueError."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0 or np.isnan(x).any():
        raise ValueError(f"need a non-empty sample without NaN; got {x.size} values, {np.isnan(x).sum()} NaN")
    return x


class _Reflection:
    """The reflection KS of a sample and of its bootstrap resamples and sign-flipped copies, from one sort.

    For the empirical law F of x, F(t) - F_{-x}(t) = -(1/n) * sum of sign(x_i) over {|x_i| > t} (t >= 0) or over
    {|x_i| >= -t} (t < 0); both sets are the values with the largest |x| down to the end of a run of ties in |x|.
    So sup_t |F - F_{-x}| is the largest |partial sum of sign(x_i)| over x sorted by decreasing |x|, read at the
    ends of the runs of ties.  A resample is a vector of multiplicities on the same sorted values and a sign flip
    a new sign vector, so each costs O(n) instead of scipy.stats.ks_2samp's fresh sort of 2n values: written out
    here because the bootstrap and the sign-flip null evaluate it hundreds of times per sample.
    """

    def __init__(self, x: np.ndarray):
        order = np.argsort(-np.abs(x), kind="stable")
        self.order = order
        self.signs = np.sign(x[order])
        magnitudes = np.abs(x[order])
        self.run_ends = np.flatnonzero(np.append(magnitudes[1:] != magnitudes[:-1], True))

    def distance(self, weights: np.ndarray | None = None, signs: np.ndarray | None = None) -> float:
        """The reflection KS with multiplicities ``weights`` and signs ``signs`` (both in sorted order)."""
        signs = self.signs if signs is None else signs
        signed = signs if weights is None else weights * signs
        total = signs.size if weights is None else weights.sum()
        return float(np.abs(np.cumsum(signed)[self.run_ends]).max() / total)


def reflection_ks(x: Any) -> float:
    """The Kolmogorov-Smirnov distance between the empirical laws of ``x`` and ``-x`` (0 for a symmetric sample);
    the same number as ``scipy.stats.ks_2samp(x, -x).statistic``.  ``x`` is flattened; NaN raises ValueError."""
    return _Reflection(_as_array(x)).distance()


def _moments(x: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Mean, std (1/n), mean/std and skewness m3 / m2^(3/2) (scipy.stats.skew's default) of x with multiplicities."""
    total = weights.sum()
    mean = (weights * x).sum() / total  # not weights @ x: BLAS dot is ~50x slower once torch is imported here
    centred = x - mean
    weighted_squares = weights * centred * centred
    m2, m3 = weighted_squares.sum() / total, (weighted_squares * centred).sum() / total
    std = np.sqrt(m2)
    undefined = std == 0  # a constant sample: neither ratio is defined
    return {"mean": float(mean), "std": float(std),
            "mean_over_std": float("nan") if undefined else float(mean / std),
            "skewness": float("nan") if undefined else float(m3 / m2 ** 1.5)}


def symmetry_stats(x: Any, n_boot: int = 200, seed: int = 0, max_samples: int = 200_000,
                   progress: bool = False) -> dict[str, float]:
    """Symmetry statistics of a sample with bootstrap standard errors and a sign-flip test of symmetry.

    Keys: ``n`` (values used), ``n_total``, ``mean``, ``std`` (1/n), ``mean_over_std``, ``skewness`` (m3/m2^1.5),
    ``reflection_ks`` (:func:`reflection_ks`); ``<key>_se`` for each, the standard deviation over ``n_boot``
    resamples with replacement; ``reflection_ks_null``, the mean reflection KS of ``n_boot`` sign-flipped copies
    x_i -> s_i |x_i| (its level under exact symmetry, O(1/sqrt(n))); and ``reflection_p``, the share of those
    copies, counting the sample itself, whose reflection KS reaches the observed one: the p-value of the
    symmetric null.  Samples of more than ``max_samples`` values are first subsampled without replacement
    (seeded), so ``n`` < ``n_total``.  A constant sample has NaN mean/std and skewness.  ``progress`` shows a bar
    over the ``n_boot`` replicates (about 15 ms each per 10^5 values on one core).
    """
    if n_boot < 2 or max_samples < 2:
        raise ValueError(f"need n_boot >= 2 and max_samples >= 2; got n_boot={n_boot}, max_samples={max_samples}")
    x = _as_array(x)
    rng = np.random.default_rng(seed)
    n_total = x.size
    if x.size > max_samples:
        x = rng.choice(x, max_samples, replace=False)
    reflection = _Reflection(x)
    stats = {**_moments(x, np.ones(x.size)), "reflection_ks": reflection.distance()}
    boots, nulls = [], np.empty(n_boot)
    for b in progress_bar(range(n_boot), desc="bootstrap", disable=not progress):
        weights = np.bincount(rng.integers(0, x.size, x.size), minlength=x.size).astype(np.float64)
        boots.append({**_moments(x, weights), "reflection_ks": reflection.distance(weights[reflection.order])})
        nulls[b] = reflection.distance(signs=np.abs(reflection.signs) * (2.0 * rng.integers(0, 2, x.size) - 1))
    for key in list(stats):
        stats[f"{key}_se"] = float(np.std([boot[key] for boot in boots], ddof=1))
    stats["reflection_ks_null"] = float(nulls.mean())
    stats["reflection_p"] = float((1 + (nulls >= stats["reflection_ks"]).sum()) / (1 + n_boot))
    return {"n": x.size, "n_total": n_total, **stats}


def sign_change_fraction(w0: Any, wt: Any) -> float:
    """The share of entries whose sign (-1, 0 or +1) differs between two arrays of the same shape, e.g. the
    weights at initialisation and at epoch t: one reading of Li Fig. 3's "the majority of the weight symmetries do
    not break during training"."""
    if tuple(np.shape(w0)) != tuple(np.shape(wt)):
        raise ValueError(f"arrays of different shapes: {tuple(np.shape(w0))} and {tuple(np.shape(wt))}")
    w0, wt = _as_array(w0), _as_array(wt)
    return float((np.sign(w0) != np.sign(wt)).mean())


def gate_correlations(gates: Any, seed: int = 0) -> dict[str, Any]:
    """Pairwise Pearson correlations of ReLU gate states across inputs, against a shuffled baseline.

    Li's circuit symmetry (eq. 14) needs weakly correlated gates.  ``gates`` is (inputs, units) of 0/1 (the gates
    h of one hidden layer).  Units always on or always off have no correlation and are left out (counted in
    ``n_constant``).  The baseline permutes each unit's column independently across inputs: same firing rates,
    no correlation, so its |r| is the sampling noise of the number of inputs (about sqrt(2 / (pi m)) for m inputs).
    Returns the arrays ``r`` and ``r_shuffled`` (pairs i < j of the varying units, row-major), ``mean_abs`` and
    ``rms`` of each (NaN with fewer than two varying units), ``n_units``, ``n_constant`` and
    ``firing_rate_mean`` (over all units and inputs).
    """
    if isinstance(gates, torch.Tensor):
        gates = gates.detach().cpu().numpy()
    gates = np.asarray(gates, dtype=np.float64)
    if gates.ndim != 2 or gates.shape[0] < 2:
        raise ValueError(f"gates must be a (inputs >= 2, units) matrix; got shape {gates.shape}")
    if not np.isin(gates, (0.0, 1.0)).all():
        raise ValueError("gates must hold only 0 (closed) and 1 (open)")
    varying = gates.min(axis=0) != gates.max(axis=0)
    kept = gates[:, varying]
    shuffled = np.random.default_rng(seed).permuted(kept, axis=0)
    upper = np.triu_indices(kept.shape[1], 1)
    r, r_shuffled = (np.corrcoef(g, rowvar=False)[upper] if kept.shape[1] > 1 else np.empty(0)
                     for g in (kept, shuffled))

    def mean_abs(values: np.ndarray) -> float:
        return float(np.abs(values).mean()) if values.size else float("nan")

    def rms(values: np.ndarray) -> float:
        return float(np.sqrt((values ** 2).mean())) if values.size else float("nan")

    return {"r": r, "r_shuffled": r_shuffled, "mean_abs": mean_abs(r), "mean_abs_shuffled": mean_abs(r_shuffled),
            "rms": rms(r), "rms_shuffled": rms(r_shuffled),
            "n_units": gates.shape[1], "n_constant": int((~varying).sum()), "firing_rate_mean": float(gates.mean())}


def smoothed_density(x: Any, grid: Any, bandwidth: float) -> np.ndarray:
    """Li Fig. 3a's "smoothed histograms obtained by smoothing the frequency with a Gaussian kernel".

    The histogram of ``x`` on bins centred on the uniform ``grid``, smoothed by a Gaussian of standard deviation
    ``bandwidth`` > 0 (in the units of x), as a density that integrates to 1 on the
    grid (sum * step = 1).  Values outside the bins are dropped and the mass the kernel carries past either end is
    lost, so the density is that of the part of the law in view, renormalised: choose a grid that holds the law.
    """
    x, grid = _as_array(x), np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or not np.allclose(np.diff(grid), grid[1] - grid[0]) or grid[1] <= grid[0]:
        raise ValueError("grid must be increasing uniform bin centres (at least two)")
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0; got {bandwidth}")
    step = grid[1] - grid[0]
    counts, _ = np.histogram(x, np.append(grid - step / 2, grid[-1] + step / 2))
    if counts.sum() == 0:
        raise ValueError(f"no value of x lies on the grid [{grid[0]}, {grid[-1]}]")
    smooth = scipy.ndimage.gaussian_filter1d(counts.astype(np.float64), bandwidth / step, mode="constant")
    return smooth / (smooth.sum() * step)
