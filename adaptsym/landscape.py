"""The entropy landscape of a data-driven Ising model (Zou & Huang §IV, Appendices C, H, I).

A reference configuration σ* (a learned weight configuration) is coupled to the Boltzmann measure of the
effective model by a field x (eqs. 6, 19):

    P_x(s) ∝ exp(-β E(s) + x Σ_i σ*_i s_i),     E(s) = -Σ_{i<j} J_ij s_i s_j - Σ_i h_i s_i,

so x > 0 favours configurations near σ* and x < 0 those far from it.  Per weight, with the overlap
q = (1/N) Σ_i σ*_i <s_i> and the Hamming distance d = (1 - q)/2, the free energy f = -ln Z / (β N) gives
the entropy by the double Legendre transform of Appendix C,

    s = ln Z / N + β e - x q = β (energy - f),     energy = e - x q / β,

e = <E>/N the energy of the model without the coupling term (``energy_uncoupled``) and ``energy`` that of the
coupled measure.  s is the Shannon entropy of P_x per weight, so it can never exceed the log-number of
configurations at distance d from σ*, -d ln d - (1 - d) ln(1 - d) (:func:`distance_bound`).  The cavity
(Bethe) approximation of Appendix C computes everything from the BP fixed point of :func:`adaptsym.ising.bp_moments`
with the fields h_i -> β h_i + x σ*_i; it is exact on trees.

Beside the landscape: its hysteresis (a first-order transition, §IV.3), the iso-energy curve (Appendix C,
Fig. 7), the TAP states and their free energies (Appendix I, Fig. 8), the entropy by heat-capacity
integration (Appendix H) and Metropolis dynamics from a reference (Fig. 9).  Everything is numpy float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.optimize import brentq
from scipy.special import xlogy

from adaptsym import binary, boltzmann, ising, weight_space, zou_huang
from adaptsym.progress import progress_bar

LN2 = float(np.log(2.0))


def bethe_log_partition(J, h, messages) -> float:
    """ln Z in the Bethe approximation (Zou & Huang eq. 14, pairwise form) from BP cavity fields.

    ``messages[k, i]`` = H_{k->i} is the cavity field of spin k without spin i (as returned by
    :func:`adaptsym.ising.bp_moments`), m_{k->i} = tanh H_{k->i}.  With u_{k->i} = atanh(tanh J_ki m_{k->i}),

        ln Z = Σ_i [ln 2cosh(h_i + Σ_k u_{k->i}) + Σ_k (½ ln cosh(J_ik + H_{k->i}) cosh(J_ik - H_{k->i})
                                                       - ln cosh H_{k->i})]
               - Σ_{i<j} ln[cosh J_ij (1 + tanh J_ij m_{i->j} m_{j->i})],

    the site terms (adding spin i and its interactions) minus the edge terms (each interaction counted twice).
    At a BP fixed point this is stationary in the messages, and exact on a tree.  Pairs with J_ij = 0 contribute
    nothing, so a dense matrix with zeros is a sparse graph.
    """
    J, h = ising.check_model(J, h)
    H = np.asarray(messages, dtype=np.float64)
    if H.shape != J.shape:
        raise ValueError(f"messages must have shape {J.shape} (cavity fields H[k, i]), got {H.shape}")
    plus, minus = ising.logcosh(J + H), ising.logcosh(J - H)  # ln 2cosh(J_ik ± H_{k->i}), [k, i]
    u = 0.5 * (plus - minus)  # u[k, i] = u_{k->i}
    site = ising.logcosh(h + u.sum(axis=0)).sum() + np.sum(0.5 * (plus + minus) - ising.logcosh(H))
    cavity = np.tanh(H)
    a = cavity * cavity.T  # a[i, j] = m_{i->j} m_{j->i}
    with np.errstate(divide="ignore"):
        edge = np.logaddexp(J + np.log1p(a), -J + np.log1p(-a)) - LN2  # ln(cosh J + a sinh J)
    return float(site - np.sum(np.triu(edge, 1)))


def mean_energy(J, h, m, C) -> float:
    """<E>/N = -(Σ_{i<j} J_ij C_ij + Σ_i h_i m_i)/N from magnetisations and pair moments (eq. 17, with the
    BP moments of eq. 16 at a fixed point: the derivative of the Bethe free energy in β)."""
    m, C = np.asarray(m, dtype=np.float64), np.asarray(C, dtype=np.float64)
    return float((-0.5 * np.sum(J * C) - h @ m) / len(m))


def distance_bound(d) -> np.ndarray:
    """The largest entropy per weight at Hamming distance d from a reference, -d ln d - (1 - d) ln(1 - d)
    (§IV.1: the log-number of all configurations at that distance)."""
    d = np.asarray(d, dtype=np.float64)
    return -xlogy(d, d) - xlogy(1.0 - d, 1.0 - d)


@dataclass(frozen=True)
class Landscape:
    """The entropy landscape around one reference (eqs. 6-8, 19-20): one entry per coupling field x, in the
    order swept.  ``d`` the Hamming distance per weight, ``q`` = 1 - 2d the overlap, ``free_energy``
    f = -ln Z/(βN), ``energy`` the energy per weight of the coupled measure, ``energy_uncoupled`` e = <E>/N
    without the coupling term, ``s`` = β(energy - f) the entropy per weight, ``beta`` the inverse temperature
    (1, except on an iso-energy curve), ``converged`` whether BP reached its fixed point."""

    x: np.ndarray
    d: np.ndarray
    s: np.ndarray
    q: np.ndarray
    free_energy: np.ndarray
    energy: np.ndarray
    energy_uncoupled: np.ndarray
    converged: np.ndarray
    beta: np.ndarray

    @property
    def bound(self) -> np.ndarray:
        """:func:`distance_bound` at each point's distance."""
        return distance_bound(self.d)

    def nearest(self, x: float = 0.0) -> int:
        """The index of the point whose coupling field is nearest ``x`` (x = 0: the unconstrained model)."""
        return int(np.argmin(np.abs(self.x - x)))


