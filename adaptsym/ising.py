"""Inverse Ising model of a weight ensemble (Zou & Huang, Sec. III and Appendices B, C, E).

Spins ``s`` take values in {-1, +1}^N and follow the Boltzmann distribution of eq. (4),
``P(s) = exp(-E(s)) / Z`` with the energy

    E(s) = -1/2 sum_{i != j} J_ij s_i s_j - sum_i h_i s_i,

``J`` symmetric with zero diagonal (so each pair enters once, with coupling ``J_ij``).
The module holds the forward problem (exact enumeration for small N, belief propagation and its
linear response, Metropolis Monte Carlo), the inverse problem (Boltzmann learning with BP moments,
eq. 5; pseudolikelihood maximisation, Appendix E), and the statistics of samples that judge a fit:
moments, their convergence with ensemble size and their noise floor, standard errors blocked by
independent chains or networks, three-point correlations (Appendix B). Everything is numpy float64.
"""

import warnings
from dataclasses import dataclass
from itertools import chain, combinations

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix
from scipy.special import expit, logsumexp

from adaptsym.progress import progress_bar

MAX_EXACT_N = 20
_ENUM_CHUNK = 2**15
_EDGE = 1.0 - 1e-12
_TRIPLET_CHUNK = 2**24


def check_model(J, h) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(J, h)`` as float64 after checking shapes, symmetry and the zero diagonal."""
    J = np.asarray(J, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"J must be a square (N, N) matrix, got shape {J.shape}")
    if h.shape != (J.shape[0],):
        raise ValueError(f"h must have shape ({J.shape[0]},) to match J, got {h.shape}")
    if not (np.all(np.isfinite(J)) and np.all(np.isfinite(h))):
        raise ValueError("J and h must be finite")
    if np.any(np.diag(J) != 0):
        raise ValueError("J must have a zero diagonal (no self-couplings)")
    if not np.allclose(J, J.T, rtol=0.0, atol=1e-10 * max(1.0, np.abs(J).max(initial=0.0))):
        raise ValueError("J must be symmetric (J_ij = J_ji)")
    return J, h


def check_spins(s, n_spins: int) -> np.ndarray:
    """Return spin configurations as an (n, N) array, n >= 1; values must be -1 or +1."""
    s = np.asarray(s)
    s = s[None, :] if s.ndim == 1 else s
    if s.ndim != 2 or s.shape[1] != n_spins or s.shape[0] == 0:
        raise ValueError(f"spin configurations must have shape (n >= 1, {n_spins}), got {s.shape}")
    if not np.all(np.abs(s) == 1):
        raise ValueError("spins must take values in {-1, +1}")
    return s


def energy(s, J, h) -> np.ndarray:
    """Ising energy E(s) of eq. (4) for one configuration (N,) or a batch (n, N)."""
    J, h = check_model(J, h)
    batch = check_spins(s, h.size).astype(np.float64)
    e = -0.5 * np.sum((batch @ J) * batch, axis=1) - batch @ h
    return e if np.ndim(s) == 2 else e[0]


def energy_density(s, J, h) -> np.ndarray:
    """Energy per spin E(s)/N, the abscissa of Zou & Huang Fig. 3(c)."""
    return energy(s, J, h) / len(np.asarray(h))


def _index_to_spins(index: np.ndarray, n_spins: int) -> np.ndarray:
    """Spin configurations of state indices: bit i of the index set means s_i = +1."""
    bits = (index[:, None] >> np.arange(n_spins)) & 1
    return (2 * bits - 1).astype(np.float64)


def _enumerate(J: np.ndarray, h: np.ndarray):
    """Yield ``(states, -E(states))`` over all 2^N configurations in chunks."""
    n_spins = h.size
    if n_spins > MAX_EXACT_N:
        raise ValueError(
            f"exact enumeration needs N <= {MAX_EXACT_N} spins, got N={n_spins}; "
            "use bp_moments or metropolis_samples for larger models"
        )
    for start in range(0, 2**n_spins, _ENUM_CHUNK):
        states = _index_to_spins(np.arange(start, min(start + _ENUM_CHUNK, 2**n_spins)), n_spins)
        yield states, 0.5 * np.sum((states @ J) * states, axis=1) + states @ h


def exact_log_partition(J, h) -> float:
    """log Z of eq. (4) by enumerating all 2^N states (N <= 20), chunked log-sum-exp."""
    J, h = check_model(J, h)
    return float(logsumexp([logsumexp(log_w) for _, log_w in _enumerate(J, h)]))


def exact_moments(J, h) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``(m, C)``: m_i = <s_i>, C_ij = <s_i s_j> (C_ii = 1), enumerating 2^N states (N <= 20)."""
    J, h = check_model(J, h)
    log_z = exact_log_partition(J, h)
    m = np.zeros(h.size)
    C = np.zeros((h.size, h.size))
    for states, log_w in _enumerate(J, h):
        p = np.exp(log_w - log_z)
        m += p @ states
        C += (states * p[:, None]).T @ states
    return m, C


def sample_exact(J, h, n: int, seed: int) -> np.ndarray:
    """Draw ``n`` independent configurations exactly from eq. (4) by enumeration (N <= 20).

    Returns an int8 array of shape (n, N) with entries -1/+1.
    """
    J, h = check_model(J, h)
    if n < 1:
        raise ValueError(f"n must be a positive number of samples, got {n}")
    log_w = np.concatenate([lw for _, lw in _enumerate(J, h)])
    p = np.exp(log_w - logsumexp(log_w))
    index = np.random.default_rng(seed).choice(p.size, size=n, p=p / p.sum())
    return _index_to_spins(index, h.size).astype(np.int8)


