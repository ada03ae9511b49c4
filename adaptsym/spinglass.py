"""The Sherrington-Kirkpatrick spin glass, the physical side of Li's eq. 17.

Li (§II.5.2) sets the plasticity order parameter ||grad R||^2 = sum over pairs of first-order circuit
perturbations (eq. 15) beside the spin-glass order parameter E_rho[sum_ij sigma_i sigma_j] (eq. 17).  The SK model
makes the latter concrete: n Ising spins, H(sigma) = -sum_{i<j} J_ij sigma_i sigma_j with J_ij ~ N(0, 1/n), a glass
transition at T_c = 1 (in the limit n -> oo).  Read literally, eq. 17 is n^2 <m^2> (m the magnetisation), whose
disorder average is exactly 1/n at every temperature (gauge symmetry sigma_i -> -sigma_i, J_ij -> -J_ij); the
order parameter of the glass is its two-replica form sum_ij <sigma_i sigma_j>^2 = n^2 <q^2>, with
q = (1/n) sum_i sigma^a_i sigma^b_i the overlap of two independent replicas.  The Edwards-Anderson parameter
q_EA = sqrt([<q^2>]) is ~1/sqrt(n) above T_c and finite below it, and the overlap distribution P(q) turns from one
peak at 0 into two peaks at +-q_EA.

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
from scipy import stats

from adaptsym.device import one_cpu_thread, resolve_device
from adaptsym.progress import progress_bar

MAX_EXACT_SPINS = 16
MIN_CHECK_SAMPLES = 4  # disorder samples below which the equilibration check is inconclusive


def sk_couplings(n: int, n_samples: int = 1, seed: int = 0, device: str | torch.device = "auto") -> torch.Tensor:
    """``n_samples`` symmetric SK coupling matrices, J_ij ~ N(0, 1/n), zero diagonal: (n_samples, n, n) float64.

    Drawn on the CPU, so the same seed gives the same couplings on every device.
    """
    if n < 2 or n_samples < 1:
        raise ValueError(f"need n >= 2 spins and n_samples >= 1; got n={n}, n_samples={n_samples}")
    generator = torch.Generator().manual_seed(seed)
    upper = torch.triu(torch.randn(n_samples, n, n, generator=generator, dtype=torch.float64), diagonal=1) / n ** 0.5
    return (upper + upper.transpose(1, 2)).to(resolve_device(device))


def geometric_temperatures(low: float = 0.3, high: float = 2.0, count: int = 20) -> np.ndarray:
    """``count`` temperatures from ``low`` to ``high`` in geometric progression (the chapter's default ladder):
    exchanges between T and T + dT are accepted at a rate set by (dT/T)^2 n c(T) (c the specific heat per
    spin), so a constant ratio dT/T keeps the rates even, and puts more temperatures below T_c = 1."""
    if not 0 < low < high or count < 2:
        raise ValueError(f"need 0 < low < high and count >= 2; got low={low}, high={high}, count={count}")
    return np.geomspace(low, high, count)


def all_states(n: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """Every configuration of n spins as a (2^n, n) float64 matrix of +-1; bit i of the row index is 1 where
    sigma_i = -1, so the Hamming distance of two states is the popcount of their indices' XOR."""
    if n > MAX_EXACT_SPINS:
        raise ValueError(f"exact enumeration is limited to n <= {MAX_EXACT_SPINS} spins; got {n}")
    bits = (torch.arange(2 ** n, device=device)[:, None] >> torch.arange(n, device=device)) & 1
    return (1 - 2 * bits).to(torch.float64)


def energies(J: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """H(sigma) = -sum_{i<j} J_ij sigma_i sigma_j = -sigma^T J sigma / 2, over the last axis of ``sigma``."""
    return -0.5 * ((sigma @ J) * sigma).sum(-1)


def walsh_hadamard(x: torch.Tensor) -> torch.Tensor:
    """sum_a x_a (-1)^popcount(a & k) over the last axis (length 2^n), by n butterflies in O(n 2^n).

    Written here because numpy, scipy and torch offer only the dense Hadamard matrix, (2^n)^2 entries.
    """
    batch, size = x.shape[:-1], x.shape[-1]
    half = 1
    while half < size:
        pairs = x.reshape(*batch, size // (2 * half), 2, half)
        x = torch.stack((pairs[..., 0, :] + pairs[..., 1, :], pairs[..., 0, :] - pairs[..., 1, :]), dim=-2)
        x = x.reshape(*batch, size)
        half *= 2
    return x


def overlap_distribution(p: torch.Tensor, n: int) -> torch.Tensor:
    """Exact P(q) of two independent replicas drawn from the law ``p`` over all 2^n states (last axis), on the
    n + 1 points q = -1, -1 + 2/n, ..., 1.

    q = 1 - 2d/n with d the Hamming distance, and P(d) sums the XOR-autocorrelation A(c) = sum_a p_a p_(a xor c)
    over the c with popcount d; A is the inverse Walsh-Hadamard transform of the squared transform of p, so no
    (2^n x 2^n) joint law is ever formed.
    """
    autocorrelation = walsh_hadamard(walsh_hadamard(p) ** 2) / 2 ** n
    distance = ((1 - all_states(n, p.device)) / 2).sum(-1).long()
    p_q = torch.zeros(*p.shape[:-1], n + 1, dtype=p.dtype, device=p.device)
    return p_q.index_add_(-1, n - distance, autocorrelation)          # d = n - k for q_k = -1 + 2k/n


def exact_sk(J: torch.Tensor, temperatures: Sequence[float]) -> dict[str, torch.Tensor]:
    """Exact equilibrium of each coupling matrix at each temperature, by enumerating all 2^n states (n <= 16).

    Returns, with shape (samples, temperatures): ``energy`` <H>/n; ``q2`` <q^2> = (1/n^2) sum_ij <s_i s_j>^2 and
    ``q_abs`` <|q|> for the overlap q of two independent replicas (the spin-glass order parameter, eq. 17 in its
    replica form); ``m2`` <m^2> = (1/n^2) sum_ij <s_i s_j> (eq. 17 read literally); ``p_q`` (samples,
    temperatures, n + 1), the exact overlap distribution on ``q_support`` = (-1, -1 + 2/n, ..., 1), by
    :func:`overlap_distribution` in O(n 2^n) per sample and temperature.
    """
    J = _as_samples(J)
    n = J.shape[-1]
    temperatures = _check_temperatures(temperatures)
    states = all_states(n, J.device)
    beta = 1 / torch.as_tensor(temperatures, dtype=torch.float64, device=J.device)
    h = energies(J, states)                                                   # (S, 2^n)
    p = torch.softmax(-beta[None, :, None] * h[:, None, :], dim=-1)           # (S, T, 2^n)
    p_q = overlap_distribution(p, n)
    support = torch.linspace(-1, 1, n + 1, dtype=torch.float64, device=J.device)
    return {"energy": (p * h[:, None, :]).sum(-1) / n,
            "q2": p_q @ support ** 2, "q_abs": p_q @ support.abs(), "m2": p @ states.mean(-1) ** 2,
            "p_q": p_q, "q_support": support}


def _as_samples(J: torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
    """Coupling matrices as a float64 (samples, n, n) tensor (one (n, n) matrix becomes one sample)."""
    if J.ndim not in (2, 3) or J.shape[-1] != J.shape[-2]:
        raise ValueError(f"J must be one (n, n) coupling matrix or a (samples, n, n) stack; got shape {tuple(J.shape)}")
    return (J if J.ndim == 3 else J[None]).to(device=device or J.device, dtype=torch.float64)


def _check_temperatures(temperatures: Sequence[float]) -> np.ndarray:
    """``temperatures`` as a float64 array, or ValueError unless it is a non-empty list of positive numbers."""
    temperatures = np.asarray(temperatures, dtype=np.float64)
    if temperatures.ndim != 1 or temperatures.size < 1 or np.any(temperatures <= 0):
        raise ValueError(f"temperatures must be a non-empty list of positive numbers; got {temperatures}")
    return temperatures


@dataclass(frozen=True)
class TemperingRun:
    """The time series of a parallel-tempering run, one entry per recorded sweep.

    ``energy`` (samples, temperatures, replicas, records) is H/n of the chain in each temperature's slot;
    ``overlap`` (samples, temperatures, pairs, records) is q of each replica pair ``pairs`` (a, b), a < b;
    ``swap_rate`` (samples, temperatures - 1) the acceptance of exchanges between neighbouring temperatures (nan
    for a pair never tried, as in a run of one sweep);
    ``sweeps`` the sweep number of each record, all after the first ``burn_in`` of the ``total_sweeps``.
    A :meth:`window` keeps the whole run's swap rates.
    """

    temperatures: np.ndarray
    n: int
    burn_in: int
    total_sweeps: int
    sweeps: np.ndarray
    energy: np.ndarray
    overlap: np.ndarray
    pairs: np.ndarray
    swap_rate: np.ndarray

    def window(self, start: int, stop: int | None = None) -> "TemperingRun":
        """The records with start < sweep <= stop: a run of ``stop`` sweeps after a burn-in of ``start``."""
        stop = self.total_sweeps if stop is None else stop
        keep = (self.sweeps > start) & (self.sweeps <= stop)
        return TemperingRun(self.temperatures, self.n, max(self.burn_in, start), stop, self.sweeps[keep],
                            self.energy[..., keep], self.overlap[..., keep], self.pairs, self.swap_rate)


def parallel_tempering(J: torch.Tensor, temperatures: Sequence[float], sweeps: int, seed: int = 0,
                       replicas: int = 2, burn_in: int = 0, thin: int = 1, progress: bool = True,
                       device: str | torch.device = "auto") -> TemperingRun:
    """Metropolis Monte Carlo with replica exchange (parallel tempering) for every coupling matrix in ``J``.

    For each disorder sample and temperature, ``replicas`` independent chains (so that overlaps can be measured)
    start from random states and make single-spin Metropolis sweeps (:func:`metropolis_sweep`), all chains
    (samples x temperatures x replicas) at once; after every sweep, configurations of the same replica index at
    neighbouring temperatures are exchanged (:func:`replica_exchange`: the pairs (t, t+1) with t even after odd
    sweeps, with t odd after even ones).  Records H/n of every chain and q of every replica pair every ``thin``
    sweeps after the first ``burn_in``.  The same seed on the same device gives the same run bit for bit.
    """
    temperatures = _check_temperatures(temperatures)
    if replicas < 2 or sweeps < 1 or thin < 1 or not 0 <= burn_in < sweeps:
        raise ValueError(f"need replicas >= 2, sweeps >= 1, thin >= 1 and 0 <= burn_in < sweeps; got "
                         f"replicas={replicas}, sweeps={sweeps}, thin={thin}, burn_in={burn_in}")
    device = resolve_device(device)
    J = _as_samples(J, device)
    n_samples, n = J.shape[:2]
    generator = torch.Generator(device=device).manual_seed(seed)
    temperature = torch.as_tensor(temperatures, device=device)[None, :, None]            # (1, T, 1)
    beta = 1 / temperature
    chains = (n_samples, len(temperatures), replicas)
    # layout (spin, sample, temperature, replica): spin i of every chain is one contiguous slice
    sigma = 2 * torch.randint(0, 2, (n, *chains), generator=generator, device=device).to(torch.float64) - 1
    rows = J.permute(1, 2, 0)[..., None, None].contiguous()                 # rows[i] = J_i. as (n, samples, 1, 1)
    field = torch.einsum("ijs,jstr->istr", rows[..., 0, 0], sigma)        # h_i = sum_j J_ij sigma_j
    a, b = torch.triu_indices(replicas, replicas, 1, device=device)
    recorded = [sweep for sweep in range(burn_in + 1, sweeps + 1) if sweep % thin == 0]
    energy_series = torch.empty(len(recorded), *chains, dtype=torch.float64, device=device)
    overlap_series = torch.empty(len(recorded), *chains[:2], len(a), dtype=torch.float64, device=device)
    accepted = torch.zeros(n_samples, len(temperatures) - 1, dtype=torch.float64, device=device)
    attempts = np.array([(sweeps + 1 - t % 2) // 2 for t in range(len(temperatures) - 1)])  # of pair (t, t+1)
    record = 0
    with one_cpu_thread(device):
        for sweep in progress_bar(range(1, sweeps + 1), desc="parallel tempering", disable=not progress):
            metropolis_sweep(sigma, field, rows, temperature, generator)
            energy = -0.5 * (sigma * field).sum(0)                                      # (S, T, R)
            accepted += replica_exchange((sigma, field), energy, beta, sweep - 1, generator)
            if record < len(recorded) and sweep == recorded[record]:
                energy_series[record] = energy / n
                overlap_series[record] = (sigma[..., a] * sigma[..., b]).mean(0)
                record += 1
    return TemperingRun(temperatures, n, burn_in, sweeps, np.array(recorded, dtype=np.int64),
                        energy_series.permute(1, 2, 3, 0).cpu().numpy(),
                        overlap_series.permute(1, 2, 3, 0).cpu().numpy(), torch.stack((a, b), 1).cpu().numpy(),
                        np.divide(accepted.cpu().numpy(), attempts * replicas, out=np.full(accepted.shape, np.nan),
                                  where=attempts > 0))


def metropolis_sweep(sigma: torch.Tensor, field: torch.Tensor, rows: torch.Tensor, temperature: torch.Tensor,
                     generator: torch.Generator) -> None:
    """One Metropolis sweep, in place, of the spins ``sigma`` (n, samples, temperatures, replicas): spins
    i = 0..n-1 in turn, each flipped with probability min(1, exp(-2 beta sigma_i h_i)), in all chains by one
    tensor operation.  The local fields ``field`` h_i = sum_j J_ij sigma_j (same shape) are kept up to date,
    O(n) per chain and flip, from ``rows[i]`` = J_i. as (n, samples, 1, 1).

    The flip is accepted when sigma_i h_i < -T log(u) / 2 with u uniform, thresholds drawn for the sweep at once.
    """
    threshold = -0.5 * temperature * torch.rand(sigma.shape, generator=generator, device=sigma.device,
                                                dtype=torch.float64).log()
    for spin, h, cut, row in zip(sigma.unbind(0), field.unbind(0), threshold.unbind(0), rows.unbind(0)):
        flip = spin * (spin * h < cut)                                      # sigma_i where it flips, else 0
        spin.sub_(flip, alpha=2)
        field.addcmul_(row, flip, value=-2)


def replica_exchange(states: Sequence[torch.Tensor], energy: torch.Tensor, beta: torch.Tensor, parity: int,
                     generator: torch.Generator) -> torch.Tensor:
    """Exchange, in place, the configurations ``states`` (spins and local fields, each (n, samples, temperatures,
    replicas)) and energies (samples, temperatures, replicas) of the neighbouring temperatures t, t+1 with
    t = parity mod 2, each pair with probability min(1, exp((beta_t - beta_{t+1})(E_t - E_{t+1}))) (the Metropolis
    rule for the product of the two Boltzmann laws); returns the accepted exchanges per (sample, pair), summed
    over replicas (zero for the pairs of the other parity).

    Alternating the parity from sweep to sweep is the deterministic even-odd scheme (as in Okabe et al. 2001);
    Syed et al. (2022) show it carries configurations across the temperatures faster than random pair choices.
    """
    count = energy.shape[1] - 1
    lower, upper = slice(parity % 2, count, 2), slice(parity % 2 + 1, count + 1, 2)
    log_u = torch.rand(energy[:, lower].shape, generator=generator, device=energy.device, dtype=torch.float64).log()
    accept = log_u < (beta[:, lower] - beta[:, upper]) * (energy[:, lower] - energy[:, upper])
    for array in (*states, energy):                                    # temperature is the second-to-last axis
        below, above = array[..., lower, :], array[..., upper, :]
        below[:], above[:] = torch.where(accept, above, below), torch.where(accept, below, above)
    accepted = torch.zeros(energy.shape[0], count, dtype=torch.float64, device=energy.device)
    accepted[:, lower] = accept.sum(-1)
    return accepted


def block_length(records: int, blocks: int) -> int:
    """Records per block when ``records`` are cut into ``blocks`` contiguous blocks (the oldest left over are
    dropped)."""
    if records < blocks:
        raise ValueError(f"need at least blocks={blocks} records; got {records}")
    return records // blocks


def block_means(series: np.ndarray, blocks: int) -> np.ndarray:
    """Means of ``blocks`` contiguous blocks along the last axis, (..., blocks)."""
    length = block_length(series.shape[-1], blocks)
    return series[..., series.shape[-1] - blocks * length:].reshape(*series.shape[:-1], blocks, length).mean(-1)


def error_blocks(run: TemperingRun, blocks: int) -> int:
    """Blocks per sample that :func:`disorder_average` needs: ``blocks`` with one disorder sample, else 1 (the
    spread of the samples' time means then carries the thermal noise too)."""
    return blocks if run.energy.shape[0] == 1 else 1


def disorder_average(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[A] and its standard error from block means (samples, ..., blocks) of A: the error is the spread of the
    samples' time means over disorder samples, or, with one sample, the spread of its block means."""
    per_sample = means.mean(-1)
    if means.shape[0] > 1:
        return per_sample.mean(0), per_sample.std(0, ddof=1) / np.sqrt(means.shape[0])
    return per_sample[0], means[0].std(-1, ddof=1) / np.sqrt(means.shape[-1])


@dataclass(frozen=True)
class SpinGlassObservables:
    """Disorder-averaged equilibrium observables per temperature, each with its standard error (``*_se``):
    [<H>]/n, [<q^2>], [<|q|>] and the overlap distribution [P(q)] on ``q_support`` (temperatures, n + 1)."""

    temperatures: np.ndarray
    energy: np.ndarray
    energy_se: np.ndarray
    q2: np.ndarray
    q2_se: np.ndarray
    q_abs: np.ndarray
    q_abs_se: np.ndarray
    q_support: np.ndarray
    p_q: np.ndarray
    p_q_se: np.ndarray

    @property
    def q_ea(self) -> np.ndarray:
        """The Edwards-Anderson order parameter q_EA = sqrt([<q^2>])."""
        return np.sqrt(self.q2)

    @property
    def q_ea_se(self) -> np.ndarray:
        """Standard error of q_EA, propagated from that of [<q^2>]."""
        return self.q2_se / (2 * self.q_ea)


def observables(run: TemperingRun, burn_in: int | None = None, blocks: int = 16) -> SpinGlassObservables:
    """[<H>]/n, [<q^2>], [<|q|>] and [P(q)] over the records after sweep ``burn_in`` (None: the second half of
    the run, as in the last window of :func:`equilibration_check`), errors by :func:`disorder_average` (with one
    disorder sample, from ``blocks`` blocks of records)."""
    part = run.window(run.total_sweeps // 2 if burn_in is None else burn_in)
    blocks = error_blocks(run, blocks)
    energy, q2, q_abs = (disorder_average(block_means(x, blocks)) for x in
                         (part.energy.mean(2), (part.overlap ** 2).mean(2), np.abs(part.overlap).mean(2)))
    p_q = disorder_average(overlap_histograms(part, blocks))
    return SpinGlassObservables(run.temperatures, *energy, *q2, *q_abs, np.linspace(-1, 1, run.n + 1), *p_q)


def overlap_histograms(run: TemperingRun, blocks: int) -> np.ndarray:
    """The overlap distribution of each of ``blocks`` contiguous blocks of records, (samples, temperatures,
    n + 1, blocks), on q = -1, -1 + 2/n, ..., 1, all replica pairs pooled."""
    samples, temperatures, pairs, records = run.overlap.shape
    length = block_length(records, blocks)
    k = np.rint((run.overlap[..., records - blocks * length:] + 1) * run.n / 2).astype(np.int64)   # q -> k
    block = np.arange(blocks * length) // length
    cell = (np.arange(samples * temperatures).reshape(samples, temperatures, 1, 1) * blocks + block) * (run.n + 1)
    counts = np.bincount((cell + k).ravel(), minlength=samples * temperatures * blocks * (run.n + 1))
    counts = counts.reshape(samples, temperatures, blocks, run.n + 1) / (pairs * length)
    return np.moveaxis(counts, 2, 3)


def equilibration_check(run: TemperingRun, blocks: int = 8) -> list[dict[str, float]]:
    """The Katzgraber-Palassini-Young test: for runs of 2^k sweeps (the first 2^k sweeps of ``run``), averaged
    over their second half (2^(k-1), 2^k], the energy measured directly, [<H>]/n, against the energy from the
    overlap, -(beta/2)(1 - [<q^2>]), which equals it at equilibrium (Gaussian couplings, disorder average).

    Returns one row per (k, temperature): ``sweeps`` 2^k, ``temperature``, ``energy``, ``energy_se``,
    ``energy_from_q``, ``energy_from_q_se``, ``se``, the standard error of their difference (taken from the
    difference itself, as the two sides are correlated across samples), and ``samples``, the disorder samples.  Errors by :func:`disorder_average` (with
    one disorder sample, from ``blocks`` blocks of records); windows the run did not record whole, or with too
    few records for the blocks, are left out.
    """
    beta = 1 / run.temperatures[:, None]
    blocks = error_blocks(run, blocks)
    rows = []
    stop = 1
    while stop <= run.total_sweeps:
        part = run.window(stop // 2, stop)
        if stop // 2 >= run.burn_in and part.sweeps.size >= blocks:
            energy, from_q = part.energy.mean(2), -0.5 * beta * (1 - (part.overlap ** 2).mean(2))
            sides = [disorder_average(block_means(x, blocks)) for x in (energy, from_q, energy - from_q)]
            for t, temperature in enumerate(run.temperatures):
                rows.append({"sweeps": stop, "temperature": float(temperature),
                             "energy": float(sides[0][0][t]), "energy_se": float(sides[0][1][t]),
                             "energy_from_q": float(sides[1][0][t]), "energy_from_q_se": float(sides[1][1][t]),
                             "se": float(sides[2][1][t]), "samples": run.energy.shape[0]})
        stop *= 2
    return rows


def paramagnetic_floor(n: int, temperature: float) -> float:
    """q_EA of n spins above T_c = 1 to leading order: the spin-glass susceptibility n [<q^2>] = 1/(1 - beta^2),
    so q_EA = 1/sqrt(n (1 - beta^2))."""
    return 1 / np.sqrt(n * (1 - temperature ** -2))


def spin_glass_claims(found: SpinGlassObservables, checks: list[dict[str, float]], n: int) -> list[dict]:
    """The SK facts the chapter relies on, with criteria (``Ledger.record`` keyword arguments).

    Equilibrium: the largest |e - e(q)| / se over the temperatures of the last window of
    :func:`equilibration_check`, against the two-sided 1% level of Student's t with samples - 1 degrees of
    freedom, Bonferroni-corrected over the temperatures (se comes from the spread over disorder samples).
    Inconclusive with fewer than ``MIN_CHECK_SAMPLES`` samples: the identity holds on the disorder average only.
    """
    last = [r for r in checks if r["sweeps"] == max(c["sweeps"] for c in checks)]
    worst = max(last, key=lambda r: abs(r["energy"] - r["energy_from_q"]) / r["se"])
    z = abs(worst["energy"] - worst["energy_from_q"]) / worst["se"]
    samples = int(worst["samples"])
    if samples >= MIN_CHECK_SAMPLES:
        bound = float(stats.t.ppf(1 - 0.005 / len(last), samples - 1))
        verdict, criterion = bool(z <= bound), (f"<= {bound:.2f}, the 1% level of Student's t with "
                                                f"{samples - 1} degrees of freedom over {len(last)} temperatures")
    else:
        verdict, criterion = None, (f"none: {samples} disorder samples are too few to test an identity that holds "
                                    f"only on the disorder average ([<q^2>] is not self-averaging below T_c)")
    hot, cold = found.temperatures[-1], found.temperatures[0]
    floor = paramagnetic_floor(n, hot) if hot > 1 else float("nan")
    return [
        dict(name="the Monte Carlo is in equilibrium (Katzgraber-Palassini-Young)",
             paper="not in the paper (method check)", measured=z, agrees=verdict, kind="ours", criterion=criterion,
             detail=f"largest |e - e(q)| over its error after {worst['sweeps']} sweeps, at "
                    f"T = {worst['temperature']:g}"),
        dict(name="the spin-glass order parameter is finite below T_c = 1 (eq. 17)",
             paper="the spin-glass order parameter of eq. 17 (§II.5.2; SK: Parisi)", measured=found.q_ea[0],
             agrees=found.q_ea[0] > 3 * paramagnetic_floor(n, 2.0), kind="paper",
             criterion="> 3 x the paramagnetic floor at T = 2", detail=f"q_EA at T = {cold:g}"),
        dict(name="...and falls to its finite-size floor above T_c",
             paper="the paramagnetic phase: zero order parameter (§II.6.1)", measured=found.q_ea[-1],
             agrees=bool(found.q_ea[-1] < 1.5 * floor), kind="paper", criterion="< 1.5 x the finite-size floor",
             detail=f"q_EA at T = {hot:g}; floor 1/sqrt(n(1 - beta^2)) = {floor:.3f}"),
    ]
