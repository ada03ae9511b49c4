"""The stochastic, Bayesian-graphical definition of DNNs (Li §II.2, eqs. 5-8) and the EM reading of training.

Network.  A bias-free ReLU MLP (:func:`adaptsym.models.relu_mlp`, weights drawn from a symmetric prior) read as
a multilayer probabilistic graphical model: the gates ``H_l`` of hidden layer l are random variables in
{0,1}^{n_l}.  Given the sampled layers below, eq. 6 makes them independent Bernoulli variables, and we use
the temperature convention of :mod:`adaptsym.umwelt`: ``z_l = W_l x_{l-1}`` with the network's own weights,
``P(H_l = 1 | x_{l-1}) = σ(z_l / T)``, and ``x_l = h_l ⊙ z_l``.  At ``T = 0`` the gates are the ReLU gates
``1[z_l > 0]`` of eq. 7 and the network is the ReLU network (eq. 8's degenerate marginals).

EM.  Li reads training as a generalised EM algorithm (§II.2, last paragraphs): the forward pass infers the
gates with the weights fixed (E-step: at ``T -> 0`` the Monte Carlo sample is the ReLU pattern), and the
weights then move down the gradient of the risk with the gates fixed (M-step).  With the gates fixed the
network is *linear* in each weight matrix, so the M-step gradient is that of a gated linear network; with the
ReLU gates it is exactly backpropagation through the ReLU network.

Exactly.  On networks small enough to enumerate every joint gate state (:func:`enumerate_gates`) the reading is
computed exactly: the log-likelihood ``log μ_L(y|x)`` of the label with all hidden gates marginalised, its lower
bounds (ELBOs) and the objective backpropagation maximises (:func:`likelihood_bounds`), along the hinge and the
logistic M-steps (:func:`em_reading`); the free energy of eq. 9 that every gate layer's law minimises, and that
of the whole network along the temperature sweep (§II.3, :func:`free_energy_check`, :func:`network_free_energy`);
and the cross-entropy decomposition of the logistic risk on a synthetic environment with known label noise
(§II.3, :func:`entropy_floor`).

Randomness.  Gates are drawn from uniforms generated on ``generator.device`` and moved to the data's device,
so a generator seeded alike gives the same gates on every device for data on any device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from adaptsym.device import one_cpu_thread
from adaptsym.models import hinge_loss, mlp_linears, relu_mlp, relu_pre_activations, scores
from adaptsym.progress import progress_bar
from adaptsym.umwelt import gate_states

# Largest number of activations (samples x inputs x width) held at once when sampling many networks.
_MAX_ACTIVATIONS = 2**25


def _check_sampler(temperature: float, generator: torch.Generator | None) -> float:
    """The temperature as a float, after checking it is >= 0 and that T > 0 comes with a generator."""
    temperature = float(temperature)
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0 = ReLU gates); got {temperature}")
    if temperature > 0 and generator is None:
        raise ValueError("sampling gates at temperature > 0 needs a torch.Generator (pass generator=...)")
    return temperature


def _check_single_output(model: nn.Sequential) -> None:
    if mlp_linears(model)[-1].out_features != 1:
        raise ValueError("this needs a network with one output neuron (widths [..., 1]), Li's binary classifier")


def _check_samples(n_samples: int | None) -> None:
    if n_samples is not None and (int(n_samples) != n_samples or n_samples < 1):
        raise ValueError(f"n_samples must be a positive integer; got {n_samples}")


def draw_gates(z: torch.Tensor, temperature: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gates ``h ~ Bernoulli(σ(z / T))``, independently per entry of ``z`` (eq. 6 given the layers below).

    ``T = 0`` gives the ReLU gates ``1[z > 0]`` of eq. 7 and needs no generator; ``T > 0`` needs one.
    Returns a tensor of ``z``'s shape, dtype and device holding 0.0 and 1.0, detached from the graph.
    """
    temperature = _check_sampler(temperature, generator)
    z = z.detach()
    if temperature == 0:
        return (z > 0).to(z.dtype)
    uniform = torch.rand(z.shape, generator=generator, dtype=z.dtype, device=generator.device)
    return (uniform.to(z.device) < torch.sigmoid(z / temperature)).to(z.dtype)


class StochasticGate(nn.Module):
    """Drop-in replacement for ``nn.ReLU``: ``z -> h ⊙ z`` with gates ``h`` drawn at ``temperature`` (eq. 6).

    The gates are constants for autograd, so backpropagating through a network of these modules gives the
    M-step gradient with the sampled gates held fixed.  ``temperature = 0`` is exactly ``nn.ReLU``.
    """

    def __init__(self, temperature: float, generator: torch.Generator | None = None):
        super().__init__()
        self.temperature = _check_sampler(temperature, generator)
        self.generator = generator

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return draw_gates(z, self.temperature, self.generator) * z

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"


def with_stochastic_gates(model: nn.Sequential, temperature: float,
                          generator: torch.Generator | None = None) -> nn.Sequential:
    """The stochastic network of ``model``: every ``nn.ReLU`` replaced by a :class:`StochasticGate`.

    The other layers (and so the weights) are shared with ``model``, so an optimizer over ``model``'s
    parameters trains both.  Works for any ``nn.Sequential`` whose nonlinearities are ReLUs (MLP or CNN).
    """
    return nn.Sequential(*(StochasticGate(temperature, generator) if isinstance(layer, nn.ReLU) else layer
                           for layer in model))


def stochastic_forward(model: nn.Sequential, x: torch.Tensor, temperature: float,
                       generator: torch.Generator | None = None,
                       n_samples: int | None = None) -> tuple[list[torch.Tensor], torch.Tensor]:
    """One pass through the multilayer graphical model: gates drawn layer by layer, then the output.

    Layer l's gates are drawn given the *sampled* layers below (ancestral sampling of eq. 6), with
    ``z_l = W_l x_{l-1}`` and ``x_l = h_l ⊙ z_l``.  ``x`` is (N, d_in); with ``n_samples = S`` every input
    gets S independent networks at once.  Returns the gates of each hidden layer, shape ([S,] N, n_l), and
    the output ``T(x)``, shape ([S,] N, d_out).  Gradients flow into the weights with the gates fixed.
    """
    _check_sampler(temperature, generator)
    _check_samples(n_samples)
    linears = mlp_linears(model)
    if x.ndim != 2 or x.shape[1] != linears[0].in_features:
        raise ValueError(f"x must have shape (N, {linears[0].in_features}); got {tuple(x.shape)}")
    gates, activation = [], x if n_samples is None else x.expand(n_samples, *x.shape)
    for linear in linears[:-1]:
        z = linear(activation)
        gates.append(draw_gates(z, temperature, generator))
        activation = gates[-1] * z
    return gates, linears[-1](activation)