def logcosh(x: np.ndarray) -> np.ndarray:
    """ln 2cosh x = ln(e^x + e^-x), without overflow."""
    return np.logaddexp(x, -x)


def _bp_update(J: np.ndarray, h: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One parallel BP sweep (Zou & Huang eq. 15, pairwise form) in cavity-field variables.

    ``H[i, j]`` is the cavity field of spin i without spin j, m_{i->j} = tanh H[i, j]. The
    message from k to i is u_{k->i} = atanh(tanh J_ki tanh H_ki), written as
    [log cosh(J + H) - log cosh(J - H)] / 2 so that saturated fields stay finite. Returns the
    full local fields F_i = h_i + sum_k u_{k->i} and the new cavity fields F_i - u_{j->i}.
    """
    u = 0.5 * (logcosh(J + H) - logcosh(J - H))
    fields = h + u.sum(axis=0)
    return fields, fields[:, None] - u.T


def linear_response_moments(m, C) -> np.ndarray:
    """Pair moments C_ij = m_i m_j + dm_i/dh_j of linear response at a BP fixed point (susceptibility
    propagation; Welling & Teh 2004, Ricci-Tersenghi 2012), from BP's magnetisations ``m`` and pair moments
    ``C`` (:func:`bp_moments`).

    The susceptibility is the inverse Hessian of the Bethe free energy in the magnetisations, written with
    the correlation coefficients r_ij of BP's pair beliefs (:func:`correlation_from_moments`; r_ij = 0 when
    J_ij = 0): chi = diag(a) K^{-1} diag(a), a_i = sqrt(1 - m_i^2), K_ij = -r_ij / (1 - r_ij^2) for i != j and
    K_ii = 1 + sum_k r_ik^2 / (1 - r_ik^2). It equals the derivative of BP's m_i with respect to h_j, for
    every pair, not only the coupled ones; on a tree it is the exact connected correlation. Returns the full
    moments with C_ii = 1. Correlations of (numerically) deterministic pairs, |r_ij| = 1, are clipped to
    1 - 1e-12; K^{-1} stays finite and tends to the deterministic pair's correlation.
    """
    m = np.asarray(m, dtype=np.float64)
    r = np.clip(correlation_from_moments(m, C), -_EDGE, _EDGE)
    np.fill_diagonal(r, 0.0)
    K = -r / (1.0 - r**2)
    np.fill_diagonal(K, 1.0 + np.sum(r**2 / (1.0 - r**2), axis=1))
    a = np.sqrt(np.clip(1.0 - m**2, 0.0, None))
    chi = np.linalg.inv(K)
    C_lr = a[:, None] * (0.5 * (chi + chi.T)) * a + np.outer(m, m)  # the inverse, symmetric up to rounding
    np.fill_diagonal(C_lr, 1.0)
    return C_lr


def bp_moments(J, h, max_iter: int = 1000, tol: float = 1e-10, damping: float = 0.0,
               messages=None, return_messages: bool = False, linear_response: bool = False):
    """Magnetisations and pair moments by belief propagation (Zou & Huang Appendix C, eqs. 15-16).

    Cavity magnetisations m_{i->j} = tanh(h_i + sum_{k != j} atanh(tanh J_ki m_{k->i})) are
    iterated in parallel on the dense model (N x N matrix operations) until the largest change
    of any m_{i->j} is below ``tol``. Then m_i = tanh(h_i + sum_k atanh(tanh J_ki m_{k->i})) and,
    for i != j, C_ij = <s_i s_j> = (tanh J_ij + m_{i->j} m_{j->i}) / (1 + tanh J_ij m_{i->j} m_{j->i})
    (eq. 16b; the full, not connected, pair moment; C_ii = 1). On a tree these are exact for
    m and for C on the edges; for pairs with J_ij = 0 the formula gives m_{i->j} m_{j->i} only.

    ``damping`` in [0, 1) keeps that fraction of the old cavity fields at each sweep.
    ``messages`` warm-starts from the (N, N) cavity fields H[i, j] = atanh m_{i->j} returned by
    an earlier call (default: the independent-spin start H[i, j] = h_i).

    ``linear_response`` replaces C by the pair moments of linear response (:func:`linear_response_moments`):
    dm_i/dh_j + m_i m_j for every pair, exact on a tree for all pairs.

    Returns ``(m, C, converged)``, plus the cavity fields when ``return_messages``. When the
    iteration does not converge within ``max_iter`` sweeps, ``converged`` is False and the
    moments of the last sweep are returned (finite, but not a BP fixed point).
    """
    J, h = check_model(J, h)
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must lie in [0, 1), got {damping}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    if messages is None:
        H = np.repeat(h[:, None], h.size, axis=1)
    else:
        H = np.array(messages, dtype=np.float64)
        if H.shape != J.shape:
            raise ValueError(f"messages must have shape {J.shape} (cavity fields), got {H.shape}")
    converged = False
    for _ in range(max_iter):
        fields, H_new = _bp_update(J, h, H)
        change = np.max(np.abs(np.tanh(H_new) - np.tanh(H)))
        H = damping * H + (1.0 - damping) * H_new
        if change < tol:
            converged = True
            break
    fields, _ = _bp_update(J, h, H)
    m = np.tanh(fields)
    cavity = np.tanh(H)
    t = np.tanh(J)
    pair = cavity * cavity.T
    C = (t + pair) / (1.0 + t * pair)
    np.fill_diagonal(C, 1.0)
    if linear_response:
        C = linear_response_moments(m, C)
    return (m, C, converged, H) if return_messages else (m, C, converged)


def moment_rmse(m_data, C_data, m_model, C_model) -> float:
    """Fitting error of Zou & Huang Sec. III: sqrt(mean_i dm_i^2 + mean_{i != j} dC_ij^2).

    The two mean squared errors (magnetisations; off-diagonal pair moments) are added before the
    square root, as in the authors' code.
    """
    dm = np.asarray(m_data) - np.asarray(m_model)
    dC = np.asarray(C_data) - np.asarray(C_model)
    off = ~np.eye(dm.size, dtype=bool)
    return float(np.sqrt(np.mean(dm**2) + np.mean(dC[off] ** 2)))


def sample_moments(samples, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Data moments of Sec. III from ±1 configurations (n, N): m_i = <s_i> and the full pair
    moments C_ij = <s_i s_j> (C_ii = 1), accumulated in float64 over ``chunk`` rows at a time."""
    samples = np.asarray(samples)
    samples = check_spins(samples, samples.shape[-1])
    m = np.zeros(samples.shape[1])
    C = np.zeros((samples.shape[1], samples.shape[1]))
    for start in range(0, len(samples), chunk):
        block = samples[start:start + chunk].astype(np.float64)
        m += block.sum(axis=0)
        C += block.T @ block
    return m / len(samples), C / len(samples)


