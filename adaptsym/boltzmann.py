"""One maximum-entropy pairwise model of a whole weight ensemble, judged under Monte Carlo (Zou & Huang
Sec. III, eqs. 4-5; issue 12 of this project).

Zou & Huang fit one Ising model (eq. 4) per region whose magnetisations and pair moments match the data.
Chapter 7 found the boundary regions' ensembles made of two polarities: a single model can then match the
moments only as an ordered, two-state model, whose Monte Carlo chains must cross between the two states
for its moments to be estimated at all. This module holds what such a fit needs:

* a parallel-tempering (replica-exchange) Metropolis sampler of eq. (4), vectorised over chains, whose
  samples at beta = 1 carry the index of their (independent) chain;
* the Monte Carlo RMSE of a model against data moments, with its chain-blocked (jackknife) error and the
  part of it that Monte Carlo noise alone explains;
* Boltzmann learning (eq. 5) with model moments from persistent parallel-tempering chains, started from
  the pseudolikelihood fit (appendix E) or any model;
* a test of whether a fitted model is an ordered two-state (Mattis-like) model;
* :func:`single_model`, the cached entry point of Chapter 7: one fit per method (BP Boltzmann learning, BP
  with linear-response correlations, pseudolikelihood, pseudolikelihood followed by Monte Carlo learning),
  each reported by its Monte Carlo RMSE against the noise floor of the data.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from adaptsym import ising
from adaptsym import weight_space as ws
from adaptsym.ensembles import cached, fitted_boltzmann, fitted_pseudolikelihood
from adaptsym.progress import progress_bar
from adaptsym.train import data_fingerprint


def temperature_ladder(n_temperatures: int, beta_min: float) -> np.ndarray:
    """Inverse temperatures 1 = beta_0 > beta_1 > ... > beta_{T-1} = ``beta_min``, geometrically spaced (equal
    ratios, the usual first choice for replica exchange)."""
    if n_temperatures < 1 or not 0 < beta_min <= 1 or (n_temperatures == 1 and beta_min != 1):
        raise ValueError(f"need n_temperatures >= 1 and 0 < beta_min <= 1 (beta_min = 1 for one temperature), got "
                         f"{n_temperatures} and {beta_min}")
    return beta_min ** (np.arange(n_temperatures) / max(n_temperatures - 1, 1))


@dataclass(frozen=True)
class Tempering:
    """Parallel tempering: ``n_chains`` independent chains, each a ladder of ``n_temperatures`` replicas from
    beta = 1 down to ``beta_min`` (:func:`temperature_ladder`); one temperature is plain Metropolis.
    ``global_flips`` adds, after every sweep, the move s -> -s for every replica, accepted with probability
    min(1, exp(-2 beta h.s)): exact for eq. (4), whose pair energy is even, and the direct route between two
    states that are mirror images (the polarity flip of LB or RB reverses every weight of the region)."""

    n_chains: int = 16
    n_temperatures: int = 8
    beta_min: float = 0.3
    global_flips: bool = False

    def __post_init__(self):
        if self.n_chains < 2:
            raise ValueError(f"n_chains must be >= 2 (errors come from the spread between chains), got {self.n_chains}")
        temperature_ladder(self.n_temperatures, self.beta_min)

    @property
    def betas(self) -> np.ndarray:
        return temperature_ladder(self.n_temperatures, self.beta_min)


class TemperingChains:
    """The state of parallel-tempering chains for eq. (4): spins (N, T * C) float64, one column per replica.

    ``column[k, c]`` is the column of chain c now at inverse temperature ``betas[k]``; replica exchange swaps
    temperatures between columns (not configurations). A round is one :func:`adaptsym.ising.metropolis_sweep`
    of every replica at its temperature, the global flips if asked for, and an exchange attempt between
    neighbouring temperatures k, k + 1 of every chain, for even k and odd k in alternate rounds, accepted
    with probability min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1}))). Chains persist across
    :meth:`run` calls and across changes of (J, h), as persistent-chain learning needs.
    """

    def __init__(self, n_spins: int, tempering: Tempering, seed: int):
        self.tempering, self.betas = tempering, tempering.betas
        self.rng = np.random.default_rng(seed)
        T, C = tempering.n_temperatures, tempering.n_chains
        self.spins = self.rng.choice([-1.0, 1.0], size=(n_spins, T * C))
        self.column = np.arange(T * C).reshape(T, C)
        self.beta = np.repeat(self.betas, C)
        self.rounds = 0
        self.swaps = np.zeros(max(T - 1, 0))
        self.swap_tries = np.zeros(max(T - 1, 0))

    def run(self, J: np.ndarray, h: np.ndarray, n_rounds: int) -> np.ndarray:
        """``n_rounds`` rounds at the model (J, h) (checked by the caller); returns the beta = 1 configurations
        after each round, (n_rounds, C, N) float64."""
        energy = -0.5 * np.sum(self.spins * (J @ self.spins), axis=0) - h @ self.spins
        cold = np.empty((n_rounds, self.tempering.n_chains, len(h)))
        for r in range(n_rounds):
            energy += ising.metropolis_sweep(self.spins, J, h, self.beta, self.rng)
            if self.tempering.global_flips:
                energy += self._global_flips(h)
            self._exchange(energy)
            cold[r] = self.spins[:, self.column[0]].T
            self.rounds += 1
        return cold

    def _global_flips(self, h: np.ndarray) -> np.ndarray:
        gain = 2.0 * (h @ self.spins)  # E(-s) - E(s)
        flip = np.log(self.rng.random(len(gain))) < -self.beta * gain
        self.spins[:, flip] *= -1.0
        return np.where(flip, gain, 0.0)

    def _exchange(self, energy: np.ndarray) -> None:
        lower = np.arange(self.rounds % 2, len(self.betas) - 1, 2)
        if lower.size == 0:
            return
        a, b = self.column[lower], self.column[lower + 1]  # (pairs, C)
        log_ratio = (self.betas[lower] - self.betas[lower + 1])[:, None] * (energy[a] - energy[b])
        accept = np.log(self.rng.random(a.shape)) < log_ratio
        self.column[lower] = np.where(accept, b, a)
        self.column[lower + 1] = np.where(accept, a, b)
        self.beta[self.column] = self.betas[:, None]
        self.swaps[lower] += accept.sum(axis=1)
        self.swap_tries[lower] += accept.shape[1]

    @property
    def swap_rate(self) -> np.ndarray:
        """The fraction of accepted exchanges between each pair of neighbouring temperatures."""
        return self.swaps / np.maximum(self.swap_tries, 1)


@dataclass(frozen=True)
class TemperedSamples:
    """Samples of eq. (4) at beta = 1 (int8, (n, N)), the chain of each row (chains are independent, the rows
    of one chain are not), and the exchange acceptance between neighbouring temperatures."""

    samples: np.ndarray
    chains: np.ndarray
    swap_rate: np.ndarray


def parallel_tempering(J, h, n_records: int, tempering: Tempering = Tempering(), burn_in: int = 200,
                       thin: int = 1, seed: int = 0, progress: bool = True,
                       chains: TemperingChains | None = None) -> TemperedSamples:
    """Replica-exchange Metropolis samples of eq. (4) at beta = 1 (:class:`TemperingChains`): after ``burn_in``
    rounds, every chain's beta = 1 replica is recorded every ``thin`` rounds, ``n_records`` times; row r is
    record r // C of chain r % C. ``chains`` continues existing chains (e.g. those of learning) instead of
    starting new ones from random configurations; their own tempering and random stream are then used, not
    ``tempering`` and ``seed``."""
    J, h = ising.check_model(J, h)
    if n_records < 1 or thin < 1 or burn_in < 0:
        raise ValueError(f"need n_records, thin >= 1 and burn_in >= 0, got {n_records}, {thin}, {burn_in}")
    state = TemperingChains(h.size, tempering, seed) if chains is None else chains
    tempering = state.tempering
    bar = progress_bar(total=burn_in + thin * n_records, desc="parallel tempering", disable=not progress)
    for _ in range(burn_in):
        state.run(J, h, 1)
        bar.update()
    records = np.empty((n_records, tempering.n_chains, h.size), dtype=np.int8)
    for r in range(n_records):
        records[r] = state.run(J, h, thin)[-1]
        bar.update(thin)
    bar.close()
    return TemperedSamples(records.reshape(-1, h.size), np.tile(np.arange(tempering.n_chains), n_records),
                           state.swap_rate)


@dataclass(frozen=True)
class MonteCarloRMSE:
    """The :func:`adaptsym.ising.moment_rmse` of a model's Monte Carlo moments against data moments, its
    chain-blocked jackknife error, and ``noise``, the RMSE that Monte Carlo noise alone gives a model whose
    exact moments equal the data's (sqrt of the mean squared chain-blocked standard error)."""

    rmse: float
    error: float
    noise: float
    swap_rate: np.ndarray

    @property
    def excess(self) -> float:
        """:func:`excess_rmse` of this RMSE."""
        return excess_rmse(self.rmse, self.noise)