_FIELDS = ("d", "s", "q", "free_energy", "energy", "energy_uncoupled", "converged")


def _check_reference(ref, n_spins: int) -> np.ndarray:
    ref = np.asarray(ref)
    if ref.shape != (n_spins,) or not np.all(np.abs(ref) == 1):
        raise ValueError(f"the reference must be one ±1 configuration of shape ({n_spins},), got shape {ref.shape}")
    return ref.astype(np.float64)


def _check_xs(xs) -> np.ndarray:
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 1 or xs.size == 0 or not np.all(np.isfinite(xs)):
        raise ValueError(f"xs must be a non-empty 1-D array of finite coupling fields, got shape {xs.shape}")
    return xs


def _bp_solve(J, h, ref, x, beta, messages, bp_options):
    """BP (:func:`adaptsym.ising.bp_moments`) of eq. 19 at (x, β), warm-started at ``messages``: (m, C, converged,
    cavity fields)."""
    return ising.bp_moments(beta * J, beta * h + x * ref, messages=messages, return_messages=True, **bp_options)


def _bethe_point(J, h, ref, x, beta, messages, bp_options, solved=None) -> tuple[dict, np.ndarray]:
    """The landscape quantities at one (x, β) from BP warm-started at ``messages`` (cavity fields of an earlier
    solve, or None), or from the BP result ``solved`` of :func:`_bp_solve` when given; and the cavity fields."""
    m, C, converged, H = solved if solved is not None else _bp_solve(J, h, ref, x, beta, messages, bp_options)
    n = len(h)
    log_z = bethe_log_partition(beta * J, beta * h + x * ref, H)
    e, q = mean_energy(J, h, m, C), float(ref @ m / n)
    energy = e - x * q / beta if beta != 0 else np.nan
    point = {"d": (1.0 - q) / 2.0, "s": log_z / n + beta * e - x * q, "q": q,
             "free_energy": -log_z / (beta * n) if beta != 0 else np.nan, "energy": energy,
             "energy_uncoupled": e, "converged": bool(converged)}
    return point, H


def _shifted(messages, change) -> np.ndarray | None:
    """Warm-start cavity fields after the fields moved by ``change`` (N,): every incoming message kept."""
    return None if messages is None else messages + change[:, None]


def _collect(xs, points, betas) -> Landscape:
    return Landscape(x=np.asarray(xs, dtype=np.float64), beta=np.asarray(betas, dtype=np.float64),
                     **{name: np.array([p[name] for p in points]) for name in _FIELDS})


def entropy_landscape(J, h, ref, xs, damping: float = 0.5, max_iter: int = 1000, tol: float = 1e-8,
                      progress: bool = False) -> Landscape:
    """The entropy landscape around ``ref`` (Zou & Huang §IV, eqs. 6-8; Appendix C, eq. 19) at β = 1.

    For each coupling field x in ``xs``, in the order given, BP (eq. 15) with fields h + x σ* is iterated to its
    fixed point, started from the previous x's cavity fields (shifted by the change of field), so that a sweep
    follows one branch of solutions: sweeping x up and then down shows a first-order transition as a hysteresis
    loop (:func:`hysteresis_area`).  The first x starts from independent spins.  ``damping``, ``max_iter`` and
    ``tol`` are BP's (:func:`adaptsym.ising.bp_moments`).
    """
    J, h = ising.check_model(J, h)
    ref, xs = _check_reference(ref, h.size), _check_xs(xs)
    options = {"damping": damping, "max_iter": max_iter, "tol": tol}
    points, H, previous = [], None, xs[0]
    for x in progress_bar(xs, desc="entropy landscape", disable=not progress):
        point, H = _bethe_point(J, h, ref, x, 1.0, _shifted(H, (x - previous) * ref), options)
        points.append(point)
        previous = x
    return _collect(xs, points, np.ones_like(xs))


def sweep_fields(x_max: float, step: float) -> np.ndarray:
    """The coupling fields of a forward sweep, -x_max to x_max in steps of ``step`` (Fig. 5: -3 to 3)."""
    if x_max <= 0 or step <= 0:
        raise ValueError(f"x_max and step must be positive, got x_max={x_max}, step={step}")
    return np.linspace(-x_max, x_max, int(round(2 * x_max / step)) + 1)


def sweep_both_ways(J, h, ref, x_max: float, step: float, landscape=entropy_landscape,
                    **options) -> tuple[Landscape, Landscape]:
    """``landscape`` (:func:`entropy_landscape`, or :func:`iso_energy_landscape`) swept from -x_max to x_max in steps
    of ``step`` (forward) and back (backward), as in Fig. 5; ``options`` are passed on."""
    xs = sweep_fields(x_max, step)
    return landscape(J, h, ref, xs, **options), landscape(J, h, ref, xs[::-1], **options)


def hysteresis_area(forward: Landscape, backward: Landscape, converged_only: bool = False) -> float:
    """∫ |d_forward(x) - d_backward(x)| dx over the common fields of two sweeps (trapezoid rule): zero when
    both directions follow one curve, the area of the loop at a first-order transition (§IV.3).  With
    ``converged_only`` the integrand is set to 0 wherever BP failed in either sweep (a failed fixed point is not a
    branch of the landscape)."""
    order_f, order_b = np.argsort(forward.x), np.argsort(backward.x)
    x = forward.x[order_f]
    if not np.array_equal(x, backward.x[order_b]):
        raise ValueError("the forward and backward sweeps must visit the same coupling fields")
    gap = np.abs(forward.d[order_f] - backward.d[order_b])
    if converged_only:
        gap = np.where(forward.converged[order_f] & backward.converged[order_b], gap, 0.0)
    return float(np.trapezoid(gap, x))