def correlation_from_moments(m, C) -> np.ndarray:
    """Pearson correlations (C_ij - m_i m_j) / sqrt((1 - m_i^2)(1 - m_j^2)) of ±1 spins from their
    magnetisations m and pair moments C, with 0 for pairs involving a frozen spin (|m_i| = 1) and 1
    on the diagonal."""
    m, C = np.asarray(m, dtype=np.float64), np.asarray(C, dtype=np.float64)
    spread = np.sqrt(np.clip(1.0 - m**2, 0.0, None))
    scale = np.outer(spread, spread)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > 0, (C - np.outer(m, m)) / scale, 0.0)
    np.fill_diagonal(r, 1.0)
    return r


def correlation_coefficients(samples) -> np.ndarray:
    """:func:`correlation_from_moments` of the moments of ±1 samples (n, N)."""
    return correlation_from_moments(*sample_moments(samples))


def leading_eigenpair(r: np.ndarray) -> tuple[float, np.ndarray]:
    """The largest eigenvalue of a symmetric (correlation) matrix and its unit eigenvector."""
    values, vectors = np.linalg.eigh(r)
    return float(values[-1]), vectors[:, -1]


def leading_mode(samples) -> tuple[float, np.ndarray]:
    """The largest eigenvalue of the correlation-coefficient matrix of ±1 samples (n, N) and its
    unit eigenvector: the collective direction along which whole configurations differ most."""
    return leading_eigenpair(correlation_coefficients(samples))


def noise_edge(n_spins: int, n_independent: int) -> float:
    """Marchenko-Pastur upper edge (1 + sqrt(N / G))^2: the largest correlation eigenvalue that
    sampling noise of ``n_independent`` independent configurations of ``n_spins`` independent
    spins produces (for large N, G). A leading eigenvalue far beyond it is a collective mode."""
    if min(n_spins, n_independent) < 1:
        raise ValueError(f"need n_spins, n_independent >= 1, got {n_spins}, {n_independent}")
    return (1.0 + np.sqrt(n_spins / n_independent)) ** 2


def split_by_leading_mode(samples, groups=None, vector=None) -> np.ndarray:
    """Split a two-family ensemble along its :func:`leading_mode`: True for the rows whose group
    (e.g. the network they were drawn from; default: each row alone) has a positive mean
    projection (s - m) . v on the leading eigenvector v, False otherwise. Whole groups land on
    one side. The sign of v, and so which family is True, is that of numpy's eigensolver.
    ``vector`` passes a leading eigenvector already computed by :func:`leading_mode`."""
    samples = check_spins(samples, np.shape(samples)[-1])
    index, _ = _groups_of(samples, groups)
    vector = leading_mode(samples)[1] if vector is None else np.asarray(vector, dtype=np.float64)
    if vector.shape != (samples.shape[1],):
        raise ValueError(f"vector must have shape ({samples.shape[1]},), got {vector.shape}")
    return group_mean_projection(samples, groups, vector)[index] > 0


def mode_projection(samples, vector) -> np.ndarray:
    """The projection (s - m) . v of each row of ``samples`` (n, N) on a mode ``vector`` (N,)."""
    return (samples - np.mean(samples, axis=0, dtype=np.float64)) @ vector


def group_mean_projection(samples, groups, vector) -> np.ndarray:
    """The mean :func:`mode_projection` of each group of rows (labels ``groups``, one per row; default:
    each row alone), in the order of the sorted labels: one value per group (e.g. per network)."""
    index, _ = _groups_of(samples, groups)
    return np.bincount(index, weights=mode_projection(samples, vector)) / np.bincount(index)