@torch.no_grad()
def sample_outputs(model: nn.Sequential, x: torch.Tensor, temperature: float, n_samples: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Outputs ``T(x)`` of ``n_samples`` stochastic networks at ``temperature`` on each input, shape (S, N).

    Needs a single output neuron (Li's binary classification).  Samples are drawn in chunks of at most
    about 2^25 activations, so memory stays bounded for any S.
    """
    _check_single_output(model)
    _check_samples(n_samples)
    width = max(linear.out_features for linear in mlp_linears(model))
    chunk = max(1, _MAX_ACTIVATIONS // (len(x) * width))
    sizes = [min(chunk, n_samples - start) for start in range(0, n_samples, chunk)]
    return torch.cat([stochastic_forward(model, x, temperature, generator, size)[1][..., 0] for size in sizes])


def _generator(seed: int, device: torch.device) -> torch.Generator:
    """A fresh generator on ``device`` seeded with ``seed``: each call replays the same random numbers."""
    return torch.Generator(device).manual_seed(seed)


@dataclass(frozen=True)
class OutputSamples:
    """The ReLU network's outputs ``relu`` (N,) on a few inputs and, per temperature, ``samples[T]`` (S, N) of the
    stochastic network's outputs ``T(x)`` on them (the histograms of §2.1)."""

    relu: np.ndarray
    samples: dict[float, np.ndarray]


@torch.no_grad()
def output_samples(model: nn.Sequential, x: torch.Tensor, temperatures: Sequence[float], n_samples: int,
                   seed: int) -> OutputSamples:
    """:func:`sample_outputs` at each temperature, each from a generator seeded with ``seed`` on ``x``'s device: the
    same uniforms at every temperature, so the samples differ through the temperature alone."""
    return OutputSamples(model(x)[:, 0].cpu().numpy(),
                         {t: sample_outputs(model, x, t, n_samples, _generator(seed, x.device)).cpu().numpy()
                          for t in temperatures})


def temperature_window(temperatures: Sequence[float], low: float, high: float,
                       curves: Sequence[np.ndarray]) -> np.ndarray:
    """Mask of the temperatures in ``[low, high]`` at which every curve is > 0, where a log-log fit can use them."""
    t = np.asarray(temperatures)
    return (t <= high) & (t >= low) & np.all([curve > 0 for curve in curves], 0)


def log_log_slope(temperatures: Sequence[float], values: np.ndarray, window: np.ndarray) -> float:
    """Least-squares slope of ``log(values)`` against ``log(T)`` over the temperatures in ``window``."""
    return np.polyfit(np.log(np.asarray(temperatures)[window]), np.log(values[window]), 1)[0]


def rank_trend(temperatures: Sequence[float], values: np.ndarray) -> float:
    """Spearman rank correlation of ``values`` with the temperature: 1 when they fall whenever T falls."""
    return spearmanr(temperatures, values).statistic


@dataclass(frozen=True)
class ConvergenceCurve:
    """Distance of the stochastic network's output from the ReLU network's, per temperature (eq. 7).

    ``sample_error[k]``: mean over inputs and samples of ``|T_sample(x) - T_ReLU(x)|`` at ``temperatures[k]``;
    ``mean_error[k]``: mean over inputs of ``|mean_samples T_sample(x) - T_ReLU(x)|``; ``scale``: mean over
    inputs of ``|T_ReLU(x)|``, the natural unit of both.
    """

    temperatures: np.ndarray
    sample_error: np.ndarray
    mean_error: np.ndarray
    scale: float

    @property
    def relative_sample_error(self) -> np.ndarray:
        """``sample_error / scale``."""
        return self.sample_error / self.scale

    @property
    def relative_mean_error(self) -> np.ndarray:
        """``mean_error / scale``."""
        return self.mean_error / self.scale

    def slope(self, low: float = 3e-3, high: float = 0.3) -> float:
        """Log-log slope of the sample error for ``low <= T <= high`` (where it is > 0): about 2 where gate flips are
        rare, O(T), and each moves the output by O(T), before T falls below the gates' margins."""
        return log_log_slope(self.temperatures, self.sample_error,
                             temperature_window(self.temperatures, low, high, [self.sample_error]))

    def trend(self) -> float:
        """Rank correlation of the sample error with the temperature (:func:`rank_trend`)."""
        return rank_trend(self.temperatures, self.sample_error)

    def reaches_relu(self, tol: float = 1e-6, min_trend: float = 0.9) -> bool:
        """Verdict on eqs. 7-8: the relative sample error is at most ``tol`` at the coldest temperature and falls
        with T (rank correlation at least ``min_trend``)."""
        return bool(self.relative_sample_error[-1] <= tol and self.trend() >= min_trend)


@torch.no_grad()
def convergence_to_relu(model: nn.Sequential, x: torch.Tensor, temperatures: Sequence[float], n_samples: int,
                        generator: torch.Generator, progress: bool = True) -> ConvergenceCurve:
    """Error of the sampled outputs against the ReLU network's output versus temperature (``T -> 0``, eq. 7)."""
    _check_single_output(model)
    relu = model(x)[:, 0]
    sample_error, mean_error = [], []
    for temperature in progress_bar(temperatures, desc="temperatures", disable=not progress):
        samples = sample_outputs(model, x, temperature, n_samples, generator)
        sample_error.append((samples - relu).abs().mean().item())
        mean_error.append((samples.mean(0) - relu).abs().mean().item())
    return ConvergenceCurve(np.asarray(temperatures, dtype=float), np.array(sample_error), np.array(mean_error),
                            relu.abs().mean().item())


@one_cpu_thread()
def relu_convergence(networks: dict[str, nn.Sequential], x: torch.Tensor, temperatures: Sequence[float],
                     n_samples: int, seed: int) -> dict[str, ConvergenceCurve]:
    """:func:`convergence_to_relu` of each network, each from a generator seeded with ``seed`` on ``x``'s device."""
    return {name: convergence_to_relu(net, x, temperatures, n_samples, _generator(seed, x.device))
            for name, net in networks.items()}


# ----------------------------------------------------------------------------------------------------------
# The generalised EM reading of training (Li §II.2, last paragraphs).
# ----------------------------------------------------------------------------------------------------------

@torch.no_grad()
def e_step(model: nn.Sequential, x: torch.Tensor, temperature: float = 0.0,
           generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """E-step: infer the gates of every hidden layer with the weights fixed, one draw per input.

    ``T = 0`` (default) gives the ReLU gates, the degenerate low-temperature limit in which the Monte Carlo
    sample is the expectation (eq. 7); ``T > 0`` draws them from eq. 6 by ancestral sampling.  Returns one
    (N, n_l) tensor of 0/1 per hidden layer, to be held fixed by :func:`m_step_gradient`.
    """
    return stochastic_forward(model, x, temperature, generator)[0]


def gated_forward(model: nn.Sequential, x: torch.Tensor, gates: Sequence[torch.Tensor]) -> torch.Tensor:
    """Output of the gated *linear* network ``x^T W_1 dg(h_1) ... W_L`` with the gates fixed (eq. 6)."""
    linears = mlp_linears(model)
    if len(gates) != len(linears) - 1:
        raise ValueError(f"the network has {len(linears) - 1} gate layers; got {len(gates)} gate tensors")
    activation = x
    for linear, h in zip(linears[:-1], gates):
        z = linear(activation)
        if h.shape != z.shape:
            raise ValueError(f"gates of shape {tuple(h.shape)} do not match the layer's {tuple(z.shape)}")
        activation = h * z
    return linears[-1](activation)


def m_step_gradient(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor,
                    gates: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """M-step: gradient of the hinge risk (Li eq. 12) in every weight matrix, with the gates held fixed.

    One tensor per Linear layer, shaped like its weight.  With the ReLU gates of :func:`e_step` this is the
    ReLU network's backpropagation gradient (:func:`backprop_gradient`), the descent direction of eq. 13.
    """
    weights = [linear.weight for linear in mlp_linears(model)]
    return list(torch.autograd.grad(hinge_loss(gated_forward(model, x, gates), y), weights))


def backprop_gradient(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """Gradient of the ReLU network's hinge risk (Li eq. 12) in every weight matrix, by backpropagation."""
    weights = [linear.weight for linear in mlp_linears(model)]
    return list(torch.autograd.grad(hinge_loss(model(x), y), weights))


def gradient_distance(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> tuple[float, float]:
    """Max absolute and relative (Euclidean, over all weights) difference between two gradients."""
    diff = torch.cat([(u - v).flatten() for u, v in zip(a, b, strict=True)])
    norm = torch.cat([v.flatten() for v in b]).norm()
    return diff.abs().max().item(), (diff.norm() / norm).item()


@one_cpu_thread()
def em_identity_gaps(networks: dict[str, nn.Sequential], x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Max absolute difference between the M-step gradient with the ReLU gates of the E-step and the backprop
    gradient, per network: the generalised-EM reading's identity, 0 up to float rounding."""
    return {name: gradient_distance(m_step_gradient(net, x, y, e_step(net, x)), backprop_gradient(net, x, y))[0]
            for name, net in networks.items()}


def m_step_is_backprop(gaps: dict[str, float], tol: float = 1e-12) -> bool:
    """Verdict on the identity of :func:`em_identity_gaps`: every gap is at most ``tol``."""
    return max(gaps.values()) <= tol


def sampled_gradient_gap(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, temperatures: Sequence[float],
                         generator: torch.Generator, n_draws: int = 1, progress: bool = True) -> np.ndarray:
    """Relative distance of the M-step gradient with sampled gates (E-step at T) from the backprop gradient.

    For each temperature, the mean over ``n_draws`` E-steps of ``|g_T - g_ReLU| / |g_ReLU|`` (Euclidean norm
    over all weights).  Goes to 0 as ``T -> 0``, where the sampled gates become the ReLU gates.
    """
    reference = backprop_gradient(model, x, y)
    gaps = [[gradient_distance(m_step_gradient(model, x, y, e_step(model, x, t, generator)), reference)[1]
             for _ in range(n_draws)] for t in progress_bar(temperatures, desc="temperatures", disable=not progress)]
    return np.array(gaps).mean(axis=1)


@dataclass(frozen=True)
class GradientGaps:
    """§2.3: ``gaps[name][k]`` is :func:`sampled_gradient_gap` of a network at ``temperatures[k]`` (decreasing),
    a mean over ``n_draws`` E-steps."""

    temperatures: np.ndarray
    gaps: dict[str, np.ndarray]
    n_draws: int

    def slopes(self, low: float = 1e-4, high: float = 0.3) -> dict[str, float]:
        """Log-log slope of each gap for ``low <= T <= high``, on the temperatures where every network's gap is > 0:
        between 1/2 (flips changing the gradient in unrelated directions) and 1 (coherent changes)."""
        window = temperature_window(self.temperatures, low, high, list(self.gaps.values()))
        return {name: log_log_slope(self.temperatures, gap, window) for name, gap in self.gaps.items()}

    def coldest(self) -> float:
        """Largest gap, over networks, at the coldest temperature."""
        return max(gap[-1] for gap in self.gaps.values())

    def trend(self) -> float:
        """Smallest rank correlation of a network's gap with the temperature (:func:`rank_trend`)."""
        return min(rank_trend(self.temperatures, gap) for gap in self.gaps.values())

    def vanishes(self, tol: float = 1e-12, min_trend: float = 0.9) -> bool:
        """Verdict: the E-step degenerates to ReLU, every gap at most ``tol`` at the coldest temperature and falling
        with T (rank correlation at least ``min_trend``)."""
        return bool(self.coldest() <= tol and self.trend() >= min_trend)


@one_cpu_thread()
def gradient_gaps(networks: dict[str, nn.Sequential], x: torch.Tensor, y: torch.Tensor,
                  temperatures: Sequence[float], seed: int, n_draws: int = 1) -> GradientGaps:
    """:func:`sampled_gradient_gap` of each network, each from a generator seeded with ``seed`` on ``x``'s device."""
    return GradientGaps(np.asarray(temperatures), {
        name: sampled_gradient_gap(net, x, y, temperatures, _generator(seed, x.device), n_draws)
        for name, net in networks.items()}, n_draws)


@one_cpu_thread()
def train_at_temperatures(config, temperatures: Sequence[float], seeds: int, x_train: torch.Tensor,
                          y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
                          device: str | torch.device) -> "TemperatureTraining":
    """:class:`TemperatureTraining` of ``config`` (an :class:`adaptsym.train.TrainConfig`) at T = 0 and each
    temperature, with seeds ``config.seed, ..., config.seed + seeds - 1`` (runs are cached by
    :func:`adaptsym.train.train_run`)."""
    import dataclasses

    from adaptsym.train import train_run

    return TemperatureTraining({t: [train_run(dataclasses.replace(config, temperature=t, seed=config.seed + k),
                                              x_train, y_train, x_test, y_test, device=device).history
                                    for k in range(seeds)] for t in [0.0, *temperatures]})


@dataclass(frozen=True)
class TemperatureTraining:
    """§2.4: training histories (``adaptsym.train.Run.history``) of the stochastic network per temperature, one per
    seed, 0 being the deterministic ReLU run.  Runs at different temperatures are told apart by the final training
    risk of the ReLU network, against its spread over seeds (a test accuracy saturates and cannot tell them apart)."""

    histories: dict[float, list[list[dict]]]

    def first_runs(self) -> dict[float, list[dict]]:
        """The history of the first seed's run at each temperature."""
        return {t: runs[0] for t, runs in self.histories.items()}

    def final_risks(self, temperature: float) -> np.ndarray:
        """Final training hinge risk of the ReLU network, one per seed."""
        return np.array([history[-1]["train_loss"] for history in self.histories[temperature]])

    def risk_excess(self, temperature: float) -> float:
        """Mean final ReLU risk at ``temperature`` minus that of the deterministic runs."""
        return float(self.final_risks(temperature).mean() - self.final_risks(0.0).mean())

    def standard_error(self, temperature: float) -> float:
        """Standard error of :meth:`risk_excess` from the seed-to-seed spreads of both sets of runs."""
        return float(np.sqrt(sum(r.var(ddof=1) / len(r) for r in (self.final_risks(temperature),
                                                                    self.final_risks(0.0)))))

    def z_score(self, temperature: float) -> float:
        """:meth:`risk_excess` in units of its :meth:`standard_error`."""
        return self.risk_excess(temperature) / self.standard_error(temperature)

    def enough_seeds(self, minimum: int = 3) -> bool:
        """Whether every temperature has at least ``minimum`` runs, for a seed-to-seed spread worth the name."""
        return min(len(runs) for runs in self.histories.values()) >= minimum

    def matches_relu(self, temperature: float, z: float = 2.0) -> bool | None:
        """Verdict: the final ReLU risk at ``temperature`` is within ``z`` standard errors of the deterministic one
        (None, inconclusive, with fewer than 3 seeds)."""
        return bool(abs(self.z_score(temperature)) < z) if self.enough_seeds() else None

    def warmest_match(self, z: float = 2.0) -> float | None:
        """The highest temperature whose final risk is within ``z`` standard errors of the deterministic one (None if
        none is)."""
        matching = [t for t in self.histories if t > 0 and abs(self.z_score(t)) < z]
        return max(matching) if matching else None

    def hot_training_is_worse(self, z: float = 2.0) -> bool | None:
        """Verdict: the hottest runs end more than ``z`` standard errors above the deterministic risk — the
        criterion of :meth:`matches_relu` fails there, so it can tell temperatures apart (None with fewer than 3
        seeds)."""
        return bool(self.z_score(max(self.histories)) > z) if self.enough_seeds() else None


# ----------------------------------------------------------------------------------------------------------
# §II.2 exactly: the log-likelihood of μ_L, its lower bounds and what backpropagation maximises, on networks
# small enough to enumerate every joint state of the hidden gates.
# ----------------------------------------------------------------------------------------------------------

# Largest number of joint gate states enumerated (2^14: 14 hidden gates in all).
MAX_GATE_STATES = 2**14


@dataclass(frozen=True)
class GateEnumeration:
    """Every joint state of the hidden gates of a small network, on inputs x (eq. 6 for all layers at once).

    Joint states are ordered lexicographically, first layer first and first gate most significant (as
    :func:`adaptsym.umwelt.gate_states`), so the gates of layers 1..l-1 of joint state s form the *prefix*
    ``s >> (n_l + ... + n_{L-1})``.  ``states`` (S, n): the 0/1 gates of all hidden layers; ``fields[l]``
    (2^(n_1+...+n_{l-1}), N, n_l): the pre-activations ``z_l`` of layer l on each input for each prefix (they depend
    on the layers below only); ``energy`` (S, N): ``E(h) = -Σ_l z_l·h_l``, minus the exponents of eq. 6 summed
    over the layers (the energy of eq. 9); ``logits`` (S, N): the output ``T_h(x) = x^T W_1 dg(h_1) ... W_L`` of the
    gated linear network; ``relu`` (N,): the index of each input's ReLU gate pattern ``ĥ`` (eq. 7).
    """

    states: torch.Tensor
    fields: list[torch.Tensor]
    energy: torch.Tensor
    logits: torch.Tensor
    relu: torch.Tensor

    def log_prior(self, temperature: float) -> torch.Tensor:
        """``log μ_T(h | x)`` of every state on every input, shape (S, N): the product over layers of eq. 6's laws
        ``e^{z_l·h_l / T} / Z_l`` given the layers below — independent gates with ``P(h = 1) = σ(z/T)`` — the
        ancestral law of the graphical model.  Summed gate by gate as ``log σ(±z/T)``, exact at any T (the form
        ``-E(h)/T - Σ_l log Z_l`` cancels large terms as T -> 0)."""
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"the gate law needs a finite temperature > 0; got {temperature}")
        total = torch.zeros_like(self.energy)
        for z in self.fields:
            signs = 2 * torch.as_tensor(gate_states(z.shape[-1]), dtype=z.dtype, device=z.device) - 1  # (K, n_l)
            layer = nn.functional.logsigmoid(signs[None, :, None, :] * z[:, None] / temperature).sum(-1)
            total += layer.flatten(0, 1).repeat_interleave(len(self.states) // (len(z) * len(signs)), 0)
        return total

    def at_relu(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` (S, N) at each input's ReLU pattern, shape (N,)."""
        return values[self.relu, torch.arange(values.shape[1], device=values.device)]


def relu_pattern_index(model: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Index, in the order of :class:`GateEnumeration`, of the ReLU gates ``ĥ`` (eq. 7) of every input, shape (N,)."""
    bits, activation = [], x
    for linear in mlp_linears(model)[:-1]:
        z = linear(activation)
        bits.append(z > 0)
        activation = torch.relu(z)
    bits = torch.cat(bits, 1).long()
    return (bits * 2 ** torch.arange(bits.shape[1] - 1, -1, -1, device=x.device)).sum(1)


@torch.no_grad()
def enumerate_gates(model: nn.Sequential, x: torch.Tensor, max_states: int = MAX_GATE_STATES) -> GateEnumeration:
    """Every joint gate state of ``model`` on ``x`` with its fields, energy and output (:class:`GateEnumeration`).

    Built layer by layer: each state of the layers below is extended by every state of the next layer, whose
    fields ``z = W_l x_{l-1}`` are computed once per state below.  Needs at most ``max_states`` joint states.
    """
    _check_single_output(model)
    linears = mlp_linears(model)
    n_states = 2 ** sum(linear.out_features for linear in linears[:-1])
    if n_states > max_states:
        raise ValueError(f"{n_states} joint gate states exceed max_states={max_states}; use a smaller network")
    states, fields, energy, activation = x.new_zeros(1, 0), [], x.new_zeros(1, len(x)), x[None]
    for linear in linears[:-1]:
        z = linear(activation)  # (prefixes, N, n_l)
        layer = torch.as_tensor(gate_states(z.shape[-1]), dtype=x.dtype, device=x.device)  # (K, n_l)
        fields.append(z)
        states = torch.cat([states.repeat_interleave(len(layer), 0), layer.repeat(len(states), 1)], 1)
        energy = (energy[:, None] - torch.einsum("pnk,jk->pjn", z, layer)).flatten(0, 1)
        activation = (z[:, None] * layer[None, :, None, :]).flatten(0, 1)
    return GateEnumeration(states, fields, energy, linears[-1](activation)[..., 0], relu_pattern_index(model, x))


def label_log_likelihood(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``log μ_L(y | h, x) = log σ(y T_h(x))``: the top gate of eq. 8 read as the label y in {-1, +1}, with the
    network's own logit (the logistic link; its negative is the cross entropy of §II.3)."""
    return nn.functional.logsigmoid(y * logits)


def logistic_loss(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Empirical logistic risk (cross entropy, §II.3): the mean of ``-log σ(y T(x))`` over examples."""
    return -label_log_likelihood(scores(output), y).mean()


M_STEP_LOSSES = {"hinge": hinge_loss, "logistic": logistic_loss}
BOUNDS = ("prior_elbo", "point_mass_elbo", "backprop_objective")


@dataclass(frozen=True)
class LikelihoodBounds:
    """The generalised-EM reading of §II.2, exactly, per temperature (rows) and input (columns), all in nats.

    ``log_likelihood``: ``log μ_L(y|x) = log Σ_h μ_T(h|x) σ(y T_h(x))``, all hidden gates marginalised;
    ``prior_elbo``: ``Σ_h μ_T(h|x) log σ(y T_h(x))``, the evidence lower bound with q = the prior gate law (Jensen);
    ``point_mass_elbo``: ``log μ_T(ĥ|x) + log σ(y T_ĥ(x))``, the bound with q = the point mass on the forward
    pass's (ReLU) gates ĥ (zero entropy); ``backprop_objective`` (N,): ``log σ(y T_ReLU(x)) = log μ_L(y | ĥ, x)``,
    the log-likelihood of the ReLU network that backpropagation maximises (the point-mass bound without its prior
    term ``log μ_T(ĥ|x)``); ``relu_is_map``: whether ĥ maximises the point-mass bound ``log μ_T(h, y|x)`` over all
    gate states h (the best E-step among point masses).
    """

    temperatures: np.ndarray
    log_likelihood: np.ndarray
    prior_elbo: np.ndarray
    point_mass_elbo: np.ndarray
    backprop_objective: np.ndarray
    relu_is_map: np.ndarray

    def excess(self, name: str) -> np.ndarray:
        """``name`` (one of :data:`BOUNDS`) minus the exact log-likelihood, shape (T, N): <= 0 where it is a bound."""
        if name not in BOUNDS:
            raise ValueError(f"unknown quantity {name!r}; valid: {', '.join(BOUNDS)}")
        return np.broadcast_to(getattr(self, name), self.log_likelihood.shape) - self.log_likelihood

    def fraction_above(self, name: str, tol: float = 1e-12) -> np.ndarray:
        """Per temperature, the fraction of inputs on which ``name`` exceeds ``log μ_L(y|x)`` by more than ``tol``."""
        return (self.excess(name) > tol).mean(axis=1)

    def largest_excess(self, name: str) -> float:
        """Largest ``name - log μ_L(y|x)`` over temperatures and inputs."""
        return float(self.excess(name).max())

    def is_bound(self, name: str, tol: float = 1e-12) -> bool:
        """Verdict: ``name`` is a lower bound of the exact log-likelihood on every input at every temperature."""
        return self.largest_excess(name) <= tol

    def map_fraction(self) -> np.ndarray:
        """Per temperature, the fraction of inputs whose ReLU gates maximise the point-mass bound."""
        return self.relu_is_map.mean(axis=1)

    def forward_pass_is_e_step(self, min_fraction: float = 0.99) -> bool:
        """Verdict on Li's E-step in "the degenerated low temperature setting": at the coldest temperature of the
        sweep the ReLU gates maximise the point-mass bound on at least ``min_fraction`` of inputs."""
        return bool(self.map_fraction()[np.argmin(self.temperatures)] >= min_fraction)


@one_cpu_thread()
@torch.no_grad()
def likelihood_bounds(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor,
                      temperatures: Sequence[float]) -> LikelihoodBounds:
    """:class:`LikelihoodBounds` of ``model`` on ``(x, y)`` at each temperature, by enumerating every gate state."""
    found = enumerate_gates(model, x)
    conditional = label_log_likelihood(found.logits, y)  # (S, N)
    rows = []
    for temperature in temperatures:
        prior = found.log_prior(temperature)
        joint = prior + conditional
        rows.append([torch.logsumexp(joint, 0), (prior.exp() * conditional).sum(0), found.at_relu(joint),
                     joint.argmax(0) == found.relu])
    columns = [np.stack([row[k].cpu().numpy() for row in rows]) for k in range(4)]
    return LikelihoodBounds(np.asarray(temperatures, dtype=float), *columns[:3],
                            found.at_relu(conditional).cpu().numpy(), columns[3])


@dataclass(frozen=True)
class LikelihoodTrace:
    """Training the ReLU network with the M-step ``loss`` (full-batch gradient descent, eq. 13, the E-step being
    the forward pass's ReLU gates), with the exact mean ``log μ_L(y|x)`` at each temperature every few steps:
    ``log_likelihood`` (checkpoints, temperatures), ``backprop_objective`` (checkpoints,) the mean
    ``log σ(y T_ReLU(x))``, and ``final`` the :class:`LikelihoodBounds` of the trained network."""

    loss: str
    steps: np.ndarray
    temperatures: np.ndarray
    log_likelihood: np.ndarray
    backprop_objective: np.ndarray
    final: LikelihoodBounds

    def drops(self) -> np.ndarray:
        """Per temperature, the largest fall of the exact log-likelihood between consecutive checkpoints (>= 0)."""
        return np.maximum(0.0, -np.diff(self.log_likelihood, axis=0)).max(axis=0)

    def gains(self) -> np.ndarray:
        """Per temperature, the exact log-likelihood at the end minus at the start."""
        return self.log_likelihood[-1] - self.log_likelihood[0]

    def last_change(self) -> float:
        """Largest |change| of the exact log-likelihood over the last checkpoint interval, over temperatures."""
        return float(np.abs(self.log_likelihood[-1] - self.log_likelihood[-2]).max())

    def settled(self, tol: float = 0.01) -> bool:
        """Whether the run has slowed down: :meth:`last_change` below ``tol`` nats."""
        return len(self.steps) > 1 and self.last_change() < tol

    def largest_drop(self, max_temperature: float = math.inf) -> float:
        """Largest fall of the exact log-likelihood between checkpoints, over temperatures <= ``max_temperature``."""
        return float(self.drops()[self.temperatures <= max_temperature].max())

    def rises_monotonically(self, max_temperature: float = math.inf, tol: float = 1e-6) -> bool:
        """Verdict on the generalised-EM guarantee: at every temperature <= ``max_temperature`` the exact
        log-likelihood never falls by more than ``tol`` between checkpoints."""
        return self.largest_drop(max_temperature) <= tol


@one_cpu_thread()
def m_step_training(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, loss: str,
                    temperatures: Sequence[float], steps: int, lr: float, every: int) -> LikelihoodTrace:
    """Full-batch gradient descent on ``loss`` (``"hinge"`` or ``"logistic"``) of a copy of ``model``: backprop's
    M-step with the ReLU gates of the forward pass; every ``every`` steps the exact :func:`likelihood_bounds`."""
    import copy

    if loss not in M_STEP_LOSSES:
        raise ValueError(f"unknown M-step loss {loss!r}; valid: {', '.join(M_STEP_LOSSES)}")
    loss_fn = M_STEP_LOSSES[loss]
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    checkpoints, log_likelihood, objective, bounds = [], [], [], None
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            bounds = likelihood_bounds(model, x, y, temperatures)
            checkpoints.append(step)
            log_likelihood.append(bounds.log_likelihood.mean(axis=1))
            objective.append(bounds.backprop_objective.mean())
        if step < steps:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    return LikelihoodTrace(loss, np.array(checkpoints), np.asarray(temperatures, dtype=float),
                           np.array(log_likelihood), np.array(objective), bounds)


@dataclass(frozen=True)
class EMReading:
    """§2.5: the :class:`LikelihoodBounds` of a network at initialisation and after the M-steps of each loss
    (``bounds``: "initialisation", "hinge", "logistic"), and the M-step :class:`LikelihoodTrace` of each loss."""

    bounds: dict[str, LikelihoodBounds]
    traces: dict[str, LikelihoodTrace]

    def largest_fraction_above(self, name: str, tol: float = 1e-10) -> float:
        """Largest fraction, over networks and temperatures, of inputs on which ``name`` exceeds log μ_L(y|x)."""
        return float(max(b.fraction_above(name, tol).max() for b in self.bounds.values()))

    def largest_excess(self, name: str) -> float:
        """Largest ``name - log μ_L(y|x)`` over networks, temperatures and inputs."""
        return max(b.largest_excess(name) for b in self.bounds.values())

    def is_bound(self, name: str, tol: float = 1e-10) -> bool:
        """Verdict: ``name`` is a lower bound of log μ_L(y|x) on every input, temperature and network."""
        return all(b.is_bound(name, tol) for b in self.bounds.values())

    def smallest_map_fraction(self, temperature: float) -> float:
        """Smallest fraction, over networks, of inputs whose ReLU gates maximise the point-mass bound at
        ``temperature`` (one of the sweep's)."""
        return float(min(b.map_fraction()[np.flatnonzero(b.temperatures == temperature)[0]]
                         for b in self.bounds.values()))

    def forward_pass_is_e_step(self, min_fraction: float = 0.99) -> bool:
        """Verdict (:meth:`LikelihoodBounds.forward_pass_is_e_step`) for every network."""
        return all(b.forward_pass_is_e_step(min_fraction) for b in self.bounds.values())

    def hinge_shortfall(self) -> np.ndarray:
        """Per temperature, the exact mean log μ_L(y|x) after the logistic M-steps minus that after the hinge
        M-steps (eq. 12), from the same initial weights: > 0 where the hinge loss fell short of the likelihood."""
        return self.bounds["logistic"].log_likelihood.mean(1) - self.bounds["hinge"].log_likelihood.mean(1)

    def hinge_maximises_likelihood(self, tol: float = 0.01) -> bool | None:
        """Verdict: the hinge M-steps reach the log-likelihood of the logistic ones within ``tol`` nats at every T;
        None (inconclusive) unless both runs have :meth:`LikelihoodTrace.settled` within ``tol``, since the end
        points of two runs still climbing say more about speed than about what each maximises."""
        if not all(trace.settled(tol) for trace in self.traces.values()):
            return None
        return bool(self.hinge_shortfall().max() <= tol)


@one_cpu_thread()
def em_reading(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, temperatures: Sequence[float], steps: int,
               lr: float, every: int) -> EMReading:
    """:class:`EMReading` of ``model`` on ``(x, y)``: its bounds, then :func:`m_step_training` with each loss of
    :data:`M_STEP_LOSSES` from the same initial weights."""
    traces = {loss: m_step_training(model, x, y, loss, temperatures, steps, lr, every) for loss in M_STEP_LOSSES}
    return EMReading({"initialisation": likelihood_bounds(model, x, y, temperatures)}
                     | {loss: trace.final for loss, trace in traces.items()}, traces)


# ----------------------------------------------------------------------------------------------------------
# §II.3, eq. 9: the gate law minimises a free energy; the network's free energy along the temperature sweep.
# ----------------------------------------------------------------------------------------------------------

def entropy(law: torch.Tensor, log_law: torch.Tensor | None = None) -> torch.Tensor:
    """Shannon entropy ``-Σ q log q`` (nats) over the last dimension, with ``0 log 0 = 0``; given ``log_law``, the
    exact logarithms are used (``log`` of a probability rounded near 1 loses digits)."""
    return -(law * log_law).sum(-1) if log_law is not None else -torch.special.xlogy(law, law).sum(-1)


def bernoulli_log_law(z: torch.Tensor, temperature: float, states: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of independent gates ``P(h_k = 1) = σ(z_k / T)`` (eq. 6) over ``states`` (K, n); ``z`` is
    (..., n), the result (..., K)."""
    return nn.functional.logsigmoid((2 * states - 1) * z[..., None, :] / temperature).sum(-1)


def free_energy(law: torch.Tensor, z: torch.Tensor, temperature: float, states: torch.Tensor,
                log_law: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 9 for gates with fields ``z`` (..., n): ``F[q] = E_q[E(h)] - T S(q)`` with ``E(h) = -z·h``, for a law
    ``law`` (..., K) over ``states`` (K, n) (with its logarithms ``log_law``, if known, for the entropy)."""
    return -(law * (z[..., None, :] * states).sum(-1)).sum(-1) - temperature * entropy(law, log_law)


def free_energy_minimum(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """``-T log Z = -T Σ_k log(1 + e^{z_k/T})``, the minimum of eq. 9 over all laws of independent-field gates;
    it tends to ``-Σ_k ReLU(z_k)`` as T -> 0 (within ``n T log 2``)."""
    u = z / temperature
    return -temperature * torch.logaddexp(torch.zeros_like(u), u).sum(-1)  # softplus, exact beyond its threshold


def kl_divergence(q: torch.Tensor, log_p: torch.Tensor) -> torch.Tensor:
    """``KL(q || p) = Σ q (log q - log p)`` over the last dimension, with ``0 log 0 = 0``; p given by its logarithm,
    so that laws with underflowing probabilities stay exact."""
    return (torch.special.xlogy(q, q) - q * log_p).sum(-1)


def minimise_free_energy(z: np.ndarray, temperature: float, states: np.ndarray) -> np.ndarray:
    """A law over ``states`` minimising eq. 9 numerically, blind to the closed form: a trust-region Newton method on
    the softmax logits θ of q, started from the uniform law, minimising ``f = F/T = q·a`` with ``a = E/T + log q``
    and ``E(h) = -z·h``; gradient ``q ⊙ b`` with ``b = a - f``, Hessian
    ``dg(q ⊙ (b+1)) - (q ⊙ (b+1)) q^T - q (q ⊙ b)^T``."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    scaled_energy = -states @ z / temperature

    def terms(theta):
        log_q = log_softmax(theta)
        q = np.exp(log_q)
        a = scaled_energy + log_q
        return q, a, q @ a

    def objective(theta):
        q, a, f = terms(theta)
        return f, q * (a - f)

    def hessian(theta):
        q, a, f = terms(theta)
        b = a - f
        return np.diag(q * (b + 1)) - np.outer(q * (b + 1), q) - np.outer(q, q * b)

    found = minimize(objective, np.zeros(len(states)), jac=True, hess=hessian, method="trust-exact",
                     options={"gtol": 1e-14, "maxiter": 2000})
    return np.exp(log_softmax(found.x))


@dataclass(frozen=True)
class FreeEnergyCheck:
    """Eq. 9 for layers of n gates with fields ``z`` (m, n) (one row per layer and input), exactly over all 2^n
    states, per temperature (rows) and field vector (columns): ``bernoulli`` F at the law of eq. 6, ``minimum`` the
    closed form -T log Z, ``excess`` (T, m, R) F[q] - F[p] for R random laws q (Dirichlet(1) over the states),
    ``kl_error`` the largest |F[q] - F[p] - T KL(q||p)|, and ``minimiser_distance`` the largest |q*(h) - p(h)| of
    :func:`minimise_free_energy`'s law q*."""

    z: np.ndarray
    temperatures: np.ndarray
    bernoulli: np.ndarray
    minimum: np.ndarray
    excess: np.ndarray
    kl_error: float
    minimiser_distance: np.ndarray

    def closed_form_error(self) -> float:
        """Largest |F[Bernoulli(σ(z/T))] - (-T log Z)|."""
        return float(np.abs(self.bernoulli - self.minimum).max())

    def bernoulli_minimises(self, tol: float = 1e-12, minimiser_tol: float = 1e-6) -> bool:
        """Verdict on eq. 9: no random law has a lower F, F[q] - F[p] = T KL(q||p), the minimum is -T log Z (all
        within ``tol``), and the numerical minimiser lands on σ(z/T) within ``minimiser_tol``."""
        return bool(self.excess.min() >= -tol and self.kl_error <= tol and self.closed_form_error() <= tol
                    and self.minimiser_distance.max() <= minimiser_tol)


@one_cpu_thread()
def free_energy_check(z: torch.Tensor | np.ndarray, temperatures: Sequence[float], n_random: int,
                      seed: int) -> FreeEnergyCheck:
    """:class:`FreeEnergyCheck` of the field vectors ``z`` (m, n) (float64, CPU), the same random laws for all."""
    z_t = torch.as_tensor(z, dtype=torch.float64).detach().cpu().reshape(-1, np.shape(z)[-1])
    states = torch.as_tensor(gate_states(z_t.shape[1]), dtype=torch.float64)
    random_laws = torch.as_tensor(np.random.default_rng(seed).dirichlet(np.ones(len(states)), n_random))
    bernoulli, minimum, excess, kl_error, distance = [], [], [], 0.0, []
    for temperature in temperatures:
        log_p = bernoulli_log_law(z_t, temperature, states)  # (m, K)
        p = log_p.exp()
        f_p = free_energy(p, z_t, temperature, states, log_p)  # (m,)
        f_q = free_energy(random_laws, z_t[:, None, :], temperature, states)  # (m, R)
        kl = kl_divergence(random_laws, log_p[:, None, :])
        bernoulli.append(f_p.numpy())
        minimum.append(free_energy_minimum(z_t, temperature).numpy())
        excess.append((f_q - f_p[:, None]).numpy())
        kl_error = max(kl_error, (f_q - f_p[:, None] - temperature * kl).abs().max().item())
        distance.append([np.abs(minimise_free_energy(row.numpy(), temperature, states.numpy()) - law.numpy()).max()
                         for row, law in zip(z_t, p)])
    return FreeEnergyCheck(z_t.numpy(), np.asarray(temperatures, dtype=float), np.array(bernoulli),
                           np.array(minimum), np.array(excess), kl_error, np.array(distance))


@dataclass(frozen=True)
class GateFreeEnergyCurves:
    """Eq. 9 for one gate with field ``z``: ``F[T][k] = -q_k z - T S(q_k)`` on the grid ``q`` of P(h = 1), per
    temperature, with its minimiser σ(z/T)."""

    z: float
    q: np.ndarray
    curves: dict[float, np.ndarray]

    def minimiser(self, temperature: float) -> float:
        """σ(z / T), where eq. 9's F is smallest."""
        return float(1 / (1 + np.exp(-self.z / temperature)))


def gate_free_energy_curves(z: float, temperatures: Sequence[float], n_grid: int = 401) -> GateFreeEnergyCurves:
    """:class:`GateFreeEnergyCurves` on ``n_grid`` points of q in [0, 1]."""
    q = torch.linspace(0, 1, n_grid, dtype=torch.float64)
    laws = torch.stack([1 - q, q], 1)
    states = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    z_t = torch.tensor([float(z)], dtype=torch.float64)
    return GateFreeEnergyCurves(float(z), q.numpy(), {t: free_energy(laws, z_t, t, states).numpy()
                                                      for t in temperatures})


@dataclass(frozen=True)
class NetworkFreeEnergy:
    """Eq. 9 along the temperature sweep for all hidden gates of a small network, exactly, as means over inputs.

    For the ancestral gate law μ_T(h|x) of the graphical model: ``energy`` U = E[E(h)] with E(h) = -Σ_k z_k h_k,
    ``entropy`` S and ``free_energy`` F = U - T S (= E[Σ_l -T log Z_l]: each layer's law minimises eq. 9 given the
    layers below, :class:`FreeEnergyCheck`); ``joint`` = -T log Σ_h e^{-E(h)/T}, the
    minimum of eq. 9 over all laws of all gates (the Boltzmann law of the joint energy), below F by
    ``T KL(μ_T || Boltzmann)``; ``relu_energy`` (a number) the mean of -Σ ReLU(z) along the ReLU pass, the T -> 0
    limit of F; ``relu_ground_state`` the fraction of inputs whose ReLU pattern has the lowest energy E(h) of all
    gate states (where it has not, the gap stays open as T -> 0).
    """

    temperatures: np.ndarray
    energy: np.ndarray
    entropy: np.ndarray
    free_energy: np.ndarray
    joint: np.ndarray
    relu_energy: float
    relu_ground_state: float

    def joint_gap(self) -> np.ndarray:
        """Per temperature, F - joint minimum = T KL(μ_T || Boltzmann) >= 0."""
        return self.free_energy - self.joint

    def kl_to_boltzmann(self, temperature: float) -> float:
        """``KL(μ_T || Boltzmann)`` (mean over inputs) at ``temperature`` (one of the sweep's): the joint gap over T."""
        k = np.flatnonzero(self.temperatures == temperature)[0]
        return float(self.joint_gap()[k] / temperature)

    def differs_from_boltzmann(self, temperature: float = 1.0, tol: float = 1e-6) -> bool:
        """Verdict: at ``temperature`` the ancestral law of all gates is not the Boltzmann law of the summed
        exponents (KL above ``tol``; it is 0 for one hidden layer, whose gates are independent given x)."""
        return self.kl_to_boltzmann(temperature) > tol

    def relu_limit_error(self) -> float:
        """|F - (-Σ ReLU(z))| at the coldest temperature, relative to |Σ ReLU(z)|."""
        return float(abs(self.free_energy[np.argmin(self.temperatures)] - self.relu_energy) / abs(self.relu_energy))


@one_cpu_thread()
@torch.no_grad()
def network_free_energy(model: nn.Sequential, x: torch.Tensor, temperatures: Sequence[float]) -> NetworkFreeEnergy:
    """:class:`NetworkFreeEnergy` of ``model`` on ``x`` by enumerating every gate state (:func:`enumerate_gates`)."""

    found = enumerate_gates(model, x)
    rows = []
    for temperature in temperatures:
        log_prior = found.log_prior(temperature)
        prior = log_prior.exp()
        rows.append([(prior * found.energy).sum(0), -(prior * log_prior).sum(0),
                     -temperature * torch.logsumexp(-found.energy / temperature, 0)])
    u, s, joint = (np.array([row[k].mean().item() for row in rows]) for k in range(3))
    t = np.asarray(temperatures, dtype=float)
    relu = -sum(torch.relu(z).sum(1) for z in relu_pre_activations(model, x))
    ground = found.at_relu(found.energy) <= found.energy.min(0).values + 1e-12 * (1 + relu.abs())
    return NetworkFreeEnergy(t, u, s, u - t * s, joint, relu.mean().item(), ground.double().mean().item())


# ----------------------------------------------------------------------------------------------------------
# §II.3: the logistic risk is the cross entropy S(y|x) + KL, on a synthetic environment with known label noise.
# ----------------------------------------------------------------------------------------------------------

def binary_entropy(p: torch.Tensor) -> torch.Tensor:
    """``H(p) = -p log p - (1 - p) log(1 - p)`` (nats), elementwise."""
    return -torch.special.xlogy(p, p) - torch.special.xlogy(1 - p, 1 - p)


def cross_entropy_terms(logits: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per input, exactly over y in {-1, +1} with ``μ(y = +1 | x) = p``, for the model ``σ(y T(x))``: the cross
    entropy ``-Σ_y μ(y|x) log σ(y T(x))`` (the logistic risk), the entropy ``S(y|x) = H(p)`` and
    ``KL(μ(y|x) || σ(y T(x)))``, each computed from its own definition."""
    log_plus, log_minus = nn.functional.logsigmoid(logits), nn.functional.logsigmoid(-logits)
    cross_entropy = -p * log_plus - (1 - p) * log_minus
    kl = (torch.special.xlogy(p, p) - p * log_plus) + (torch.special.xlogy(1 - p, 1 - p) - (1 - p) * log_minus)
    return cross_entropy, binary_entropy(p), kl


@dataclass(frozen=True)
class TeacherTask:
    """A synthetic environment with known label noise: ``x ~ N(0, I_d)``, ``μ(y = +1 | x) = σ(f(x))`` for a random
    bias-free ReLU teacher f.  ``x_train``/``y_train``: a sample of labelled examples; ``x_population`` with
    ``p_population = μ(y = +1 | x)``: fresh inputs on which risks are averaged exactly over y."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_population: torch.Tensor
    p_population: torch.Tensor

    def entropy(self) -> float:
        """``S(y|x)``: the mean over the population inputs of ``H(μ(y = +1 | x))``, the floor of the logistic risk."""
        return binary_entropy(self.p_population).mean().item()


def teacher_task(dim: int, hidden: Sequence[int], scale: float, n_train: int, n_population: int,
                 seed: int) -> TeacherTask:
    """:class:`TeacherTask` with teacher :func:`adaptsym.models.relu_mlp` ``[dim, *hidden, 1]`` (seed ``seed``)
    times ``scale``: the smaller ``scale``, the noisier the labels."""
    teacher = relu_mlp([dim, *hidden, 1], seed=seed, dtype=torch.float64, device="cpu")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_population, dim, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        p = torch.sigmoid(scale * teacher(x)[:, 0])
    y = torch.where(torch.rand(n_train, generator=generator, dtype=torch.float64) < p[:n_train], 1.0, -1.0)
    return TeacherTask(x[:n_train], y.double(), x[n_train:], p[n_train:])


@dataclass(frozen=True)
class RiskTrace:
    """A student trained on ``n_train`` examples of a :class:`TeacherTask` with the logistic risk, per checkpoint:
    ``train_risk`` on its training sample, ``population_risk`` (the cross entropy, exact over y) and
    ``population_kl`` on the population inputs; ``entropy`` S(y|x); ``decomposition_error`` the largest
    |cross entropy - S(y|x) - KL| over inputs and checkpoints."""

    n_train: int
    steps: np.ndarray
    train_risk: np.ndarray
    population_risk: np.ndarray
    population_kl: np.ndarray
    entropy: float
    decomposition_error: float

    def floors_at_entropy(self, tol: float = 1e-12) -> bool:
        """The population risk never falls below S(y|x) (it cannot: KL >= 0)."""
        return bool(np.all(self.population_risk >= self.entropy - tol))

    def final_kl_share(self) -> float:
        """KL at the end over S(y|x): how far above its floor the population risk ends."""
        return float(self.population_kl[-1] / self.entropy)

    def train_risk_share(self) -> float:
        """Final training risk over S(y|x): below 1 where the student fits the noise of its finite sample."""
        return float(self.train_risk[-1] / self.entropy)


@one_cpu_thread()
def logistic_risk_trace(task: TeacherTask, n_train: int, widths: Sequence[int], steps: int, lr: float, every: int,
                        seed: int) -> RiskTrace:
    """Train a bias-free ReLU student ``widths`` (seed ``seed``) with full-batch Adam on the logistic risk of the
    first ``n_train`` examples of ``task``, recording a :class:`RiskTrace` every ``every`` steps."""
    student = relu_mlp(list(widths), seed=seed, dtype=torch.float64, device="cpu")
    x, y = task.x_train[:n_train], task.y_train[:n_train]
    optimizer = torch.optim.Adam(student.parameters(), lr=lr)
    checkpoints, train, population, kl, error = [], [], [], [], 0.0
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            with torch.no_grad():
                terms = cross_entropy_terms(student(task.x_population)[:, 0], task.p_population)
                checkpoints.append(step)
                train.append(logistic_loss(student(x), y).item())
                population.append(terms[0].mean().item())
                kl.append(terms[2].mean().item())
                error = max(error, (terms[0] - terms[1] - terms[2]).abs().max().item())
        if step < steps:
            optimizer.zero_grad()
            logistic_loss(student(x), y).backward()
            optimizer.step()
    return RiskTrace(n_train, np.array(checkpoints), np.array(train), np.array(population), np.array(kl),
                     task.entropy(), error)


@dataclass(frozen=True)
class EntropyFloor:
    """§2.7: :class:`RiskTrace` of one student architecture per training-sample size ``n_train`` (keys)."""

    traces: dict[int, RiskTrace]

    def decomposition_error(self) -> float:
        """Largest |cross entropy - S(y|x) - KL| over sample sizes, checkpoints and inputs."""
        return max(trace.decomposition_error for trace in self.traces.values())

    def decomposition_holds(self, tol: float = 1e-12) -> bool:
        """Verdict on §II.3's decomposition: it holds within ``tol`` everywhere."""
        return self.decomposition_error() <= tol

    def floors_at_entropy(self) -> bool:
        """No population risk ever falls below S(y|x)."""
        return all(trace.floors_at_entropy() for trace in self.traces.values())

    def closest_approach(self) -> float:
        """Smallest population KL over S(y|x), over checkpoints, for the largest training sample."""
        trace = self.traces[max(self.traces)]
        return float(trace.population_kl.min() / trace.entropy)

    def reaches_entropy(self, share: float = 0.05) -> bool:
        """Verdict on §II.3 ("at a minimum KL = 0 and the risk is the entropy S(y|x)"): with the largest sample the
        population risk comes within ``share`` of S(y|x) above it, and never below."""
        return self.floors_at_entropy() and self.closest_approach() <= share

    def smallest_train_share(self) -> float:
        """Final training risk over S(y|x) for the smallest training sample."""
        return self.traces[min(self.traces)].train_risk_share()

    def train_risk_below_entropy(self, share: float = 0.5) -> bool:
        """Verdict: with the smallest sample the training risk ends below ``share`` times S(y|x)."""
        return self.smallest_train_share() < share


@one_cpu_thread()
def entropy_floor(task: TeacherTask, n_trains: Sequence[int], widths: Sequence[int], steps: int, lr: float,
                  every: int, seed: int) -> EntropyFloor:
    """:class:`EntropyFloor`: :func:`logistic_risk_trace` for each training-sample size, the same student seed."""
    return EntropyFloor({n: logistic_risk_trace(task, n, widths, steps, lr, every, seed) for n in n_trains})