def largest_jump(landscape: Landscape) -> float:
    """The largest |Δd| between consecutive coupling fields of a sweep: of the order of the step times the
    slope on a smooth curve, a finite fraction of the weights at a discontinuous transition."""
    return float(np.max(np.abs(np.diff(landscape.d)), initial=0.0))


def _iso_point(J, h, ref, x, target, guess, beta_max, beta_tol, state, options):
    """The landscape point at field x whose energy e (without the coupling term) equals ``target``, and its β:
    e(β) decreases with β (de/dβ = -Var(E)/N), so the root is bracketed by stepping from ``guess`` towards colder
    or hotter β (steps of 0.05 max(1, |guess|), doubling) within [-beta_max, beta_max], then found by Brent's
    method.  Every evaluation warm-starts BP from the last one (``state`` holds its cavity fields and fields).  No
    root (or a gap that changes sign inconsistently, as BP failing at some β can make it): NaN, not converged."""
    def solve(beta):
        fields = beta * h + x * ref
        start = None if state["H"] is None else _shifted(state["H"], fields - state["fields"])
        solved = _bp_solve(J, h, ref, x, beta, start, options)
        state["H"], state["fields"] = solved[3], fields
        return solved

    seen = {}

    def gap(beta):  # remembered: Brent's method re-evaluates the bracket, and BP from another start may differ
        if beta not in seen:
            m, C = solve(beta)[:2]
            seen[beta] = mean_energy(J, h, m, C) - target
        return seen[beta]

    low = high = float(np.clip(guess, -beta_max, beta_max))
    g_low = g_high = gap(low)
    step = 0.05 * max(1.0, abs(low))
    while g_high > 0 and high < beta_max:  # energy too high: colder, in steps that double
        low, g_low = high, g_high
        high, step = min(beta_max, high + step), 2.0 * step
        g_high = gap(high)
    while g_low < 0 and low > -beta_max:  # energy too low: hotter
        high, g_high = low, g_low
        low, step = max(-beta_max, low - step), 2.0 * step
        g_low = gap(low)
    if not g_low >= 0 >= g_high:
        return {name: np.nan for name in _FIELDS} | {"converged": False}, np.nan
    beta = low if g_low == 0 else high if g_high == 0 else brentq(gap, low, high, xtol=beta_tol, rtol=beta_tol)
    return _bethe_point(J, h, ref, x, beta, None, options, solved=solve(beta))[0], beta


def iso_energy_landscape(J, h, ref, xs, beta_max: float = 10.0, beta_tol: float = 1e-6, damping: float = 0.5,
                         max_iter: int = 1000, tol: float = 1e-8, progress: bool = False) -> Landscape:
    """The iso-energy entropy curve around ``ref`` (Appendix C, eq. 20; Fig. 7): at each coupling field x the
    inverse temperature β of eq. 19 is tuned so that the energy per weight without the coupling term equals the
    reference's, e(β, x) = E(σ*)/N, and the entropy s = ln Z/N + β e - x q is that of configurations of the
    reference's energy at distance d.  β is searched in [-``beta_max``, ``beta_max``] from the value extrapolated from
    the previous two x (1 at the first): a reference of higher energy than the mean at β = 0 needs β < 0.  Where
    e - E(σ*)/N does not change sign there, the point is NaN with ``converged`` False.  ``beta_tol`` is Brent's
    absolute and relative tolerance on β.  The returned :class:`Landscape` carries β per x."""
    J, h = ising.check_model(J, h)
    ref, xs = _check_reference(ref, h.size), _check_xs(xs)
    if beta_max <= 0:
        raise ValueError(f"beta_max must be positive, got {beta_max}")
    target = float(ising.energy(ref, J, h)) / h.size
    options = {"damping": damping, "max_iter": max_iter, "tol": tol}
    points, betas, state = [], [], {"H": None, "fields": None}
    for x in progress_bar(xs, desc="iso-energy curve", disable=not progress):
        found = [b for b in betas[-2:] if np.isfinite(b)]
        guess = 2 * found[1] - found[0] if len(found) == 2 else found[0] if found else 1.0  # extrapolated along x
        point, beta = _iso_point(J, h, ref, x, target, guess, beta_max, beta_tol, state, options)
        points.append(point)
        betas.append(beta)
    return _collect(xs, points, betas)


def tap_free_energy(J, h, m, beta: float = 1.0) -> np.ndarray:
    """The TAP free energy per weight F(m)/N (Appendix I, eq. 25; Plefka's expansion to second order) of
    magnetisations ``m`` (N,) or (n, N):

        -β F = Σ_i S(m_i) + β Σ_i h_i m_i + β Σ_{i<j} J_ij m_i m_j
               + (β²/2) Σ_{i<j} J_ij² (1 - m_i²)(1 - m_j²),

    S(m) = -(1+m)/2 ln((1+m)/2) - (1-m)/2 ln((1-m)/2) the entropy of a spin of mean m.  Its stationary points
    solve the TAP equations (:func:`tap_states`)."""
    J, h = ising.check_model(J, h)
    M = np.atleast_2d(np.asarray(m, dtype=np.float64))
    if M.shape[1] != h.size or np.any(np.abs(M) > 1):
        raise ValueError(f"magnetisations must have shape (..., {h.size}) and lie in [-1, 1], got shape {M.shape}")
    up, down = (1.0 + M) / 2.0, (1.0 - M) / 2.0
    entropy = -(xlogy(up, up) + xlogy(down, down)).sum(axis=1)
    spread = 1.0 - M**2
    log_z = (entropy + beta * M @ h + 0.5 * beta * np.sum((M @ J) * M, axis=1)
             + 0.25 * beta**2 * np.sum((spread @ J**2) * spread, axis=1))
    f = -log_z / (beta * h.size)
    return f if np.ndim(m) == 2 else f[0]