def excess_rmse(rmse: float, mc_noise: float) -> float:
    """The RMSE beyond Monte Carlo noise, sqrt(max(rmse^2 - mc_noise^2, 0)): an estimate of the RMSE between the
    model's exact moments and the data's (the two errors add in quadrature)."""
    return float(np.sqrt(max(rmse**2 - mc_noise**2, 0.0)))


def monte_carlo_noise(samples, chains) -> float:
    """The RMSE that Monte Carlo noise alone gives: :func:`adaptsym.ising.moment_rmse` of the chain-blocked standard
    errors of the moments of ``samples`` (:func:`adaptsym.ising.moment_errors`) against zero."""
    return ising.moment_rmse(*ising.moment_errors(samples, chains), 0.0, 0.0)


def monte_carlo_rmse(sampled: TemperedSamples, m_data, C_data) -> MonteCarloRMSE:
    """:class:`MonteCarloRMSE` of Monte Carlo samples against data moments, errors blocked by chain."""
    rmse, error = ising.moment_rmse_jackknife(sampled.samples, sampled.chains, m_data, C_data)
    return MonteCarloRMSE(rmse, error, monte_carlo_noise(sampled.samples, sampled.chains), sampled.swap_rate)


def within_noise(rmse: float, floor: float, mc_noise: float) -> bool:
    """Verdict of "the model's Monte Carlo moments match the data within noise": the Monte Carlo RMSE is no
    larger than sqrt(floor^2 + mc_noise^2), the RMSE expected of a model whose moments are the population's
    (the data's sampling noise, the floor of :func:`adaptsym.ising.noise_floor`, and the Monte Carlo noise
    add in quadrature); equivalently, :func:`excess_rmse` <= floor."""
    return bool(rmse <= np.hypot(floor, mc_noise))