def mixture_moments(weights, magnetisations, pair_moments) -> tuple[np.ndarray, np.ndarray]:
    """Moments (m, C) of a mixture of models: m = sum_k w_k m_k, C = sum_k w_k C_k, with the
    weights w_k normalised to sum to one (e.g. the shares of the families of an ensemble)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.size != len(magnetisations) or weights.size != len(pair_moments) \
            or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("need one non-negative weight per component (and a positive total), "
                         f"got {weights.tolist()} for {len(magnetisations)} components")
    weights = weights / weights.sum()
    m = sum(w * np.asarray(mk, dtype=np.float64) for w, mk in zip(weights, magnetisations))
    C = sum(w * np.asarray(Ck, dtype=np.float64) for w, Ck in zip(weights, pair_moments))
    return m, C


def _groups_of(samples: np.ndarray, groups) -> tuple[np.ndarray, np.ndarray]:
    """Group labels (one per row; default: each row its own group) as indices 0..G-1, and the G labels."""
    labels = np.arange(len(samples)) if groups is None else np.asarray(groups)
    if labels.shape != (len(samples),):
        raise ValueError(f"groups must hold one label per configuration ({len(samples)}), got shape {labels.shape}")
    unique, index = np.unique(labels, return_inverse=True)
    return index, unique


def _independent_groups(samples: np.ndarray, groups) -> tuple[np.ndarray, int]:
    """:func:`_groups_of` for the chain-blocked errors: the group index of each row and the number of groups,
    after checking there are at least two (independent chains or networks)."""
    index, unique = _groups_of(samples, groups)
    if len(unique) < 2:
        raise ValueError(f"need at least 2 groups (independent chains), got {len(unique)}")
    return index, len(unique)


def _subset_rmses(samples, sizes, groups, n_repeats: int, seed: int) -> np.ndarray:
    """(len(sizes), n_repeats) :func:`moment_rmse` values between the moments of k random whole groups and
    those of all samples, for each k in ``sizes``."""
    samples = check_spins(samples, np.shape(samples)[-1])
    index, unique = _groups_of(samples, groups)
    sizes = np.asarray(sizes, dtype=int)
    if sizes.ndim != 1 or sizes.size == 0 or sizes.min() < 1 or sizes.max() > len(unique):
        raise ValueError(f"sizes must be a non-empty list of group counts in 1..{len(unique)}, got {sizes.tolist()}")
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be >= 1, got {n_repeats}")
    m_all, C_all = sample_moments(samples)
    rng = np.random.default_rng(seed)
    rmse = np.zeros((len(sizes), n_repeats))
    for position, k in enumerate(sizes):
        for repeat in range(n_repeats):
            chosen = np.isin(index, rng.choice(len(unique), size=k, replace=False))
            rmse[position, repeat] = moment_rmse(*sample_moments(samples[chosen]), m_all, C_all)
    return rmse


def moment_convergence(samples, sizes, groups=None, n_repeats: int = 5, seed: int = 0) -> np.ndarray:
    """How the data moments converge with ensemble size: for each k in ``sizes``, the
    :func:`moment_rmse` between the moments of k randomly chosen groups and those of all samples,
    averaged over ``n_repeats`` choices (array of len(sizes)).

    ``groups`` labels each row (e.g. the network a configuration was drawn from); subsets are
    made of whole groups, so k counts groups. Default: every row is its own group. For independent
    groups the squared RMSE is sigma^2 (1/k - 1/G) with G groups in all, so at k = G/2 the value
    estimates the sampling noise of the moments of all G groups.
    """
    return _subset_rmses(samples, sizes, groups, n_repeats, seed).mean(axis=1)


def noise_floor(samples, groups=None, n_repeats: int = 20, seed: int = 0) -> tuple[float, float]:
    """The sampling noise of the data moments (the fit-error floor of Sec. III) and its standard error:
    the :func:`moment_rmse` between the moments of a random half of the G groups (k = G // 2) and those of
    all of them, as in :func:`moment_convergence`, averaged over ``n_repeats`` random halves; the error is
    the standard deviation over the halves / sqrt(n_repeats). The halves share the data, so the error
    measures how much the floor depends on the split, not how well G groups determine the noise level.
    A model whose moments equal the population's has expected squared RMSE against the data equal to the
    expected squared floor."""
    index, unique = _groups_of(check_spins(samples, np.shape(samples)[-1]), groups)
    if len(unique) < 2 or n_repeats < 2:
        raise ValueError(f"need at least 2 groups and 2 repeats, got {len(unique)} and {n_repeats}")
    values = _subset_rmses(samples, [len(unique) // 2], groups, n_repeats, seed)[0]
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(n_repeats))


def _group_sums(index: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Sums of the rows of ``values`` (n, ...) within each group (labels ``index`` in 0..n_groups-1)."""
    indicator = csr_matrix((np.ones(len(index)), (index, np.arange(len(index)))), shape=(n_groups, len(index)))
    return (indicator @ values.reshape(len(index), -1)).reshape(n_groups, *values.shape[1:])


def _clustered_error(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Standard error of the pooled mean sum(sums) / sum(counts) when the G groups are independent and the
    rows within a group are not: sqrt(G / (G - 1) sum_g (S_g - n_g mean)^2) / n (for equal group sizes,
    std(group means, ddof=1) / sqrt(G))."""
    n_groups, total = len(counts), counts.sum()
    mean = sums.sum(axis=0) / total
    spread = sums - counts.reshape(-1, *[1] * (sums.ndim - 1)) * mean
    return np.sqrt(n_groups / (n_groups - 1) * np.sum(spread**2, axis=0)) / total


def grouped_standard_error(values, groups) -> np.ndarray:
    """Standard error of the mean over rows of ``values`` (n, ...) estimated from the spread of the
    group sums: groups (Monte Carlo chains, the networks configurations were drawn from) are independent,
    rows within a group are not. Slices of rows across groups (successive records of many chains) are not
    independent either, so batch means over them would underestimate the error of a slow chain."""
    values = np.asarray(values, dtype=np.float64)
    index, n_groups = _independent_groups(values, groups)
    return _clustered_error(_group_sums(index, n_groups, values), np.bincount(index).astype(np.float64))


def _group_moment_sums(samples: np.ndarray, index: np.ndarray, n_groups: int):
    """Yield ``(n_g, sum_g s, sum_g s s^T)`` of each group's rows, in group order."""
    order = np.argsort(index, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(index, minlength=n_groups))])
    for start, stop in zip(bounds[:-1], bounds[1:]):
        block = samples[order[start:stop]].astype(np.float64)
        yield stop - start, block.sum(axis=0), block.T @ block