@dataclass(frozen=True)
class TapStates:
    """Fixed points of the TAP equations from random starts (Appendix I): magnetisations (n_starts, N), their TAP
    free energies per weight (eq. 25), whether each iteration converged, and the largest residual
    |m - tanh(...)| of the TAP equations at the returned m."""

    m: np.ndarray
    free_energy: np.ndarray
    converged: np.ndarray
    residual: np.ndarray


def tap_residual(J, h, m, beta: float = 1.0) -> np.ndarray:
    """The largest |m_i - tanh(β h_i + β Σ_j J_ij m_j - β² m_i Σ_j J_ij² (1 - m_j²))| of each row of ``m``
    (eq. 24 at a fixed point)."""
    M = np.atleast_2d(np.asarray(m, dtype=np.float64))
    onsager = beta**2 * M * ((1.0 - M**2) @ (J**2))
    return np.max(np.abs(M - np.tanh(beta * (h + M @ J) - onsager)), axis=1)


def tap_states(J, h, n_starts: int, seed: int, beta: float = 1.0, damping: float = 0.5, max_iter: int = 2000,
               tol: float = 1e-10) -> TapStates:
    """Iterate the TAP equations (Appendix I, eq. 24) from ``n_starts`` random magnetisations (uniform in
    (-1, 1)), all starts at once:

        m_i(t+1) = tanh(β h_i + β Σ_j J_ij m_j(t) - β² m_i(t-1) Σ_j J_ij² (1 - m_j(t)²)),

    the Onsager reaction term taking the previous iterate (Bolthausen's time indices), each step damped,
    m <- damping m + (1 - damping) m(t+1).  A start has converged when its largest change falls below ``tol``.
    Distinct fixed points are the (meta)stable thermodynamic states; their free energies (eq. 25, per weight)
    make the distribution of Fig. 8."""
    J, h = ising.check_model(J, h)
    if n_starts < 1 or max_iter < 1 or not 0.0 <= damping < 1.0:
        raise ValueError(f"need n_starts, max_iter >= 1 and damping in [0, 1), got {n_starts}, {max_iter}, {damping}")
    M = np.random.default_rng(seed).uniform(-1.0, 1.0, (n_starts, h.size))
    previous, J2 = M.copy(), J**2
    change = np.full(n_starts, np.inf)
    for _ in range(max_iter):
        new = np.tanh(beta * (h + M @ J) - beta**2 * previous * ((1.0 - M**2) @ J2))
        new = damping * M + (1.0 - damping) * new
        change = np.max(np.abs(new - M), axis=1)
        previous, M = M, new
        if np.all(change < tol):
            break
    return TapStates(M, tap_free_energy(J, h, M, beta), change < tol, tap_residual(J, h, M, beta))