@dataclass(frozen=True)
class Learning:
    """Persistent-chain Boltzmann learning (eq. 5): step size ``lr / (1 + t / decay)`` at step t (decreasing,
    as stochastic approximation needs), heavy-ball ``momentum``, ``rounds`` tempering rounds per step, at most
    ``max_steps`` steps taken in blocks of ``window`` steps, each block's models averaged and its Monte Carlo
    moments pooled; ``burn_in`` rounds at the starting model before the first step and before the final
    evaluation, whose ``n_records`` records (one every ``thin`` rounds) give the reported Monte Carlo RMSE."""

    lr: float = 0.002
    momentum: float = 0.0
    decay: float = 100.0
    rounds: int = 2
    max_steps: int = 300
    window: int = 50
    burn_in: int = 100
    n_records: int = 300
    thin: int = 2

    def __post_init__(self):
        for name in ("lr", "decay"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum}")
        for name in ("rounds", "window", "n_records", "thin"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps < 0 or self.burn_in < 0:
            raise ValueError(f"max_steps and burn_in must be >= 0, got {self.max_steps} and {self.burn_in}")


@dataclass(frozen=True)
class LearnedModel:
    """Result of :func:`learn_monte_carlo`: the model (the average of the last block's models), the RMSE trace
    (one value per block of ``window`` steps: its pooled Monte Carlo moments against the data's), the steps
    taken, whether a block reached the floor, and the final :class:`MonteCarloRMSE` of the returned model,
    measured on its Monte Carlo samples ``sampled``."""

    J: np.ndarray
    h: np.ndarray
    rmse_trace: np.ndarray
    steps: int
    converged: bool
    final: MonteCarloRMSE
    sampled: TemperedSamples


def learn_monte_carlo(m_data, C_data, J, h, floor: float | None, tempering: Tempering = Tempering(),
                      learning: Learning = Learning(), seed: int = 0, progress: bool = True) -> LearnedModel:
    """Boltzmann learning of eq. (5) with Monte Carlo model moments from persistent parallel-tempering chains
    (:class:`TemperingChains`, continued across parameter updates), started from the model (J, h), e.g. the
    pseudolikelihood fit: h += lr_t (m_data - m_model), J_ij += lr_t (C_data - C_model)_ij, with momentum, the
    model moments those of the step's own rounds.

    Steps come in blocks of ``learning.window``. The learned model is the average of the last block's models
    (Polyak-Ruppert averaging, which removes most of the Monte Carlo noise of single iterates). Learning stops
    after a block whose pooled moments are within sqrt(floor^2 + their chain-blocked Monte Carlo noise^2) of the
    data's (:func:`within_noise`; never when ``floor`` is None) or after ``learning.max_steps`` steps; then the
    chains are run on at the learned model for the final, chain-blocked Monte Carlo RMSE."""
    J, h = ising.check_model(J, h)
    m_data, C_data = ising.check_moments(m_data, C_data)
    if h.size != m_data.size:
        raise ValueError(f"the model has {h.size} spins and the data {m_data.size}")
    off = 1.0 - np.eye(h.size)
    chains = TemperingChains(h.size, tempering, seed)
    chains.run(J, h, learning.burn_in)
    trace, converged, block = [], False, []
    velocity_h, velocity_J = np.zeros_like(h), np.zeros_like(J)
    model_J, model_h = J, h
    bar = progress_bar(range(learning.max_steps), desc="Monte Carlo learning", disable=not progress)
    for step in bar:
        cold = chains.run(J, h, learning.rounds).reshape(-1, h.size)
        block.append((J, h, cold.astype(np.int8)))
        rate = learning.lr / (1.0 + step / learning.decay)
        velocity_h = learning.momentum * velocity_h + (m_data - cold.mean(axis=0))
        velocity_J = learning.momentum * velocity_J + (C_data - cold.T @ cold / len(cold)) * off
        h, J = h + rate * velocity_h, J + rate * velocity_J
        ising.check_learning_finite(step, learning.lr, h, J)
        if len(block) == learning.window or step == learning.max_steps - 1:
            model_J, model_h = np.mean([b[0] for b in block], axis=0), np.mean([b[1] for b in block], axis=0)
            pooled = np.concatenate([b[2] for b in block])
            trace.append(ising.moment_rmse(m_data, C_data, *ising.sample_moments(pooled)))
            bar.set_postfix(rmse=f"{trace[-1]:.4f}")
            chain = np.arange(len(pooled)) % tempering.n_chains
            block = []
            if floor is not None and within_noise(trace[-1], floor, monte_carlo_noise(pooled, chain)):
                converged = True
                break
    final = parallel_tempering(model_J, model_h, learning.n_records, tempering, learning.burn_in, learning.thin,
                               seed, progress=False, chains=chains)
    return LearnedModel(model_J, model_h, np.array(trace), step + 1 if learning.max_steps else 0, converged,
                        monte_carlo_rmse(final, m_data, C_data), final)


MATTIS_SHARE = 0.5
"""A model is rank-one dominated when its leading eigenvalue carries at least this share of the couplings' squared
Frobenius norm, lambda_1^2 / sum_k lambda_k^2 (a Mattis model J = (J0 / N)(xi xi^T - I): (N - 1) / N; a random
Sherrington-Kirkpatrick-like J: about 4 / N)."""


@dataclass(frozen=True)
class MattisTest:
    """Whether a model is an ordered two-state (Mattis-like) model: ``share``, the share of J's squared Frobenius
    norm in its largest eigenvalue ``leading`` (:data:`MATTIS_SHARE`), and the :func:`adaptsym.weight_space.bimodality`
    of the model's Monte Carlo samples projected on the leading eigenvector of their own correlation matrix (the
    direction along which the model's configurations differ most: xi for a Mattis model)."""

    share: float
    leading: float
    bimodality: ws.Bimodality


def mattis_test(J, sampled: TemperedSamples, n_bootstrap: int = 100, max_points: int = 400,
                seed: int = 0) -> MattisTest:
    """:class:`MattisTest` of couplings J and Monte Carlo samples of the model. At most ``max_points`` samples,
    evenly spaced over the records (all chains of a record together), are projected, so that the bootstrap of the
    bimodality test, which takes the points as independent, is not fooled by many near-identical successive
    records."""
    values = np.linalg.eigvalsh(np.asarray(J, dtype=np.float64))
    total = np.sum(values**2)
    rows = ws.even_subset(len(sampled.samples), max_points)
    projection = ising.mode_projection(sampled.samples[rows].astype(np.float64), ising.leading_mode(sampled.samples)[1])
    return MattisTest(float(values[-1] ** 2 / total) if total > 0 else 0.0, float(values[-1]),
                      ws.bimodality(projection, n_bootstrap, seed))


TWO_STATE_CRITERION = ("the model's Monte Carlo samples are bimodal along the leading eigenvector of their correlation "
                       "matrix (weight_space.is_bimodal)")
MATTIS_CRITERION = (f"two states ({TWO_STATE_CRITERION}) and J rank-one dominated: its leading eigenvalue carries at "
                    f"least {MATTIS_SHARE} of J's squared Frobenius norm")


def is_two_state(test: MattisTest) -> bool:
    """Verdict of "the model has two states": its samples are bimodal along their leading correlation mode
    (:func:`adaptsym.weight_space.is_bimodal`)."""
    return ws.is_bimodal(test.bimodality)


def is_mattis(test: MattisTest) -> bool:
    """Verdict of "the model is an ordered, two-state (Mattis-like) model": two states (:func:`is_two_state`) *and* J
    rank-one dominated (share >= :data:`MATTIS_SHARE`). A rank-one model in its paramagnetic phase (one state) fails
    the first condition; a model whose two states come from many couplings rather than one pattern, or a random
    (spin-glass-like) J, fails the second."""
    return bool(test.share >= MATTIS_SHARE and is_two_state(test))


METHODS = ("bp", "bp+lr", "pl", "pl+mc")
"""Single models of an ensemble: BP Boltzmann learning (eq. 5, appendix C); the same with linear-response
correlations; pseudolikelihood (appendix E); pseudolikelihood followed by Monte Carlo Boltzmann learning."""


@dataclass(frozen=True)
class SingleModelOptions:
    """Settings of :func:`single_model`: ``bp`` the keyword arguments of :func:`adaptsym.ising.fit_boltzmann`
    for "bp" and "bp+lr" (Chapter 7's :class:`adaptsym.weight_space.FitOptions`, so that its cached fits are
    reused); the pseudolikelihood on ``pl_samples`` configurations spread over the networks with L1 strength
    ``pl_l1``; the tempering and learning of :func:`learn_monte_carlo` (the evaluation of every method uses
    ``learning``'s burn-in, records and thinning); ``floor_repeats`` random halves for the noise floor; the
    Mattis test's bootstrap and points, and the methods it is run for (its bimodality bootstrap costs about as
    much as a Monte Carlo evaluation)."""

    bp: dict = field(default_factory=lambda: {"lr": 0.002, "momentum": 0.9, "max_steps": 300, "patience": 10,
                                              "damping": 0.5, "bp_max_iter": 100, "bp_tol": 1e-8})
    pl_samples: int = 2048
    pl_l1: float = 0.01
    pl_max_iter: int = 300
    tempering: Tempering = Tempering()
    learning: Learning = Learning()
    floor_repeats: int = 20
    mattis_bootstrap: int = 100
    mattis_points: int = 400
    mattis_methods: tuple[str, ...] = ("pl+mc",)
    seed: int = 0


@dataclass(frozen=True)
class SingleModel:
    """One model of a whole ensemble by ``method`` (:data:`METHODS`): J, h; the Monte Carlo RMSE of its moments
    against the data's with its chain-blocked error and the part Monte Carlo noise explains; the data's noise
    floor with its error and the independent-spin RMSE; ``converged``: Monte Carlo learning reached the floor
    (pl+mc), BP learning its tolerance (bp, bp+lr; it rarely does), True for the pseudolikelihood; ``steps``: of
    Monte Carlo learning, or the BP iterate returned, 0 for the pseudolikelihood; the exchange acceptance; the :class:`MattisTest`
    numbers (None where not run); the wall time of the fit and its evaluation (when computed, not when read from the cache)."""

    method: str
    J: np.ndarray
    h: np.ndarray
    mc_rmse: float
    mc_rmse_error: float
    mc_noise: float
    floor: float
    floor_error: float
    rmse_independent: float
    converged: bool
    steps: int
    swap_rate: np.ndarray
    mattis_share: float | None
    mattis_leading: float | None
    mattis_delta_bic: float | None
    mattis_p_value: float | None
    wall_s: float

    @property
    def within_noise(self) -> bool:
        """:func:`within_noise` of the Monte Carlo RMSE."""
        return within_noise(self.mc_rmse, self.floor, self.mc_noise)

    @property
    def excess(self) -> float:
        """:func:`excess_rmse` of the Monte Carlo RMSE."""
        return excess_rmse(self.mc_rmse, self.mc_noise)

    @property
    def mattis(self) -> MattisTest | None:
        if self.mattis_share is None:
            return None
        return MattisTest(self.mattis_share, self.mattis_leading,
                          ws.Bimodality(self.mattis_delta_bic, self.mattis_p_value, 0))

    @property
    def is_two_state(self) -> bool | None:
        """:func:`is_two_state` of the model (None where the test was not run)."""
        return None if self.mattis is None else is_two_state(self.mattis)

    @property
    def is_mattis(self) -> bool | None:
        """:func:`is_mattis` of the model (None where the test was not run)."""
        return None if self.mattis is None else is_mattis(self.mattis)


def _mattis_fields(test: MattisTest | None) -> dict:
    """The :class:`SingleModel` fields of a Mattis test (None each where it was not run)."""
    values = (None,) * 4 if test is None else (test.share, test.leading, test.bimodality.delta_bic,
                                                test.bimodality.p_value)
    return dict(zip(("mattis_share", "mattis_leading", "mattis_delta_bic", "mattis_p_value"), values))


def _fit_single(samples: np.ndarray, groups: np.ndarray, method: str, options: SingleModelOptions,
                progress: bool) -> dict:
    """The fit and Monte Carlo evaluation behind :func:`single_model`, as a dict of storable values."""
    start = time.perf_counter()
    m, C = ising.sample_moments(samples)
    floor, floor_error = ising.noise_floor(samples, groups, options.floor_repeats, options.seed)
    tempering, learning, converged, steps = options.tempering, options.learning, True, 0
    if method in ("bp", "bp+lr"):
        fit = fitted_boltzmann(samples, progress=progress, **options.bp, **({"linear_response": True}
                                                                         if method == "bp+lr" else {}))
        J, h, converged, steps = fit.J, fit.h, fit.converged, fit.best_step
    else:
        rows = ws.even_subset(len(samples), options.pl_samples)
        J, h = fitted_pseudolikelihood(samples[rows], l1=options.pl_l1, max_iter=options.pl_max_iter,
                                       progress=progress)
    if method == "pl+mc":
        learned = learn_monte_carlo(m, C, J, h, floor, tempering, learning, options.seed, progress)
        J, h, converged, steps = learned.J, learned.h, learned.converged, learned.steps
        sampled, evaluation = learned.sampled, learned.final
    else:
        sampled = parallel_tempering(J, h, learning.n_records, tempering, learning.burn_in, learning.thin,
                                     options.seed, progress)
        evaluation = monte_carlo_rmse(sampled, m, C)
    test = mattis_test(J, sampled, options.mattis_bootstrap, options.mattis_points, options.seed) \
        if method in options.mattis_methods else None
    return {"method": method, "J": torch.from_numpy(np.ascontiguousarray(J)), "h": torch.from_numpy(h),
            "mc_rmse": evaluation.rmse, "mc_rmse_error": evaluation.error, "mc_noise": evaluation.noise,
            "floor": floor, "floor_error": floor_error,
            "rmse_independent": ising.moment_rmse(m, C, m, np.outer(m, m)), "converged": bool(converged),
            "steps": int(steps), "swap_rate": torch.from_numpy(evaluation.swap_rate),
            **_mattis_fields(test), "wall_s": time.perf_counter() - start}


def single_model(samples, groups, method: str, options: SingleModelOptions = SingleModelOptions(),
                 progress: bool = True) -> SingleModel:
    """One pairwise model of the ±1 ``samples`` (M, N) of a region, fitted by ``method`` (:data:`METHODS`) and
    judged under Monte Carlo (parallel tempering) against the data's moments and their noise floor, whose
    resampling units are ``groups`` (the network of each configuration); cached (:func:`adaptsym.ensembles.cached`),
    so a second call with the same samples, groups, method and options costs a file read."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    samples = np.ascontiguousarray(ising.check_spins(samples, np.shape(samples)[-1]), dtype=np.int8)
    groups = np.asarray(groups)
    if groups.shape != (len(samples),):
        raise ValueError(f"groups must hold one label per configuration ({len(samples)}), got shape {groups.shape}")
    key = {"samples": data_fingerprint(torch.from_numpy(samples)),
           "groups": data_fingerprint(torch.from_numpy(np.ascontiguousarray(groups))),
           "method": method, "options": asdict(options)}
    state = cached("single-model", key, lambda: _fit_single(samples, groups, method, options, progress))
    return SingleModel(**{name: value.numpy() if isinstance(value, torch.Tensor) else value
                          for name, value in state.items()})


def chapter_options(fit: ws.FitOptions, pl_samples: int, pl_l1: float, pl_max_iter: int, pt_chains: int,
                    pt_temperatures: int, pt_beta_min: float, mc_fit_lr: float, mc_fit_steps: int, mc_fit_window: int,
                    mc_fit_burn_in: int, mc_fit_records: int, floor_repeats: int, bootstrap: int,
                    seed: int) -> SingleModelOptions:
    """:class:`SingleModelOptions` from Chapter 7's parameters, its BP fits those of :class:`ws.FitOptions` (so that
    the chapter's cached BP fits are reused): tempering with global flips, the move that crosses the polarities."""
    return SingleModelOptions(asdict(fit), pl_samples, pl_l1, pl_max_iter,
                              Tempering(pt_chains, pt_temperatures, pt_beta_min, global_flips=True),
                              Learning(lr=mc_fit_lr, max_steps=mc_fit_steps, window=mc_fit_window,
                                       burn_in=mc_fit_burn_in, n_records=mc_fit_records, thin=1),
                              floor_repeats, bootstrap, seed=seed)


def region_single_models(region_models: dict, methods, options: SingleModelOptions
                         ) -> dict[tuple[str, str, str], SingleModel]:
    """:func:`single_model` by each of ``methods`` for every region of ``region_models`` ((scenario, region) ->
    :class:`adaptsym.weight_space.RegionModel`), keyed (scenario, region, method)."""
    return {(scenario, region, method): single_model(model.samples, model.groups, method, options, progress=False)
            for (scenario, region), model in region_models.items() for method in methods}


SINGLE_COLUMNS = ["scenario", "region", "method", "floor", "independent", "Monte Carlo RMSE", "MC noise",
                  "within noise", "steps", "two states", "Mattis share of J"]


def single_model_row(key: tuple[str, str, str], model: SingleModel) -> list[str]:
    """A line of :data:`SINGLE_COLUMNS`: the model's Monte Carlo RMSE against the data's noise floor."""
    def yes_no(value):
        return "-" if value is None else ("yes" if value else "no")

    return [*key, f"{model.floor:.4f} ± {model.floor_error:.4f}", f"{model.rmse_independent:.4f}",
            f"{model.mc_rmse:.4f} ± {model.mc_rmse_error:.4f}", f"{model.mc_noise:.4f}", yes_no(model.within_noise),
            str(model.steps), yes_no(model.is_two_state),
            "-" if model.mattis_share is None else f"{model.mattis_share:.3f}"]


SINGLE_CRITERION = ("Monte Carlo RMSE <= sqrt(floor^2 + MC noise^2); decided where the independent-spin model is "
                    "beyond the floor and the region has more networks than spins")


def reproduces_under_monte_carlo(model: SingleModel, is_decidable: bool) -> bool | None:
    """Verdict of "one pairwise model reproduces the ensemble's moments" (eq. 4, Fig. 3b) under Monte Carlo:
    :attr:`SingleModel.within_noise`; None where the independent-spin model is already within the noise floor
    (no pair structure to reproduce) or the region is not decidable."""
    if not is_decidable or model.rmse_independent <= model.floor:
        return None
    return model.within_noise