def moment_errors(samples, groups) -> tuple[np.ndarray, np.ndarray]:
    """Chain-blocked standard errors of the moments m_i and C_ij of ±1 ``samples`` (n, N), the rows of one
    group (chain, network) correlated and the groups independent (:func:`grouped_standard_error`); 0 on the
    diagonal of C."""
    samples = check_spins(samples, np.shape(samples)[-1])
    counts, m_sums, C_sums = zip(*_group_moment_sums(samples, *_independent_groups(samples, groups)))
    counts = np.array(counts, dtype=np.float64)
    return _clustered_error(np.array(m_sums), counts), _clustered_error(np.array(C_sums), counts)


def moment_rmse_jackknife(samples, groups, m_ref, C_ref) -> tuple[float, float]:
    """:func:`moment_rmse` between the moments of ``samples`` and ``(m_ref, C_ref)``, with its jackknife
    standard error over the groups (leave one chain or network out at a time):
    sqrt((G - 1) / G sum_g (RMSE_(g) - mean)^2)."""
    samples = check_spins(samples, np.shape(samples)[-1])
    parts = list(_group_moment_sums(samples, *_independent_groups(samples, groups)))
    total_n = sum(n for n, _, _ in parts)
    total_m = sum(m for _, m, _ in parts)
    total_C = sum(C for _, _, C in parts)
    rmse = moment_rmse(total_m / total_n, total_C / total_n, m_ref, C_ref)
    left_out = np.array([moment_rmse((total_m - m) / (total_n - n), (total_C - C) / (total_n - n), m_ref, C_ref)
                         for n, m, C in parts])
    return rmse, float(np.sqrt((len(parts) - 1) / len(parts) * np.sum((left_out - left_out.mean()) ** 2)))


@dataclass
class BoltzmannFit:
    """Result of :func:`fit_boltzmann`.

    ``rmse_history[t]`` is :func:`moment_rmse` after t updates; the returned ``J, h`` are those
    after ``best_step`` updates (the last one, unless learning ran with ``patience``);
    ``converged`` says the RMSE fell below ``tol``; ``bp_converged`` says every BP call along the
    way reached its fixed point. It unpacks as the model, ``J, h = fit_boltzmann(...)``.
    """

    J: np.ndarray
    h: np.ndarray
    rmse_history: np.ndarray
    converged: bool
    bp_converged: bool
    best_step: int = -1

    def __iter__(self):
        return iter((self.J, self.h))


def check_moments(m_data, C_data) -> tuple[np.ndarray, np.ndarray]:
    """Return data moments as float64 after checking shapes, range and symmetry."""
    m_data = np.asarray(m_data, dtype=np.float64)
    C_data = np.asarray(C_data, dtype=np.float64)
    if m_data.ndim != 1 or C_data.shape != (m_data.size, m_data.size):
        raise ValueError(
            f"m_data must have shape (N,) and C_data shape (N, N); got {m_data.shape} and {C_data.shape}"
        )
    if np.any(np.abs(m_data) > 1) or np.any(np.abs(C_data) > 1 + 1e-12):
        raise ValueError("moments of +-1 spins must lie in [-1, 1]")
    if not np.allclose(C_data, C_data.T, rtol=0.0, atol=1e-10):
        raise ValueError("C_data must be symmetric")
    return m_data, 0.5 * (C_data + C_data.T)


def check_learning_finite(step: int, lr: float, *values) -> None:
    """Raise FloatingPointError when Boltzmann learning has produced non-finite numbers."""
    if not all(np.all(np.isfinite(v)) for v in values):
        raise FloatingPointError(
            f"Boltzmann learning diverged after {step} steps; lower lr (got {lr}) or momentum")


