"""The Sherrington-Kirkpatrick spin glass, the physical side of Li's eq. 17.

Li (§II.5.2) sets the plasticity order parameter ||grad R||^2 = sum over pairs of first-order circuit
perturbations (eq. 15) beside the spin-glass order parameter E_rho[sum_ij sigma_i sigma_j] (eq. 17).  The SK model
makes the latter concrete: n Ising spins, H(sigma) = -sum_{i<j} J_ij sigma_i sigma_j with J_ij ~ N(0, 1/n), a glass
transition at T_c = 1 (in the limit n -> oo).  Its order parameter is the overlap of two independent replicas,
q = (1/n) sum_i sigma^a_i sigma^b_i: the Edwards-Anderson parameter q_EA^2 = [<q^2>] is ~1/n above T_c and finite
below it, and the overlap distribution P(q) turns from one peak at 0 into two peaks at +-q_EA.

Exact enumeration (n <= 16) checks the Monte Carlo; parallel tempering (replica exchange between neighbouring
temperatures) equilibrates it; :func:`equilibration_check` applies the test of Katzgraber, Palassini and Young
(2001): for Gaussian couplings, integration by parts gives, disorder-averaged and at equilibrium,
e = [<H>]/n = -(beta/2)(1 - [<q^2>]), and the two sides approach each other from opposite sides as runs lengthen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from adaptsym.progress import progress_bar

MAX_EXACT_SPINS = 16


def sk_couplings(n: int, n_samples: int = 1, seed: int = 0) -> torch.Tensor:
    """``n_samples`` symmetric coupling matrices with J_ij ~ N(0, 1/n) and zero diagonal, (n_samples, n, n)."""
    if n < 2 or n_samples < 1:
        raise ValueError(f"need n >= 2 spins and n_samples >= 1; got n={n}, n_samples={n_samples}")
    generator = torch.Generator().manual_seed(seed)
    upper = torch.triu(torch.randn(n_samples, n, n, generator=generator, dtype=torch.float64), diagonal=1) / n ** 0.5
    return upper + upper.transpose(1, 2)


def all_states(n: int) -> torch.Tensor:
    """Every configuration of n spins as a (2^n, n) float64 matrix of +-1."""
    if n > MAX_EXACT_SPINS:
        raise ValueError(f"exact enumeration is limited to n <= {MAX_EXACT_SPINS} spins; got {n}")
    bits = (torch.arange(2 ** n)[:, None] >> torch.arange(n)) & 1
    return (1 - 2 * bits).to(torch.float64)


def energies(J: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """H(sigma) = -sum_{i<j} J_ij sigma_i sigma_j = -sigma^T J sigma / 2, over the last axis of ``sigma``."""
    return -0.5 * torch.einsum("...i,...ij,...j->...", sigma, J, sigma)


def exact_sk(J: torch.Tensor, temperatures: Sequence[float]) -> dict[str, torch.Tensor]:
    """Exact equilibrium of each coupling matrix at each temperature, by enumerating all 2^n states.

    Returns, with shape (samples, temperatures): ``energy`` <H>/n, ``q2`` <q^2> and ``q_abs`` <|q|> for the
    overlap of two independent replicas; ``p_q`` (samples, temperatures, n + 1), the exact overlap distribution on
    ``q_support`` = (-1, -1 + 2/n, ..., 1), from the joint law of the two replicas (a (2^n x 2^n) contraction).
    """
    J = J if J.ndim == 3 else J[None]
    n = J.shape[-1]
    states = all_states(n)
    beta = 1 / torch.as_tensor(temperatures, dtype=torch.float64)
    h = energies(J[:, None], states[None])                                    # (S, 2^n)
    log_w = -beta[None, :, None] * h[:, None, :]                              # (S, T, 2^n)
    p = torch.softmax(log_w, dim=-1)
    overlap_index = ((states @ states.T + n) / 2).round().long()              # q = 2 k / n - 1 -> k
    joint = p[..., :, None] * p[..., None, :]                                 # (S, T, 2^n, 2^n)
    p_q = torch.zeros(*p.shape[:2], n + 1, dtype=torch.float64)
    p_q.scatter_add_(-1, overlap_index.reshape(1, 1, -1).expand(*p.shape[:2], -1), joint.reshape(*p.shape[:2], -1))
    support = torch.linspace(-1, 1, n + 1, dtype=torch.float64)
    return {"energy": (p * h[:, None, :]).sum(-1) / n, "q2": (p_q * support ** 2).sum(-1),
            "q_abs": (p_q * support.abs()).sum(-1), "p_q": p_q, "q_support": support}


@dataclass(frozen=True)
class TemperingRun:
    """The time series of a parallel-tempering run, one entry per recorded sweep (every ``thin`` sweeps).

    ``energy`` (samples, temperatures, replicas, records) is H/n of each chain in the slot of each temperature;
    ``overlap`` (samples, temperatures, records) is q between replicas 0 and 1; ``swap_rate`` (samples,
    temperatures - 1) the acceptance of exchanges between neighbouring temperatures; ``sweeps`` the sweep count of
    each record.
    """

    temperatures: np.ndarray
    n: int
    sweeps: np.ndarray
    energy: np.ndarray
    overlap: np.ndarray
    swap_rate: np.ndarray

    def window(self, start: int, stop: int | None = None) -> "TemperingRun":
        """The records with start <= sweep < stop."""
        keep = (self.sweeps >= start) & (self.sweeps < (stop if stop is not None else np.inf))
        return TemperingRun(self.temperatures, self.n, self.sweeps[keep], self.energy[..., keep],
                            self.overlap[..., keep], self.swap_rate)

    def equilibrium(self) -> "TemperingRun":
        """The second half of the run, the part that averages are taken over."""
        return self.window(int(self.sweeps[-1]) // 2 + 1)


def parallel_tempering(J: torch.Tensor, temperatures: Sequence[float], sweeps: int, seed: int = 0,
                       replicas: int = 2, thin: int = 1, progress: bool = True) -> TemperingRun:
    """Metropolis Monte Carlo with replica exchange for every coupling matrix in ``J``.

    For each disorder sample and temperature, ``replicas`` independent chains (so that overlaps can be measured)
    make single-spin Metropolis sweeps (spins in order; local fields are kept up to date, so a flip costs O(n)),
    all chains at once; after every sweep, configurations at neighbouring temperatures are exchanged with the
    Metropolis probability min(1, exp((beta_t - beta_{t+1})(E_t - E_{t+1}))).  Chains start from random states.
    """
    if replicas < 2 or sweeps < 1 or thin < 1:
        raise ValueError(f"need replicas >= 2, sweeps >= 1, thin >= 1; got {replicas}, {sweeps}, {thin}")
    J = (J if J.ndim == 3 else J[None]).numpy()
    n_samples, n = J.shape[:2]
    temperatures = np.asarray(temperatures, dtype=np.float64)
    beta = (1 / temperatures)[None, :, None]
    rng = np.random.default_rng(seed)
    sigma = rng.choice((-1.0, 1.0), size=(n_samples, len(temperatures), replicas, n))
    field = np.einsum("stri,sij->strj", sigma, J)
    swaps = np.zeros((n_samples, len(temperatures) - 1))
    records = []
    for sweep in progress_bar(range(1, sweeps + 1), desc="parallel tempering", disable=not progress):
        uniforms = rng.random((n, *sigma.shape[:3]))
        for i in range(n):
            delta = 2 * sigma[..., i] * field[..., i]
            flip = uniforms[i] < np.exp(-beta * delta)
            change = np.where(flip, -2 * sigma[..., i], 0.0)
            sigma[..., i] += change
            field += change[..., None] * J[:, None, None, i, :]
        energy = -0.5 * (sigma * field).sum(-1)
        for t in range(len(temperatures) - 1):
            log_accept = (1 / temperatures[t] - 1 / temperatures[t + 1]) * (energy[:, t] - energy[:, t + 1])
            accept = rng.random(log_accept.shape) < np.exp(np.minimum(log_accept, 0))
            swaps[:, t] += accept.mean(-1)
            for array in (sigma, field, energy[..., None]):
                lower, upper = array[:, t].copy(), array[:, t + 1].copy()
                array[:, t] = np.where(accept[..., None], upper, lower)
                array[:, t + 1] = np.where(accept[..., None], lower, upper)
        if sweep % thin == 0:
            records.append((sweep, energy / n, (sigma[:, :, 0] * sigma[:, :, 1]).mean(-1)))
    return TemperingRun(temperatures, n, np.array([r[0] for r in records]),
                        np.stack([r[1] for r in records], axis=-1), np.stack([r[2] for r in records], axis=-1),
                        swaps / sweeps)


def blocked_error(series: np.ndarray, blocks: int = 10) -> np.ndarray:
    """Standard error of the time mean along the last axis from ``blocks`` contiguous block means."""
    usable = series.shape[-1] // blocks * blocks
    means = series[..., :usable].reshape(*series.shape[:-1], blocks, -1).mean(-1)
    return means.std(-1, ddof=1) / np.sqrt(blocks)


@dataclass(frozen=True)
class SpinGlassObservables:
    """Disorder-averaged equilibrium observables per temperature, with standard errors.

    Errors combine, per sample, the blocked error of the time mean, and, over samples, the spread of the sample
    means (the disorder average's own error); with one sample only the former.
    """

    temperatures: np.ndarray
    energy: np.ndarray
    energy_se: np.ndarray
    q2: np.ndarray
    q2_se: np.ndarray
    q_support: np.ndarray
    p_q: np.ndarray

    @property
    def q_ea(self) -> np.ndarray:
        """The Edwards-Anderson order parameter sqrt([<q^2>])."""
        return np.sqrt(self.q2)


def observables(run: TemperingRun, blocks: int = 10) -> SpinGlassObservables:
    """[<H>]/n, [<q^2>] and the disorder-averaged P(q) over the second half of ``run``."""
    equilibrium = run.equilibrium()
    energy = equilibrium.energy.mean(2)                                        # replicas averaged: (S, T, records)
    q2 = equilibrium.overlap ** 2
    support = np.linspace(-1, 1, run.n + 1)
    index = np.rint((equilibrium.overlap + 1) * run.n / 2).astype(int)
    p_q = np.stack([np.bincount(row, minlength=run.n + 1) for row in index.transpose(1, 0, 2).reshape(
        len(run.temperatures), -1)]) / index[:, 0].size
    return SpinGlassObservables(run.temperatures, energy.mean((0, 2)), _disorder_error(energy, blocks),
                                q2.mean((0, 2)), _disorder_error(q2, blocks), support, p_q)


def _disorder_error(series: np.ndarray, blocks: int) -> np.ndarray:
    """Error of the disorder average of time means, series (samples, temperatures, records)."""
    within = np.sqrt((blocked_error(series, blocks) ** 2).sum(0)) / series.shape[0]
    if series.shape[0] == 1:
        return within
    between = series.mean(-1).std(0, ddof=1) / np.sqrt(series.shape[0])
    return np.maximum(within, between)


def equilibration_check(run: TemperingRun, blocks: int = 4) -> list[dict[str, float]]:
    """The Katzgraber-Palassini-Young test at every temperature: over windows of doubling length (sweeps
    [2^(k-1), 2^k)), e measured directly against e from the overlap, -(beta/2)(1 - [<q^2>]).

    Returns one row per (window, temperature) with ``sweeps`` (the window's end), ``temperature``, ``energy``,
    ``energy_from_q`` and their combined standard error ``se``.
    """
    rows = []
    stop = 2
    while stop <= run.sweeps[-1] + 1:
        part = run.window(stop // 2, stop)
        if part.sweeps.size >= 2 * blocks:
            energy = part.energy.mean(2)
            q2 = part.overlap ** 2
            e_q = -(1 - q2.mean((0, 2))) / (2 * run.temperatures)
            se = np.hypot(_disorder_error(energy, blocks), _disorder_error(q2, blocks) / (2 * run.temperatures))
            for t, temperature in enumerate(run.temperatures):
                rows.append({"sweeps": stop, "temperature": float(temperature),
                             "energy": float(energy.mean((0, 2))[t]), "energy_from_q": float(e_q[t]),
                             "se": float(se[t])})
        stop *= 2
    return rows