def free_energy_groups(values, resolution: float) -> list[np.ndarray]:
    """The values sorted and cut wherever two neighbours differ by more than ``resolution``: the peaks of a
    distribution of TAP free energies (Fig. 8), one array per group."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    if values.size == 0:
        return []
    return np.split(values, np.flatnonzero(np.diff(values) > resolution) + 1)


def entropy_by_integration(n_spins: int, betas, variances) -> float:
    """The entropy at the last of ``betas`` from energy variances Var(E) along them (Appendix H, eq. 23):
    dS/dβ = β d<E>/dβ = -β Var(E), so with C = β² Var(E) the heat capacity,

        S(β) = S(0) - ∫_0^β C(β')/β' dβ' = N ln 2 - ∫_0^β β' Var_β'(E) dβ'

    (trapezoid rule; ``betas`` must start at 0 and increase)."""
    betas, variances = np.asarray(betas, dtype=np.float64), np.asarray(variances, dtype=np.float64)
    if betas.ndim != 1 or betas.size < 2 or betas[0] != 0 or np.any(np.diff(betas) <= 0):
        raise ValueError(f"betas must start at 0 and increase, got {betas}")
    if variances.shape != betas.shape:
        raise ValueError(f"need one variance per beta, got shapes {variances.shape} and {betas.shape}")
    return float(n_spins * LN2 - _trapezoid_weights(betas) @ (betas * variances))


def _trapezoid_weights(betas: np.ndarray) -> np.ndarray:
    """w with Σ_k w_k g(β_k) = the trapezoid rule's ∫ g dβ."""
    gaps = np.diff(betas)
    return 0.5 * (np.concatenate([gaps, [0.0]]) + np.concatenate([[0.0], gaps]))


@dataclass(frozen=True)
class HeatCapacityEntropy:
    """Appendix H: the entropy S at the last inverse temperature and its standard error, from the Monte Carlo
    energy variances (and their errors) at each β."""

    entropy: float
    error: float
    betas: np.ndarray
    variances: np.ndarray
    variance_errors: np.ndarray
    n_spins: int


def heat_capacity_entropy(J, h, betas, n_samples: int, seed: int, n_chains: int = 100, burn_in: int = 200,
                          thin: int = 2, n_batches: int = 10, progress: bool = False) -> HeatCapacityEntropy:
    """The entropy of the model at β = betas[-1] by heat-capacity integration (Appendix H): at each β of the grid
    (starting at 0), ``n_samples`` Metropolis samples of exp(-β E) (:func:`adaptsym.ising.metropolis_samples`,
    ``n_chains`` independent chains) give Var(E), integrated by :func:`entropy_by_integration`.  The error of each
    variance is the spread of the variances of ``n_batches`` groups of whole chains (independent of each other)
    over √n_batches; the errors of different β are independent and are propagated through the trapezoid weights.
    For the landscape at field x, pass the fields h + x σ*: the entropy is then that of the coupled measure."""
    J, h = ising.check_model(J, h)
    betas = np.asarray(betas, dtype=np.float64)
    if not 2 <= n_batches <= n_chains:
        raise ValueError(f"n_batches must lie in 2..n_chains ({n_chains}), got {n_batches}")
    variances, errors = [], []
    for k, beta in enumerate(progress_bar(betas, desc="heat capacity", disable=not progress)):
        samples, chains = ising.metropolis_samples(beta * J, beta * h, n_samples, n_chains=n_chains, burn_in=burn_in,
                                                   thin=thin, seed=seed + k, progress=False, return_chains=True)
        energies = ising.energy(samples, J, h)
        groups = [np.var(energies[chains % n_batches == b], ddof=1) for b in range(n_batches)]
        variances.append(np.var(energies, ddof=1))
        errors.append(np.std(groups, ddof=1) / np.sqrt(n_batches))
    variances, errors = np.array(variances), np.array(errors)
    entropy = entropy_by_integration(h.size, betas, variances)
    error = float(np.sqrt(np.sum((_trapezoid_weights(betas) * betas * errors) ** 2)))
    return HeatCapacityEntropy(entropy, error, betas, variances, errors, h.size)


@dataclass(frozen=True)
class Dynamics:
    """Metropolis dynamics from a reference (Fig. 9): the sweeps at which configurations were recorded (0 = the
    start), the energy per weight E/N, the overlap (1/N) Σ σ*_i s_i with the start, and the observable of each
    record (NaN without one)."""

    sweeps: np.ndarray
    energy: np.ndarray
    overlap: np.ndarray
    observed: np.ndarray


def metropolis_dynamics(J, h, start, n_sweeps: int, record_every: int, seed: int, beta: float = 1.0,
                        observe: Callable[[np.ndarray], np.ndarray] | None = None) -> Dynamics:
    """One Metropolis chain of exp(-β E) started at the configuration ``start`` (Fig. 9; Appendix B's dynamics):
    a sweep visits spins 0..N-1 in order and flips s_i with probability min(1, exp(-2 β s_i F_i)),
    F_i = h_i + Σ_j J_ij s_j, the local fields kept up to date after each flip (for one chain this is about five
    times faster than :func:`adaptsym.ising.metropolis_sweep`, which recomputes each field for many chains at once).
    The start and every ``record_every``-th sweep are recorded; ``observe`` maps the recorded configurations (R, N)
    (±1, int8) to R numbers, e.g. the test accuracy of the network each defines."""
    J, h = ising.check_model(J, h)
    s = _check_reference(start, h.size).copy()
    if n_sweeps < 0 or record_every < 1:
        raise ValueError(f"need n_sweeps >= 0 and record_every >= 1, got {n_sweeps} and {record_every}")
    rng = np.random.default_rng(seed)
    fields = J @ s + h
    records = [s.copy()]
    for sweep in range(1, n_sweeps + 1):
        log_u = np.log(rng.random(h.size))
        for i in range(h.size):
            if log_u[i] < -2.0 * beta * s[i] * fields[i]:
                s[i] = -s[i]
                fields += 2.0 * s[i] * J[i]
        if sweep % record_every == 0:
            records.append(s.copy())
    configurations = np.array(records, dtype=np.int8)
    sweeps = np.arange(len(records)) * record_every
    observed = np.full(len(records), np.nan) if observe is None else np.asarray(observe(configurations), float)
    return Dynamics(sweeps, ising.energy_density(configurations, J, h),
                    configurations @ np.asarray(start, dtype=np.float64) / h.size, observed)


# The chapter's pieces: our effective models, references, sweeps over many models and the rules that decide the
# claims of Figs. 5, 7-9.

def effective_models(configurations, regions, options) -> dict[str, tuple]:
    """Our effective Ising model (J, h) of each region of one scenario's kept configurations: the one place that
    says which fit the landscape chapter studies — the single pairwise model of the whole ensemble that matches its
    moments under Monte Carlo (pseudolikelihood then Monte Carlo Boltzmann learning, :func:`adaptsym.boltzmann.
    single_model` with Chapter 7's ``options``, so that its cached fits are reused), not one model per polarity,
    which would hide the gap between the families that Figs. 5, 8 and 9 exist to detect."""
    groups = configurations.network.numpy()
    fits = {region: boltzmann.single_model(weight_space.region_samples(configurations, region), groups, "pl+mc",
                                           options, progress=False) for region in regions}
    return {region: (fit.J, fit.h) for region, fit in fits.items()}


def block_model(models) -> tuple[np.ndarray, np.ndarray]:
    """One model of several regions side by side, (J, h) block-diagonal in the order given (no couplings between
    regions): the whole network from its LB, ITR and RB models."""
    models = [ising.check_model(J, h) for J, h in models]
    sizes = np.cumsum([0] + [len(h) for _, h in models])
    J = np.zeros((sizes[-1], sizes[-1]))
    for (block, _), start, stop in zip(models, sizes, sizes[1:]):
        J[start:stop, start:stop] = block
    return J, np.concatenate([h for _, h in models])


def accuracy_observer(widths, x, y) -> Callable[[np.ndarray], np.ndarray]:
    """The observable of Fig. 9: configurations (R, N) of a network with layer ``widths`` -> the test accuracy of
    the binary network each defines on (x, y) (:func:`adaptsym.binary.binary_accuracy`)."""
    def accuracy(configurations: np.ndarray) -> np.ndarray:
        matrices = binary.unflatten_configurations(torch.from_numpy(np.asarray(configurations, np.int8)), widths)
        return binary.binary_accuracy(matrices, x, y).double().numpy()

    return accuracy


def energy_references(candidates, J, h, quantiles: dict[str, float]) -> dict[str, np.ndarray]:
    """Reference configurations from ``candidates`` (n, N) by their energy under (J, h): for each name -> q in
    ``quantiles`` the candidate whose energy is nearest the q-quantile (the low, medium and high energy
    references of Fig. 5 and Figs. 13-14)."""
    candidates = np.asarray(candidates)
    energies = ising.energy(candidates, J, h)
    return {name: candidates[np.argmin(np.abs(energies - np.quantile(energies, q)))].astype(np.int8)
            for name, q in quantiles.items()}


@dataclass(frozen=True)
class Sweep:
    """The landscape around one reference swept both ways (Fig. 5): forward (x from -x_max up) and backward."""

    forward: Landscape
    backward: Landscape

    @property
    def area(self) -> float:
        """The hysteresis area over the fields where BP converged both ways."""
        return hysteresis_area(self.forward, self.backward, converged_only=True)

    @property
    def jump(self) -> float:
        return max(largest_jump(self.forward), largest_jump(self.backward))

    @property
    def converged(self) -> float:
        """The fraction of points at which BP converged, both directions."""
        return float(np.mean(np.concatenate([self.forward.converged, self.backward.converged])))

    def at_zero(self) -> tuple[float, float, bool]:
        """(d, s, converged) of the forward sweep at the x nearest 0: the unconstrained model, whose entropy
        does not depend on the reference."""
        k = self.forward.nearest(0.0)
        return float(self.forward.d[k]), float(self.forward.s[k]), bool(self.forward.converged[k])


def landscape_sweeps(models: dict, references: dict, x_max: float, step: float, progress: bool = False,
                     **options) -> dict:
    """:func:`sweep_both_ways` for every model and each of its references: ``models`` maps a key to (J, h),
    ``references`` the same key to {name: configuration}; returns (*key, name) -> :class:`Sweep`."""
    jobs = [(key, name, ref) for key in models for name, ref in references[key].items()]
    found = {}
    for key, name, ref in progress_bar(jobs, desc="landscapes", disable=not progress):
        found[(*key, name)] = Sweep(*sweep_both_ways(*models[key], ref, x_max, step, **options))
    return found


FIRST_ORDER_AREA = 0.01
"""A sweep has a first-order transition when its hysteresis loop, where BP converged both ways, encloses more than
this area in the (x, d) plane (d in [0, 1], x in [-3, 3]: at most 6); BP solved to tolerance 1e-4 leaves loops far
below it."""
HYSTERESIS_CRITERION = (f"first order when the hysteresis area (where BP converged both ways) exceeds "
                        f"{FIRST_ORDER_AREA} for some model of the scenario; smooth when no area does and BP converged "
                        "at every x of every sweep; otherwise undecided")


def _of_scenario(found: dict, scenario: str, what: str) -> list:
    """The values of ``found`` whose key ((scenario, region, ...)) starts with ``scenario``; at least one (else an
    error naming ``what`` they are)."""
    chosen = [value for key, value in found.items() if key[0] == scenario]
    if not chosen:
        raise ValueError(f"no {what} of scenario {scenario!r}; scenarios: {sorted({key[0] for key in found})}")
    return chosen


def scenario_hysteresis(sweeps: dict, scenario: str) -> tuple[float, float, float]:
    """The largest hysteresis area, the largest jump in d and the smallest BP-converged fraction over the sweeps
    of one scenario (keys (scenario, region, reference))."""
    chosen = _of_scenario(sweeps, scenario, "sweeps")
    return max(s.area for s in chosen), max(s.jump for s in chosen), min(s.converged for s in chosen)


def agrees_on_hysteresis(area: float, converged: float, expect_first_order: bool) -> bool | None:
    """Verdict on Fig. 5: the paper finds no hysteresis for deep nets and a first-order jump for the shallow net.
    A loop of more than :data:`FIRST_ORDER_AREA` between converged fixed points is a first-order transition; its
    absence counts only if BP converged everywhere (a failed fixed point can hide a loop).  None otherwise."""
    if area > FIRST_ORDER_AREA:
        return expect_first_order
    return None if converged < 1.0 else not expect_first_order


def record_hysteresis(ledger, sweeps: dict, scenarios, whose: str) -> None:
    """Record Fig. 5's hysteresis claim of each scenario's ``sweeps`` (``whose``: "our", "the authors'"): the largest
    area over its regions, judged by :func:`agrees_on_hysteresis` (a first-order jump expected for the shallow net)."""
    for scenario in scenarios:
        area, jump, converged = scenario_hysteresis(sweeps, scenario)
        expected = "a first-order jump (hysteresis)" if scenario == "shallow" else "no hysteresis"
        ledger.record(f"Fig. 5 hysteresis, {whose} {scenario} model", f"{expected} (§IV.1-IV.3, Fig. 5)", area,
                      agrees_on_hysteresis(area, converged, scenario == "shallow"), kind="paper",
                      criterion=HYSTERESIS_CRITERION,
                      detail=f"largest hysteresis area over the regions swept; largest jump in d {jump:.3f}; "
                             f"BP converged at {100 * converged:.0f}% of the points")


NEAR_SATURATION = 0.05
SATURATION_CRITERION = (f"relative gap (bound - s)/bound at x = 0 at most {NEAR_SATURATION}; decided when BP "
                        "converged there")


def saturation_gap(found: Landscape) -> float:
    """The relative gap of the entropy to the bound -d ln d - (1 - d) ln(1 - d) at the x nearest 0,
    (bound - s)/bound: 0 for unconstrained weights (§IV.1: the interior 'nearly saturating the upper bound')."""
    k = found.nearest(0.0)
    return float((distance_bound(found.d[k]) - found.s[k]) / distance_bound(found.d[k]))


def nearly_saturates(gap: float, converged: bool) -> bool | None:
    """Verdict: the gap is at most :data:`NEAR_SATURATION`; None when BP did not converge at x = 0."""
    return bool(gap <= NEAR_SATURATION) if converged else None


FURTHER_CRITERION = ("the over-parameterised ITR's relative gap to the bound exceeds the under-parameterised one's; "
                     "decided when BP converged at x = 0 for both")


def further_from_bound(gaps, converged) -> bool | None:
    """Verdict on §IV.2: the second gap (over-parameterised) is larger than the first (under-parameterised); None
    unless BP converged for both."""
    return bool(gaps[1] > gaps[0]) if all(converged) else None


MOST_CONSTRAINED_CRITERION = "the region with the lowest entropy per weight of the model (x = 0) is LB"


def most_constrained(entropies: dict[str, float]) -> str:
    """The region with the lowest entropy per weight (the most constrained part of the network, §IV.1)."""
    return min(entropies, key=entropies.get)


def is_most_constrained(at_zero: dict[str, Landscape], region: str) -> bool | None:
    """Verdict: ``region`` has the lowest entropy per weight of the landscapes at x = 0 (region -> one-point
    :class:`Landscape`); None unless BP converged for every region."""
    if not all(found.converged[0] for found in at_zero.values()):
        return None
    return most_constrained({r: float(found.s[0]) for r, found in at_zero.items()}) == region


ENTROPY_AGREEMENT = 0.01
ENTROPY_AGREEMENT_CRITERION = (f"|BP - heat capacity| <= 3 standard errors + {ENTROPY_AGREEMENT} per weight (the "
                               "quadrature and burn-in bias the Monte Carlo error does not count)")


def entropies_agree(difference: float, error: float) -> bool:
    """Verdict: the BP entropy and the heat-capacity entropy per weight differ by no more than three standard errors
    of the latter plus :data:`ENTROPY_AGREEMENT`."""
    return bool(abs(difference) <= 3 * error + ENTROPY_AGREEMENT)


def entropy_lines(at_zero: dict, heat: dict[str, HeatCapacityEntropy], scenario: str) -> str:
    """One line per model of its entropy per weight at x = 0 by BP (``at_zero``: key -> one-point Landscape), with
    the heat-capacity entropy of the ``scenario``'s regions beside it (``heat``: region -> result)."""
    lines = []
    for key, found in at_zero.items():
        line = f"{' '.join(key):16s} BP s {found.s[0]:.4f}{'' if found.converged[0] else ' (BP not converged)'}, " \
               f"gap to the bound {saturation_gap(found):.4f}"
        if key[0] == scenario and key[1] in heat:
            n = heat[key[1]].n_spins
            line += f"; heat capacity {heat[key[1]].entropy / n:.4f} ± {heat[key[1]].error / n:.4f}"
        lines.append(line)
    return "\n".join(lines)


def tap_peaks(states: TapStates, resolution: float) -> int:
    """The number of peaks of the distribution of TAP free energies (Fig. 8): groups of converged fixed points
    whose free energies per weight differ by more than ``resolution`` (0 when no start converged)."""
    return len(free_energy_groups(states.free_energy[states.converged], resolution))


TAP_CRITERION = ("the converged TAP free energies form one group (deep) or at least two (shallow), groups split at "
                 "gaps wider than the resolution; decided when at least half the starts converged")


def agrees_on_tap_peaks(n_peaks: int, converged_share: float, expect_several: bool) -> bool | None:
    """Verdict on Fig. 8: one peak for a deep net, two for the shallow one; None when fewer than half of the
    starts converged."""
    if converged_share < 0.5:
        return None
    return bool(n_peaks >= 2) == expect_several


def dynamics_summary(run: Dynamics, retained: float) -> str:
    """One line on a Metropolis run from a reference: accuracy of the reference and of the later records, the share
    retained, and the mean overlap with the reference of the later records."""
    later = slice(len(run.observed) // 2, None)
    return (f"reference accuracy {run.observed[0]:.3f}, later records {run.observed[later].mean():.3f} (share above "
            f"chance retained {retained:.3f}); overlap with the reference {run.overlap[later].mean():.3f}; energy per "
            f"weight {run.energy[0]:.3f} -> {run.energy[later].mean():.3f}")


def retained_accuracy(dynamics: Dynamics, chance: float) -> float:
    """How much of the reference's accuracy above chance the chain keeps in the second half of the run:
    (mean accuracy of the later records - chance) / (accuracy of the reference - chance); near 0 the dynamics has
    drifted to chance-level configurations, near 1 it stays in the reference's basin (Fig. 9)."""
    later = dynamics.observed[len(dynamics.observed) // 2:]
    return float((later.mean() - chance) / (dynamics.observed[0] - chance))


TRAPPED_SHARE = 0.5
DYNAMICS_CRITERION = (f"trapped when the later records keep more than {TRAPPED_SHARE} of the reference's accuracy "
                      "above chance, drifted to chance otherwise")


def agrees_on_dynamics(retained: float, expect_trapped: bool) -> bool:
    """Verdict on Fig. 9: deep nets drift towards chance, the shallow net stays trapped."""
    return bool(retained > TRAPPED_SHARE) == expect_trapped


def iso_energy_sweep(model, ref, x_max: float, step: float, **options) -> Sweep:
    """:func:`iso_energy_landscape` swept from -x_max to x_max in steps of ``step`` and back (Fig. 7's hysteresis
    check); ``model`` is (J, h), ``options`` are passed on."""
    return Sweep(*sweep_both_ways(*model, ref, x_max, step, landscape=iso_energy_landscape, **options))


def iso_gap(free: Landscape, iso: Landscape) -> float:
    """The largest s_free(d) - s_iso(d) at equal distance: the free landscape interpolated (linearly in d, converged
    points) at the converged iso-energy points inside its range of d.  Positive: the iso-energy curve is
    suppressed (Fig. 7)."""
    keep_free, keep_iso = free.converged, iso.converged
    order = np.argsort(free.d[keep_free])
    d_free, s_free = free.d[keep_free][order], free.s[keep_free][order]
    d_iso, s_iso = iso.d[keep_iso], iso.s[keep_iso]
    inside = (d_iso >= d_free[0]) & (d_iso <= d_free[-1]) if d_free.size else np.zeros_like(d_iso, dtype=bool)
    if not inside.any():
        return float("nan")
    return float(np.max(np.interp(d_iso[inside], d_free, s_free) - s_iso[inside]))


SUPPRESSION = 1e-3
"""The smallest entropy gap per weight counted as a suppression: above the error of interpolating the free curve
linearly between its points (Δd ≈ 0.025 apart at steps of 0.05 in x, |s''| of a few: about 3e-4)."""
SUPPRESSION_CRITERION = (f"s_free - s_iso exceeds {SUPPRESSION} per weight somewhere at equal d; decided when the "
                         "iso-energy sweep converged at every point")


def agrees_on_suppression(gap: float, converged: float) -> bool | None:
    """Verdict on Fig. 7: the iso-energy curve lies below the free landscape, by more than :data:`SUPPRESSION`
    somewhere; None unless every iso-energy point converged (and a gap could be measured)."""
    return bool(gap > SUPPRESSION) if converged == 1.0 and np.isfinite(gap) else None


def energy_minima(found: Landscape) -> int:
    """The number of local minima of the energy e (without the coupling term) along a sweep, at the converged
    points: Fig. 7's energy-distance curve has two, near the reference and near its opposite, made asymmetric by the
    fields (§IV.1)."""
    e = found.energy_uncoupled[found.converged]
    return int(np.sum((e[1:-1] < e[:-2]) & (e[1:-1] < e[2:])))


ENERGY_MINIMA_CRITERION = "exactly two local minima of e along the forward sweep; decided when BP converged everywhere"


def has_two_energy_minima(found: Landscape) -> bool | None:
    """Verdict on Fig. 7's energy-distance curve: exactly two local minima (:func:`energy_minima`); None unless BP
    converged at every point (a gap could hide or make a minimum)."""
    return energy_minima(found) == 2 if found.converged.all() else None


def scenario_tap(tap: dict, scenario: str, resolution: float) -> tuple[int, float]:
    """The most TAP free-energy peaks of any region of a scenario and the smallest share of converged starts
    (``tap``: (scenario, region) -> :class:`TapStates`)."""
    chosen = _of_scenario(tap, scenario, "TAP states")
    return max(tap_peaks(s, resolution) for s in chosen), min(float(s.converged.mean()) for s in chosen)


def whole_network_models(models: dict, scenarios) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The model of each scenario's whole network: its FULL model where one was fitted, else its LB, ITR and RB
    models side by side (:func:`block_model`, in the order of the flattened weights)."""
    return {name: models[name, "FULL"] if (name, "FULL") in models
            else block_model([models[name, region] for region in ("LB", "ITR", "RB")]) for name in scenarios}


def published_candidates(zh_models: dict, root, n_samples: int, seed: int) -> dict:
    """Reference candidates for the authors' models, (scenario, region) -> configurations: their 100 published
    configurations (the under-parameterised scenario) cut to the region, else ``n_samples`` Metropolis samples of
    the model (:class:`adaptsym.weight_space.MonteCarlo`: 100 chains, 500 sweeps of burn-in, one record every
    5)."""
    spins = zou_huang.load_configurations(root)[0] if any(s == "under-para" for s, _ in zh_models) else None
    sample = weight_space.MonteCarlo(n_samples, 100, 500, 5, seed)
    return {(s, r): spins[:, zou_huang.region_slice(s, r)] if s == "under-para" else sample(J, h)
            for (s, r), (J, h) in zh_models.items()}


def model_summary(J, h) -> str:
    """One line on a model: the largest eigenvalue of J (BP and mean field become unstable near 1 for weak
    fields), the spread of the couplings and the mean |field|."""
    couplings = ising.pair_couplings(J)
    return f"λ₁(J) {np.linalg.eigvalsh(J)[-1]:.2f}, std(J_ij) {couplings.std():.4f}, mean|h| {np.abs(h).mean():.3f}"


def sweep_summary(sweep: Sweep) -> str:
    """One line on a swept landscape: hysteresis area, largest jump, BP convergence, and d, s at x = 0."""
    d, s, converged = sweep.at_zero()
    return (f"hysteresis area {sweep.area:.4f}, largest jump {sweep.jump:.3f}, BP converged "
            f"{100 * sweep.converged:.1f}%; at x = 0: d {d:.3f}, s {s:.4f} (bound {distance_bound(d):.4f}"
            f"{'' if converged else ', BP not converged'})")


def iso_summary(free: Landscape, iso: Sweep) -> str:
    """One line on an iso-energy sweep: its β range, hysteresis area and largest gap below the free curve."""
    betas = np.concatenate([iso.forward.beta, iso.backward.beta])
    return (f"β from {np.nanmin(betas):.3f} to {np.nanmax(betas):.3f}, converged {100 * iso.converged:.1f}%, "
            f"hysteresis area {iso.area:.4f}, largest s_free - s_iso {iso_gap(free, iso.forward):.4f}")


def tap_summary(states: TapStates, resolution: float) -> str:
    """One line on TAP states: converged starts, peaks, the range of their free energies per weight."""
    f = states.free_energy[states.converged]
    spread = f"free energies {f.min():.5f} to {f.max():.5f}" if f.size else "no free energies"
    return (f"{states.converged.sum()}/{len(states.converged)} starts converged, {tap_peaks(states, resolution)} "
            f"peak(s), {spread}")