def fit_boltzmann(m_data, C_data, lr: float = 0.2, max_steps: int = 2000, tol: float = 1e-6,
                  l2: float = 0.0, momentum: float = 0.0, bp_max_iter: int = 1000,
                  bp_tol: float = 1e-10, damping: float = 0.0, patience: int | None = None,
                  linear_response: bool = False, progress: bool = True) -> BoltzmannFit:
    """Boltzmann learning of (J, h) with BP model moments (Zou & Huang eq. 5, Appendix C).

    Starts from independent spins, h = atanh(m_data), J = 0, and ascends the log-likelihood:
    h += lr (m_data - m_model), J += lr (C_data - C_model - l2 J) off the diagonal, with
    (m_model, C_model) from :func:`bp_moments` warm-started from the previous step's messages.
    ``momentum`` > 0 replaces the gradient by a heavy-ball running sum v <- momentum v + gradient
    (0 is eq. 5 exactly); it speeds up learning when the moments are strongly correlated.
    The step is stable for lr < 2 / lambda_max, lambda_max the largest eigenvalue of the covariance
    of (s_i, s_i s_j), which grows with N and with the magnetisations: a stalled or rising
    ``rmse_history`` means lr is too large.
    Stops when :func:`moment_rmse` < ``tol`` or after ``max_steps`` updates. With ``patience``,
    learning also stops once the RMSE has not improved for ``patience`` updates, and the iterate of
    lowest RMSE is returned, as the authors' code does (it keeps the best iterate): BP can jump to
    another fixed point when the couplings grow, after which the RMSE rises. ``C_data`` holds the
    pair moments <s_i s_j> (its diagonal is ignored). Data magnetisations of exactly +-1 are
    clipped slightly inside (-1, 1) for the starting field. ``linear_response`` takes the model's pair
    moments from BP's linear response (:func:`linear_response_moments`, BP+LR) instead of BP's pair beliefs,
    which for uncoupled pairs are only m_i m_j.
    """
    m_data, C_data = check_moments(m_data, C_data)
    off = 1.0 - np.eye(m_data.size)
    h = np.arctanh(np.clip(m_data, -_EDGE, _EDGE))
    J = np.zeros((m_data.size, m_data.size))
    velocity_h, velocity_J = np.zeros_like(h), np.zeros_like(J)
    if patience is not None and patience < 1:
        raise ValueError(f"patience must be None or a positive number of steps, got {patience}")
    messages, history, bp_ok, converged = None, [], True, False
    best = (np.inf, 0, h, J)
    bar = progress_bar(total=max_steps, desc="Boltzmann learning", disable=not progress)
    for step in range(max_steps + 1):
        check_learning_finite(step, lr, h, J)
        m_model, C_model, bp_converged, messages = bp_moments(
            J, h, max_iter=bp_max_iter, tol=bp_tol, damping=damping, messages=messages,
            return_messages=True, linear_response=linear_response)
        bp_ok = bp_ok and bool(bp_converged)
        history.append(moment_rmse(m_data, C_data, m_model, C_model))
        check_learning_finite(step, lr, history[-1])
        bar.set_postfix(rmse=f"{history[-1]:.2e}")
        best = (history[-1], step, h, J) if history[-1] < best[0] else best
        converged = history[-1] < tol
        stalled = patience is not None and step - best[1] >= patience
        if converged or stalled or step == max_steps:
            break
        velocity_h = momentum * velocity_h + (m_data - m_model)
        velocity_J = momentum * velocity_J + (C_data - C_model - l2 * J) * off
        h = h + lr * velocity_h
        J = J + lr * velocity_J
        bar.update()
    bar.close()
    if patience is None:
        return BoltzmannFit(J, h, np.array(history), converged, bp_ok, len(history) - 1)
    return BoltzmannFit(best[3], best[2], np.array(history), converged, bp_ok, best[1])


def _pseudolikelihood_objective(x, samples, l1, l2, batch_size):
    """Regularised negative log pseudolikelihood per sample and its gradient (Appendix E, eq. 21).

    ``x = [h, W+, W-]`` with couplings W = W+ - W- (W+, W- >= 0), W[i, j] the coupling of spin i
    to spin j in the conditional P(s_i | rest) = 1 / (1 + exp(-2 s_i (h_i + sum_j W_ij s_j)))
    (eq. 22). The value is (1/n) sum_samples sum_i log(1 + exp(-2 s_i F_i)) + l1 sum|W| + l2/2 sum W^2.
    """
    n, n_spins = samples.shape
    h, W_pos, W_neg = x[:n_spins], *x[n_spins:].reshape(2, n_spins, n_spins)
    W = W_pos - W_neg
    value, grad_h, grad_W = 0.0, np.zeros(n_spins), np.zeros((n_spins, n_spins))
    for start in range(0, n, batch_size):
        s = samples[start:start + batch_size].astype(np.float64)
        z = -2.0 * s * (h + s @ W.T)
        value += np.logaddexp(0.0, z).sum()
        G = -2.0 * s * expit(z)
        grad_h += G.sum(axis=0)
        grad_W += G.T @ s
    value = value / n + l1 * (W_pos.sum() + W_neg.sum()) + 0.5 * l2 * np.sum(W**2)
    grad_W = grad_W / n + l2 * W
    return value, np.concatenate([grad_h / n, (grad_W + l1).ravel(), (l1 - grad_W).ravel()])


