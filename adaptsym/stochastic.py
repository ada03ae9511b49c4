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

from adaptsym.models import hinge_loss, mlp_linears
from adaptsym.progress import progress_bar

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


def gradient_gaps(networks: dict[str, nn.Sequential], x: torch.Tensor, y: torch.Tensor,
                  temperatures: Sequence[float], seed: int, n_draws: int = 1) -> GradientGaps:
    """:func:`sampled_gradient_gap` of each network, each from a generator seeded with ``seed`` on ``x``'s device."""
    return GradientGaps(np.asarray(temperatures), {
        name: sampled_gradient_gap(net, x, y, temperatures, _generator(seed, x.device), n_draws)
        for name, net in networks.items()}, n_draws)


@dataclass(frozen=True)
class TemperatureTraining:
    """§2.4: training histories (``adaptsym.train.Run.history``) of the stochastic network per temperature, 0 being
    the deterministic ReLU run, with the size of the test set their accuracies were measured on."""

    histories: dict[float, list[dict]]
    n_test: int

    def risk_ratio(self) -> float:
        """Largest final over initial training risk of the ReLU network, over temperatures."""
        return max(h[-1]["train_loss"] for h in self.histories.values()) / self.histories[0.0][0]["train_loss"]

    def trains_at_every_temperature(self) -> bool:
        """Verdict on training as generalised EM: at every temperature the final ReLU risk is below half the
        initial one."""
        initial = self.histories[0.0][0]["train_loss"]
        return all(h[-1]["train_loss"] < 0.5 * initial for h in self.histories.values())

    def accuracy_gap(self, temperature: float) -> float:
        """``|final test accuracy at temperature - that of the deterministic run|``."""
        return abs(self.histories[temperature][-1]["test_accuracy"] - self.histories[0.0][-1]["test_accuracy"])

    def accuracy_standard_error(self) -> float:
        """Binomial standard error of the deterministic run's final test accuracy."""
        accuracy = self.histories[0.0][-1]["test_accuracy"]
        return np.sqrt(accuracy * (1 - accuracy) / self.n_test)

    def matches_relu(self, temperature: float) -> bool:
        """Verdict: the run at ``temperature`` ends within twice the standard error of the deterministic run."""
        return bool(self.accuracy_gap(temperature) <= 2 * self.accuracy_standard_error())