def fit_pseudolikelihood(samples, l1: float = 0.0, l2: float = 1e-5, max_iter: int = 1000,
                         tol: float = 1e-10, batch_size: int = 65536,
                         progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Ising model ``(J, h)`` by pseudolikelihood maximisation (Zou & Huang Appendix E).

    Maximises all N conditional log-likelihoods at once (eqs. 21-22) over asymmetric couplings
    W (zero diagonal) and fields h with scipy's L-BFGS-B and the analytic gradient, then
    symmetrises J = (W + W^T) / 2 as in Appendix E. ``l1`` > 0 gives the sparse model of
    Appendix E: W is split into non-negative parts so the L1 term is smooth and couplings can be
    exactly zero. ``l2`` is a small ridge penalty (l2/2) sum W^2 on the couplings (not the fields).
    ``samples`` is an (n, N) array of -1/+1 configurations; it is processed in ``batch_size`` rows.
    """
    samples = check_spins(samples, np.shape(samples)[-1]).astype(np.int8, copy=False)
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalties must be non-negative, got l1={l1}, l2={l2}")
    n_spins = samples.shape[1]
    zero_diagonal = np.eye(n_spins, dtype=bool).ravel()
    bounds = [(None, None)] * n_spins + [(0.0, 0.0) if d else (0.0, None) for d in zero_diagonal] * 2
    h0 = np.arctanh(np.clip(samples.mean(axis=0), -0.99, 0.99))
    x0 = np.concatenate([h0, np.zeros(2 * n_spins**2)])
    bar = progress_bar(total=max_iter, desc="pseudolikelihood", disable=not progress)
    result = minimize(_pseudolikelihood_objective, x0, args=(samples, l1, l2, batch_size), jac=True,
                      method="L-BFGS-B", bounds=bounds, callback=lambda *_: bar.update(),
                      options={"maxiter": max_iter, "ftol": tol, "gtol": tol})
    bar.close()
    if not result.success:
        warnings.warn(f"pseudolikelihood optimisation did not converge: {result.message}", RuntimeWarning)
    h, W_pos, W_neg = result.x[:n_spins], *result.x[n_spins:].reshape(2, n_spins, n_spins)
    W = W_pos - W_neg
    return 0.5 * (W + W.T), h


def metropolis_sweep(spins: np.ndarray, J: np.ndarray, h: np.ndarray, beta, rng: np.random.Generator) -> np.ndarray:
    """One Metropolis sweep of eq. (4) at inverse temperature ``beta``, in place, over many chains at once
    (Appendix B).

    ``spins`` is a float64 (N, R) array whose R columns are independent chains (a column per chain keeps
    each spin's row contiguous); ``beta`` is a number or one inverse temperature per column. Spins
    0..N-1 are visited in order and s_i flips with probability min(1, exp(-2 beta s_i F_i)), with the
    local field F_i = h_i + sum_j J_ij s_j computed from the current spins. Returns the energy change
    of each column, E(after) - E(before).
    """
    minus_two_beta = -2.0 * np.broadcast_to(np.asarray(beta, dtype=np.float64), spins.shape[1:])
    log_u = np.log(rng.random(spins.shape))
    half_change = np.zeros(spins.shape[1])
    for i in range(spins.shape[0]):
        row = spins[i]
        half_gain = J[i] @ spins
        half_gain += h[i]
        half_gain *= row  # s_i F_i: flipping s_i changes E by 2 s_i F_i
        flip = log_u[i] < minus_two_beta * half_gain
        np.negative(row, out=row, where=flip)
        half_change += half_gain * flip
    return 2.0 * half_change


def metropolis_samples(J, h, n_samples: int, n_chains: int = 100, burn_in: int = 1000,
                       thin: int = 10, seed: int = 0, progress: bool = True, return_chains: bool = False):
    """Metropolis Monte Carlo samples of eq. (4), vectorised over independent chains (Appendix B).

    Each chain starts from a uniformly random configuration and runs :func:`metropolis_sweep` sweeps.
    After ``burn_in`` sweeps every chain is recorded once every ``thin`` sweeps until
    ``n_samples`` configurations are collected. Returns an int8 (n_samples, N) array whose row r
    is record r // n_chains of chain r % n_chains, and with ``return_chains`` also that chain index
    of every row (the independent units for :func:`grouped_standard_error`).
    """
    J, h = check_model(J, h)
    if min(n_samples, n_chains, thin) < 1 or burn_in < 0:
        raise ValueError("need n_samples, n_chains, thin >= 1 and burn_in >= 0, got "
                         f"{n_samples}, {n_chains}, {thin}, {burn_in}")
    rng = np.random.default_rng(seed)
    n_records = -(-n_samples // n_chains)
    spins = rng.choice([-1.0, 1.0], size=(h.size, n_chains))
    records = np.empty((n_records, n_chains, h.size), dtype=np.int8)
    n_sweeps = burn_in + thin * n_records
    sweeps = progress_bar(range(1, n_sweeps + 1), desc="Metropolis sweeps", disable=not progress)
    for sweep in sweeps:
        metropolis_sweep(spins, J, h, 1.0, rng)
        if sweep > burn_in and (sweep - burn_in) % thin == 0:
            records[(sweep - burn_in) // thin - 1] = spins.T
    samples = records.reshape(-1, h.size)[:n_samples]
    return (samples, np.arange(n_samples) % n_chains) if return_chains else samples


def _triplet_products(samples, triplets, connected: bool):
    """The per-row products x_i x_j x_k of ``triplets`` (checked; default all i < j < k in
    ``itertools.combinations`` order), a generator of (n, t) arrays for consecutive chunks of the triplets,
    with x = s or, when ``connected``, s minus its sample mean."""
    n_spins = np.shape(samples)[-1]
    x = check_spins(samples, n_spins).astype(np.float64)
    if connected:
        x = x - x.mean(axis=0)
    if triplets is None:
        flat = chain.from_iterable(combinations(range(n_spins), 3))
        triplets = np.fromiter(flat, dtype=np.int64).reshape(-1, 3)
    triplets = np.asarray(triplets)
    if triplets.ndim != 2 or triplets.shape[1] != 3 or not np.issubdtype(triplets.dtype, np.integer):
        raise ValueError(f"triplets must be an integer array of shape (T, 3), got {triplets.shape}")
    if triplets.size and (triplets.min() < 0 or triplets.max() >= n_spins):
        raise ValueError(f"triplet indices must lie in [0, {n_spins})")
    chunks = np.array_split(triplets, max(1, -(-len(triplets) * x.shape[0] // _TRIPLET_CHUNK)))
    return (x[:, b[:, 0]] * x[:, b[:, 1]] * x[:, b[:, 2]] for b in chunks)


def three_point_correlations(samples, triplets=None, connected: bool = False) -> np.ndarray:
    """Three-weight correlations of Zou & Huang Appendix B / Fig. 12 from samples.

    By default the raw moments <s_i s_j s_k>, which is what the authors' Fig. 12 code compares;
    ``connected=True`` gives <(s_i - m_i)(s_j - m_j)(s_k - m_k)> with the sample means m.
    ``triplets`` is an (T, 3) integer array; default all i < j < k in the order of
    ``itertools.combinations(range(N), 3)``. Returns an array of length T.
    """
    products = _triplet_products(samples, triplets, connected)
    return np.concatenate([p.mean(axis=0) for p in products])


def random_triplets(n_spins: int, n_triplets: int, seed: int) -> np.ndarray:
    """``n_triplets`` distinct index triplets i < j < k drawn uniformly from all C(N, 3) of them
    (all of them, in ``itertools.combinations`` order, if there are no more), an (T, 3) array."""
    total = n_spins * (n_spins - 1) * (n_spins - 2) // 6
    if n_spins < 3 or n_triplets < 1:
        raise ValueError(f"need n_spins >= 3 and n_triplets >= 1, got {n_spins} and {n_triplets}")
    if n_triplets >= total:
        return np.fromiter(chain.from_iterable(combinations(range(n_spins), 3)), dtype=np.int64).reshape(-1, 3)
    rng = np.random.default_rng(seed)
    found = np.empty((0, 3), dtype=np.int64)
    while len(found) < n_triplets:
        draws = np.sort(rng.integers(0, n_spins, size=(2 * n_triplets, 3)), axis=1)
        draws = draws[(draws[:, 0] < draws[:, 1]) & (draws[:, 1] < draws[:, 2])]
        found = np.unique(np.concatenate([found, draws]), axis=0)
    return found[rng.permutation(len(found))[:n_triplets]]


def three_point_errors(samples, triplets=None, n_batches: int = 20, connected: bool = False,
                       groups=None) -> np.ndarray:
    """Standard errors of :func:`three_point_correlations` (same ``triplets`` and ``connected``).

    With ``groups`` (the chain of each Monte Carlo sample, the network of each configuration), the
    errors are chain-blocked: from the spread of the per-group sums of s_i s_j s_k
    (:func:`grouped_standard_error`), groups independent, rows within a group not; the sample means of
    ``connected`` are treated as exact. Without ``groups``, by batch means: the rows are cut into
    ``n_batches`` contiguous blocks of (nearly) equal size, the three-point correlations computed on
    each, and the error is std(block values) / sqrt(n_batches); that is right only when contiguous
    blocks are independent (configurations stored network by network), not for the rows of
    :func:`metropolis_samples`, whose contiguous blocks are time slices across all chains.
    """
    samples = check_spins(samples, np.shape(samples)[-1])
    if groups is not None:
        index, n_groups = _independent_groups(samples, groups)
        counts = np.bincount(index).astype(np.float64)
        products = _triplet_products(samples, triplets, connected)
        return np.concatenate([_clustered_error(_group_sums(index, n_groups, p), counts) for p in products])
    if not 2 <= n_batches <= len(samples):
        raise ValueError(f"n_batches must lie in 2..{len(samples)} (the number of samples), got {n_batches}")
    blocks = np.stack([three_point_correlations(block, triplets, connected)
                       for block in np.array_split(samples, n_batches)])
    return blocks.std(axis=0, ddof=1) / np.sqrt(n_batches)


def fraction_predicted(data, model, data_error, model_error, k: float = 2.0) -> float:
    """Fraction of statistics the model predicts within ``k`` combined standard errors:
    |data - model| <= k sqrt(data_error^2 + model_error^2) (our criterion for Fig. 12 of Zou &
    Huang, whose own threshold is lost from our copy of the text)."""
    data, model = np.asarray(data, dtype=np.float64), np.asarray(model, dtype=np.float64)
    if data.shape != model.shape:
        raise ValueError(f"data and model must have the same shape, got {data.shape} and {model.shape}")
    return float(np.mean(np.abs(data - model) <= k * np.hypot(data_error, model_error)))


def pair_couplings(J) -> np.ndarray:
    """The couplings J_ij, i < j, of a model (each pair once): the entries of the histograms of
    Zou & Huang Figs. 3(a), 3(d) and 4."""
    J = np.asarray(J, dtype=np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"J must be a square (N, N) matrix, got shape {J.shape}")
    return J[np.triu_indices(len(J), 1)]
