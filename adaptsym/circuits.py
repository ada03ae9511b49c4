"""Basis circuits of bias-free ReLU networks and their perturbations (Li §II.3, §II.5.2, §II.6.4).

A bias-free ReLU MLP with layers l = 1..L and widths n_0 = d_in, n_1, ..., n_L = d_out computes, for one
input x, the sum over all input-to-output paths i = (i_0, ..., i_L) of the basis circuits (Li eqs. 10-11)

    Psi_i = x_{i_0} w^1_{i_0 i_1} h^1_{i_1} w^2_{i_1 i_2} h^2_{i_2} ... h^{L-1}_{i_{L-1}} w^L_{i_{L-1} i_L},

where h^l_k = 1 if the pre-activation of neuron k of layer l is > 0, else 0 (the ReLU gates of Li eq. 7)
and there is no gate on the output. Here the input factor x_{i_0} is part of every circuit value.

Weight convention, used everywhere in this module: the paper's w^l_{ij} joins neuron i of layer l-1 to
neuron j of layer l, so in PyTorch it is ``linear_l.weight[j, i]`` (``nn.Linear.weight`` has shape
(out, in)). Layers are counted from 1 as in the paper: ``layer=1`` is the first ``nn.Linear``.

Circuits are listed in lexicographic order of (i_0, ..., i_{L-1}) (i_0 varies slowest), with a leading
dimension for the output i_L when d_out > 1. Differentiating a circuit by one of its weights replaces
that weight by 1 (the circuit is linear in each weight); the sums of such first- and second-order
perturbations are the gradient and Hessian entries of the output (Li eqs. 16, 18-19), with gates held
at their ReLU values. Li's Omega of eq. 16 also carries the loss derivative L'(.) at the top; here the
perturbations are those of T itself, and ``risk_gradient_by_circuits`` multiplies them by L'(yT) y (-y on the
margin-violating examples, 0 elsewhere) to give the gradient of the hinge risk (eqs. 12-13).

How much the circuits of an input cancel in their sum (``cancellation``) is computed exactly without enumerating
them: sums of |Psi| and Psi^2 over all paths factorise like the forward pass.
"""

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from adaptsym.checks import check_choice
from adaptsym.device import as_generator, one_cpu_thread, resolve_device
from adaptsym.hessian import output_gradient, output_hessian, risk_gradient, weights_in_order
from adaptsym.models import hinge_loss, margins, mlp_linears, relu_mlp, relu_pre_activations
from adaptsym.progress import progress_bar

MAX_PATHS = 20_000_000

Weight = tuple[int, int, int]
"""A weight w^layer_{ij} as (layer, i, j), i.e. ``linear_layer.weight[j, i]`` (see module docstring)."""


def count_circuits(widths: Sequence[int]) -> int:
    """Number of basis circuits (input-to-output paths) of an MLP with ``widths = [d_in, ..., d_out]``.

    The exact product of the widths as a Python int (eq. 11: the index set I is the product of the
    layers' index sets), valid for networks with far more paths than a float can count exactly.
    """
    return math.prod(int(w) for w in widths)


def count_weights(widths: Sequence[int]) -> int:
    """Number of weights of a bias-free MLP with ``widths``: sum over layers of n_{l-1} n_l.

    For comparison with ``count_circuits``: the weights grow linearly with depth, the circuits
    exponentially.
    """
    return sum(int(a) * int(b) for a, b in zip(widths[:-1], widths[1:]))


def depth_counts(width: int, depths: Sequence[int]) -> tuple[list[int], list[int]]:
    """Basis circuits and weights of bias-free MLPs of ``width`` hidden units and one output, widths
    ``[width] * L + [1]``, for each number of weight layers L in ``depths``: width^L circuits (eq. 11) against
    (L - 1) width² + width weights."""
    networks = [[width] * depth + [1] for depth in depths]
    return [count_circuits(w) for w in networks], [count_weights(w) for w in networks]


def circuits_outnumber_weights(counts: Sequence[int], weights: Sequence[int]) -> bool:
    """Verdict on :func:`depth_counts`: the deepest network has more basis circuits than weights."""
    return counts[-1] > weights[-1]


def layer_widths(model: nn.Sequential) -> list[int]:
    """``[d_in, n_1, ..., d_out]`` of a bias-free ReLU MLP (validated as by ``enumerate_circuits``)."""
    linears = mlp_linears(model)
    return [linears[0].in_features] + [layer.out_features for layer in linears]


def enumerate_circuits(model: nn.Sequential, x: torch.Tensor, max_paths: int = MAX_PATHS) -> torch.Tensor:
    """Values of all basis circuits Psi_i of ``model`` at one input ``x`` of shape (d_in,) (Li eqs. 10-11).

    Returns shape (n_paths,) for d_out = 1 and (d_out, n_paths) otherwise, n_paths = d_in n_1 ... n_{L-1},
    paths in lexicographic order of (i_0, ..., i_{L-1}). Summing over the last dimension gives model(x).
    Built layer by layer as outer products; raises ValueError beyond ``max_paths`` circuits in all
    (use ``sample_circuits`` for larger networks).
    """
    x, factors = _gated_layers(model, x)
    return _circuit_values(x, [weight * gate for weight, gate in factors], max_paths)


def first_order_circuits(
    model: nn.Sequential, x: torch.Tensor, layer: int, i: int, j: int, max_paths: int = MAX_PATHS
) -> torch.Tensor:
    """First-order perturbations of basis circuits by w^layer_{ij} (Li eq. 16, Fig. 2 Omega^{l-bar \\ {l}}).

    The circuits through the weight w^layer_{ij} = ``linear_layer.weight[j, i]`` with that weight
    differentiated out, i.e. the product of all their other factors (input, weights, gates). Shape and
    order as in ``enumerate_circuits``, over the free indices (i_0, ..., i_{L-1} without i_{l-1}, i_l);
    for d_out > 1 and layer = L, the rows of the other outputs are zero. Their sum over the last
    dimension is dT/dw^layer_{ij}, the gradient with gates held fixed (autograd's, away from kinks).
    """
    return _perturbed_circuits(model, x, [(layer, i, j)], max_paths)


def second_order_circuits(
    model: nn.Sequential, x: torch.Tensor, weight_a: Weight, weight_b: Weight, max_paths: int = MAX_PATHS
) -> torch.Tensor:
    """Second-order perturbations of basis circuits by two weights (Li eqs. 18-19, Omega^{l-bar \\ {l,l'}}).

    ``weight_a`` and ``weight_b`` are (layer, i, j) triples. The circuits through both weights with both
    differentiated out; their sum over the last dimension is the Hessian entry d^2 T / dw_a dw_b.
    Weights in the same layer share no path, so the result is empty (the Hessian entry is exactly 0),
    as it is for weights in adjacent layers that do not meet at a common neuron.
    """
    return _perturbed_circuits(model, x, [weight_a, weight_b], max_paths)


def assemblies(model: nn.Sequential, x: torch.Tensor, layer: int, max_paths: int = MAX_PATHS) -> torch.Tensor:
    """Neuron assemblies of layer ``layer``: per neuron, the sum of the basis circuits ending at it.

    Li Fig. 2: all basis circuits Psi^{1..l} ending at the same gate add up to the energy of that
    neuron's maximum-entropy law (eqs. 6, 8), which is its pre-activation. Shape (n_layer,).
    """
    linears = mlp_linears(model)
    _check_index("layer", layer, 1, len(linears))
    circuits = enumerate_circuits(model[: 2 * layer - 1], x, max_paths)
    return circuits.reshape(linears[layer - 1].out_features, -1).sum(-1)


def sample_circuits(
    model: nn.Sequential,
    x: torch.Tensor,
    n: int,
    generator: torch.Generator | int,
    output: int | None = None,
    order: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` basis circuits (or their perturbations) uniformly, without enumerating them.

    Each index i_0, ..., i_{L-1} is drawn uniformly and independently (on ``generator``'s device, or
    from a CPU generator seeded with it if an int), ending at output ``output`` (may be omitted when
    d_out = 1). With ``order = k > 0`` each sample also draws k distinct layers uniformly and differentiates
    out the weights of its path in them (the first- and second-order perturbations of Li eqs. 16 and 19,
    Fig. 3b), so every (path, k layers) pair is equally likely.

    Returns the values, shape (n,), and n_terms * mean(values) as a float64 scalar, n_terms = n_paths * C(L, k)
    with n_paths = d_in n_1 ... n_{L-1}: the unbiased estimate of T_output(x) (k = 0), of the sum over all
    weights of dT/dw (k = 1), or of the sum over weight pairs in distinct layers of d2T/dw dw' (k = 2). Works
    for 10^20 paths and more.
    """
    generator = as_generator(generator)
    if n < 1:
        raise ValueError(f"n must be a positive number of circuits to sample; got {n}")
    x, factors = _gated_layers(model, x)
    depth, d_out = len(factors), factors[-1][0].shape[1]
    _check_index("order", order, 0, depth)
    if output is None and d_out > 1:
        raise ValueError(f"the model has {d_out} outputs: choose one with output=0..{d_out - 1}")
    output = 0 if output is None else output
    _check_index("output", output, 0, d_out - 1)
    path = [
        torch.randint(weight.shape[0], (n,), generator=generator, device=generator.device).to(x.device)
        for weight, _ in factors
    ] + [torch.full((n,), output, device=x.device)]
    ranks = torch.rand(n, depth, generator=generator, device=generator.device).argsort(dim=1).to(x.device)
    differentiated = ranks < order  # k distinct layers per sample, uniformly
    values = x[path[0]]
    for layer, ((weight, gate), index, following) in enumerate(zip(factors, path[:-1], path[1:])):
        factor = torch.where(differentiated[:, layer], 1.0, weight[index, following])
        values = values * factor * gate[following]
    n_terms = count_circuits([weight.shape[0] for weight, _ in factors]) * math.comb(depth, order)
    return values, values.to(torch.float64).mean() * float(n_terms)


def circuit_risk(
    model: nn.Sequential,
    X: torch.Tensor,
    Y: torch.Tensor,
    max_paths: int = MAX_PATHS,
    progress: bool = True,
) -> torch.Tensor:
    """Hinge risk in circuit form (Li eq. 12): mean over examples of max(0, 1 - y sum_i Psi_i(x)).

    ``X`` has shape (m, d_in), ``Y`` shape (m,) (labels +-1 for binary classification); one output.
    Each T(x) is the sum of its enumerated basis circuits, so this equals the hinge loss of the outputs.
    """
    if X.ndim != 2 or Y.shape != (X.shape[0],):
        raise ValueError(
            f"X must have shape (m, d_in) and Y shape (m,); got {tuple(X.shape)} and {tuple(Y.shape)}"
        )
    if layer_widths(model)[-1] != 1:
        raise ValueError("the hinge risk of eq. 12 needs a model with a single output neuron")
    examples = progress_bar(X, desc="circuit risk", disable=not progress)
    outputs = torch.stack([enumerate_circuits(model, x, max_paths).sum() for x in examples])
    return torch.clamp(1 - Y.to(outputs) * outputs, min=0).mean()


def circuit_identity_holds(error: float, tol: float = 1e-12) -> bool:
    """Verdict on an exact circuit identity (eqs. 10-12, 16, 19): its float64 error is below ``tol``."""
    return error < tol


@dataclass(frozen=True)
class CircuitAssembly:
    """One labelled input's circuits and its feedback-control loop (Li Fig. 2 and its caption, eqs. 10-13, 16).

    A network's weights (PyTorch (out, in) order), its ReLU gates on the input (0/1 per hidden layer), the value of
    every circuit, the path ``(i_0, ..., i_{L-1})`` of the largest ``|Ψ|`` and the output ``T(x)`` (the assembly:
    the sum of all circuits into the output gate).  The perturbation: the weight ``weight = (layer, i, j)`` on that
    path differentiated out of it, ``perturbation`` the resulting first-order perturbation Ω of the highlighted
    circuit, ``gradient`` the sum of all ``n_perturbations`` perturbations through that weight, ∂T/∂w (eq. 16).
    The feedback: the label ``label`` y, compared with T(x) through the hinge loss (eq. 12)."""

    weights: list[torch.Tensor]
    gates: list[torch.Tensor]
    values: torch.Tensor
    path: tuple[int, ...]
    output: float
    label: float
    weight: Weight
    perturbation: float
    gradient: float
    n_perturbations: int

    @property
    def largest(self) -> float:
        """Value of the circuit along ``path``."""
        return self.values.reshape(tuple(w.shape[1] for w in self.weights))[self.path].item()

    @property
    def loss_derivative(self) -> float:
        """L'(yT(x)) of the hinge loss (:func:`hinge_derivative`): -1 on a margin violation, else 0."""
        return float(hinge_derivative(torch.tensor(self.label * self.output)))

    @property
    def risk_gradient(self) -> float:
        """This example's feedback to the weight: ∂L/∂w = L'(yT) y Σ Ω (eqs. 13, 16)."""
        return self.loss_derivative * self.label * self.gradient


def circuit_assembly(model: nn.Sequential, x: torch.Tensor, y: float) -> CircuitAssembly:
    """The circuits of a one-output network at one input ``x`` (d_in,) with label ``y`` (±1), for Fig. 2: the
    largest circuit, and its perturbation by its weight in layer ``(L + 1) // 2`` (:func:`first_order_circuits`)."""
    values = enumerate_circuits(model, x)
    widths = layer_widths(model)[:-1]
    largest = int(values.abs().argmax())
    path = tuple(int(i) for i in np.unravel_index(largest, widths))
    with torch.no_grad():
        output = model(x[None]).item()
    gates = [gate for _, gate in _gated_layers(model, x)[1][:-1]]
    layer = (len(widths) + 1) // 2
    weight = (layer, path[layer - 1], (path + (0,))[layer])
    omegas = first_order_circuits(model, x, *weight)
    free = [axis for axis in range(len(widths)) if axis not in (layer - 1, layer)]
    omega = omegas.reshape([widths[axis] for axis in free])[tuple(path[axis] for axis in free)].item()
    return CircuitAssembly([linear.weight.detach() for linear in mlp_linears(model)], gates, values, path, output,
                           float(y), weight, omega, omegas.sum().item(), omegas.numel())


def relative_path_sum_error(model: nn.Sequential, x: torch.Tensor, output: float) -> float:
    """``|Σ_i Ψ_i(x) - output| / max(1, |output|)``: the path sum (eqs. 10-11) against an output computed otherwise."""
    return abs(enumerate_circuits(model, x).sum().item() - output) / max(1.0, abs(output))


def hessian_check_pairs(n_weights: int, n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Pairs (a, b) of flattened weight indices at which to check eq. 19: all ``n_weights**2`` ordered pairs, or,
    if there are more than ``n``, ``n`` of them drawn without replacement with ``rng.choice``."""
    pairs = [(a, b) for a in range(n_weights) for b in range(n_weights)]
    if len(pairs) > n:
        pairs = [pairs[k] for k in rng.choice(len(pairs), n, replace=False)]
    return pairs


@dataclass(frozen=True)
class CircuitIdentityErrors:
    """Largest float64 errors of the circuit identities over a set of inputs (§3.2)."""

    path_sum: float  # relative |Σ_i Ψ_i(x) - T(x)| (eqs. 10-11)
    gradient: float  # |Σ first-order circuits - dT/dw| over every weight (eq. 16)
    hessian: float  # |Σ second-order circuits - d²T/dw dw'| over the checked pairs (eq. 19)
    same_layer: float  # |d²T/dw dw'| over every pair of weights of one layer

    def same_layer_blocks_vanish(self) -> bool:
        """Verdict: the within-layer Hessian blocks of T are exactly 0 (no path passes two weights of one layer)."""
        return self.same_layer == 0.0


@one_cpu_thread()
def circuit_identity_errors(model: nn.Sequential, inputs: torch.Tensor,
                            pairs: Sequence[tuple[int, int]]) -> CircuitIdentityErrors:
    """Path sums, first- and second-order circuit sums against the forward pass and autograd at every input.

    ``pairs`` index the flattened weights (:func:`adaptsym.hessian.weights_in_order`), as from
    :func:`hessian_check_pairs`.
    """
    weights = list(weights_in_order(layer_widths(model)))
    layer_of = torch.tensor([w[0] for w, _ in weights])
    same_layer = layer_of[:, None] == layer_of[None, :]
    path_sum, gradient, second, within = [], [], [0.0], [0.0]
    for x in inputs:
        path_sum.append(relative_path_sum_error(model, x, model(x[None]).item()))
        first = perturbation_sums(model, x, [[w] for w, _ in weights])
        gradient.append((first - output_gradient(model, x)[[i for _, i in weights]]).abs().max().item())
        hessian = output_hessian(model, x)
        if pairs:
            sums = perturbation_sums(model, x, [[weights[a][0], weights[b][0]] for a, b in pairs])
            rows, columns = ([weights[k][1] for k in ks] for ks in zip(*pairs))
            second.append((sums - hessian[rows, columns]).abs().max().item())
        within.append(hessian[same_layer].abs().max().item())
    return CircuitIdentityErrors(max(path_sum), max(gradient), max(second), max(within))


def risk_both_ways(model: nn.Sequential, X: torch.Tensor, Y: torch.Tensor) -> tuple[float, float]:
    """The hinge risk (eq. 12) in circuit form (:func:`circuit_risk`) and from the network's forward pass."""
    with torch.no_grad():
        direct = hinge_loss(model(X), Y).item()
    return circuit_risk(model, X, Y, progress=False).item(), direct


def signed_circuits(model: nn.Sequential, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The circuits signed by the label, ``y Ψ_i(x)``, per example: shape (m, n_paths); rows sum to the margins."""
    return torch.stack([y * enumerate_circuits(model, x) for x, y in zip(X, Y)])


@dataclass(frozen=True)
class FeedbackLoop:
    """The feedback-control loop (eq. 13) seen through the signed circuits ``yΨ`` at training snapshots (§3.3).

    Per snapshot in ``epochs``: the mean margin ``yT(x) = Σ_i yΨ_i(x)`` over the inputs, and over the *open*
    circuits (``Ψ ≠ 0``) the mean of ``yΨ``, its mean over its std, and the fraction with ``yΨ > 0``; the fraction of
    circuits open.  ``mass_shift[k]`` holds, for snapshot k + 1, the mass of the open ``yΨ`` in each of the bins
    holding equal mass at the first snapshot, minus that equal mass.  ``history`` is the run's per-epoch record.
    """

    epochs: list[int]
    history: list[dict]
    mean_margin: list[float]
    open_mean: list[float]
    asymmetry: list[float]
    positive_fraction: list[float]
    open_fraction: list[float]
    mass_shift: np.ndarray

    @property
    def train_risk(self) -> list[float]:
        """The training hinge risk at each snapshot."""
        return [self.history[epoch]["train_loss"] for epoch in self.epochs]

    def risk_ratio(self) -> float:
        """Training risk at the last snapshot over that at the first."""
        return self.train_risk[-1] / self.train_risk[0]

    def lowers_risk(self) -> bool:
        """Verdict on eq. 13: the loop ends with a lower training risk than it started with."""
        return self.train_risk[-1] < self.train_risk[0]

    def margin_increase(self) -> float:
        """Mean margin at the last snapshot minus that at the first."""
        return self.mean_margin[-1] - self.mean_margin[0]

    def aligns_with_label(self) -> bool:
        """Verdict: the loop shifts the signed circuits' sum, the mean margin, upwards."""
        return self.mean_margin[-1] > self.mean_margin[0]


@one_cpu_thread()
def feedback_loop(run, epochs: Sequence[int], X: torch.Tensor, Y: torch.Tensor, bins: int = 20) -> FeedbackLoop:
    """The signed circuits of a training run (an :class:`adaptsym.train.Run` with snapshots at ``epochs``) on the
    examples ``(X, Y)``, summarised per snapshot as in :class:`FeedbackLoop`."""
    signed = [signed_circuits(run.model(epoch), X, Y) for epoch in epochs]
    open_values = [s[s != 0].numpy() for s in signed]
    edges = np.quantile(open_values[0], np.linspace(0, 1, bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    return FeedbackLoop(
        list(epochs), run.history, [s.sum(1).mean().item() for s in signed], [s[s != 0].mean().item() for s in signed],
        [(v.mean() / v.std()).item() for v in open_values], [(v > 0).mean() for v in open_values],
        [(s != 0).float().mean().item() for s in signed],
        np.array([np.histogram(v, edges)[0] / v.size - 1 / bins for v in open_values[1:]]))


def hinge_derivative(margins: torch.Tensor) -> torch.Tensor:
    """L'(m) of the hinge loss L(m) = max(0, 1 - m) at margins m = yT(x) (eq. 12): -1 where m < 1, else 0.

    Only the margin violations (m < 1) feed back; Li calls them the informational perturbations (§I, §II.5.2).
    The kink m = 1 (measure zero) gets 0.
    """
    margins = torch.as_tensor(margins)
    return torch.where(margins < 1, -1.0, 0.0).to(margins.dtype)


@one_cpu_thread()
def risk_gradient_by_circuits(model: nn.Sequential, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """∇_w R of the hinge risk (eq. 12) as circuit sums: E_x[L'(yT(x)) y Σ_i Ω_i(x)] (Li eqs. 13, 15-16).

    Li's first-order perturbation Ω of eq. 16 carries the loss derivative L' at the top; here L'(yT) y multiplies
    the perturbations of T (:func:`first_order_circuits`), and examples with L' = 0 contribute nothing.  A flat
    vector over the weights in the order of :func:`adaptsym.hessian.flat_weights`.
    """
    weights = list(weights_in_order(layer_widths(model)))
    order = torch.tensor([index for _, index in weights])
    gradient = torch.zeros(len(weights), dtype=X.dtype)
    with torch.no_grad():
        slopes = hinge_derivative(margins(model, X, Y))
    for x, y, slope in zip(X, Y, slopes):
        if slope != 0:
            gradient[order] += slope * y * perturbation_sums(model, x, [[weight] for weight, _ in weights])
    return gradient / len(X)


@dataclass(frozen=True)
class RiskGradientCheck:
    """The risk gradient in circuit form (:func:`risk_gradient_by_circuits`) against autograd of the hinge risk:
    the largest absolute difference, the largest |∂R/∂w|, and how many of the examples violate the margin."""

    error: float
    scale: float
    n_examples: int
    n_violations: int


def risk_gradient_check(model: nn.Sequential, X: torch.Tensor, Y: torch.Tensor) -> RiskGradientCheck:
    """Compare :func:`risk_gradient_by_circuits` with :func:`adaptsym.hessian.risk_gradient` (autograd, eq. 13)."""
    reference = risk_gradient(model, X, Y)
    circuit_form = risk_gradient_by_circuits(model, X, Y)
    return RiskGradientCheck((circuit_form - reference).abs().max().item(), reference.abs().max().item(), len(X),
                             int((margins(model, X, Y) < 1).sum()))


@dataclass(frozen=True)
class InformationalPerturbations:
    """The examples whose loss derivative is non-zero (margin yT < 1: Li's informational perturbations) at the
    snapshots ``epochs`` of a training run: the hinge risk, the fraction of violating examples and all margins."""

    epochs: list[int]
    risk: list[float]
    fraction: list[float]
    margins: list[np.ndarray]

    def falls_with_risk(self) -> bool:
        """Verdict: while the risk falls (last below first), the fraction of margin violations never rises from one
        snapshot to the next and ends below where it started."""
        steps = np.diff(self.fraction)
        return self.risk[-1] < self.risk[0] and bool(np.all(steps <= 0)) and self.fraction[-1] < self.fraction[0]


@one_cpu_thread()
def informational_perturbations(run, epochs: Sequence[int], X: torch.Tensor,
                                Y: torch.Tensor) -> InformationalPerturbations:
    """:class:`InformationalPerturbations` of a training run (:class:`adaptsym.train.Run`) on ``(X, Y)``."""
    with torch.no_grad():
        found = [margins(run.model(epoch), X, Y) for epoch in epochs]
    return InformationalPerturbations(list(epochs), [torch.clamp(1 - m, min=0).mean().item() for m in found],
                                      [(m < 1).double().mean().item() for m in found], [m.numpy() for m in found])


@dataclass(frozen=True)
class PathSumEstimate:
    """``T(x)`` estimated from ``n_sampled`` uniformly sampled circuits (:func:`sample_circuits`) out of ``n_paths``,
    with the estimate's standard error, the exact output and the fraction of sampled circuits that are open."""

    n_paths: int
    n_sampled: int
    estimate: float
    standard_error: float
    exact: float
    open_fraction: float

    @property
    def z_score(self) -> float:
        """(estimate - exact) / standard error."""
        return (self.estimate - self.exact) / self.standard_error

    def unbiased(self, max_z: float = 4.0) -> bool:
        """Verdict: the estimate lies within ``max_z`` standard errors of the exact output."""
        return abs(self.z_score) < max_z

    def can_detect_bias(self, max_z: float = 4.0) -> bool:
        """Whether :meth:`unbiased` could fail: an estimator biased by as much as ``|T(x)|`` itself would lie
        beyond ``max_z`` standard errors, i.e. ``max_z`` standard errors are below ``|T(x)|``."""
        return max_z * self.standard_error < abs(self.exact)

    def unbiasedness(self, max_z: float = 4.0) -> bool | None:
        """Verdict on unbiasedness: :meth:`unbiased` where :meth:`can_detect_bias`, else None (inconclusive: with a
        standard error many times ``|T(x)|`` the z-test passes any estimate of the right order of magnitude)."""
        return self.unbiased(max_z) if self.can_detect_bias(max_z) else None


def estimate_path_sum(model: nn.Sequential, x: torch.Tensor, n: int,
                      generator: torch.Generator | int) -> PathSumEstimate:
    """Estimate a one-output network's ``T(x)`` from ``n`` uniformly sampled circuits (for any number of paths)."""
    n_paths = count_circuits(layer_widths(model)[:-1])
    values, estimate = sample_circuits(model, x, n, generator)
    with torch.no_grad():
        exact = model(x[None]).item()
    return PathSumEstimate(n_paths, n, estimate.item(), values.std().item() / np.sqrt(n) * n_paths, exact,
                           (values != 0).float().mean().item())


@dataclass(frozen=True)
class Cancellation:
    """How the circuits of each of several inputs cancel in their sum (§3.4), from :func:`cancellation`.

    Per input: the output T(x) = Σ_i Ψ_i, the absolute sum Σ_i |Ψ_i|, the square sum Σ_i Ψ_i² and the number of
    open circuits (every gate on the path open).  If T were a sum of N independent random-sign terms of one size,
    Σ|Ψ| / |ΣΨ| would grow like √N; with unequal sizes the count that matters is the effective number
    (Σ|Ψ|)² / ΣΨ² ≤ N, and T / √(ΣΨ²) would be of order one (standard normal for many terms).
    """

    output: np.ndarray
    absolute_sum: np.ndarray
    square_sum: np.ndarray
    n_open: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """The cancellation ratio Σ|Ψ| / |ΣΨ| per input (inf where T(x) = 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.absolute_sum / np.abs(self.output)

    @property
    def effective_count(self) -> np.ndarray:
        """(Σ|Ψ|)² / ΣΨ²: the number of equal-size terms with the same absolute and square sums (nan if none open)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.absolute_sum ** 2 / self.square_sum

    @property
    def normalised_output(self) -> np.ndarray:
        """T(x) / √(ΣΨ²): of order one, with mean square 1, if the circuits add up like independent random signs."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.output / np.sqrt(self.square_sum)

    def sampling_standard_error(self, n_paths: int, n: int) -> np.ndarray:
        """Standard error of T(x) estimated from ``n`` of all ``n_paths`` circuits drawn uniformly
        (:func:`sample_circuits`): √((N ΣΨ² − T²) / n), N = ``n_paths``."""
        return np.sqrt((float(n_paths) * self.square_sum - self.output ** 2) / n)


def cancellation(model: nn.Sequential, X: torch.Tensor) -> Cancellation:
    """:class:`Cancellation` of a one-output network on the inputs ``X`` (m, d_in), exactly and without enumerating.

    A circuit's absolute value (square) is the product of the absolute values (squares) of its factors (eq. 11), so
    the sums over all paths factorise like the forward pass: Σ|Ψ| = |x|ᵀ|W¹|H¹ ⋯ |W^L| and ΣΨ² = (x²)ᵀ(W¹)²H¹ ⋯
    (W^L)², with the gates H^l of the real forward pass; the open circuits number d_in Π_l (open gates of layer l).
    Exact for any number of paths (10^20 and more), in the model's dtype.
    """
    linears = mlp_linears(model)
    X = torch.as_tensor(X, dtype=linears[0].weight.dtype, device=linears[0].weight.device)
    values, magnitudes, squares = X, X.abs(), X ** 2
    n_open = torch.full((len(X),), float(X.shape[1]), dtype=torch.float64)
    with torch.no_grad():
        for layer in linears:
            weight = layer.weight.T
            values = values @ weight
            gate = (values > 0).to(X.dtype) if layer is not linears[-1] else torch.ones_like(values)
            values, magnitudes, squares = values * gate, magnitudes @ weight.abs() * gate, squares @ weight ** 2 * gate
            n_open *= gate.sum(1).double() if layer is not linears[-1] else 1
    return Cancellation(*(t.squeeze(-1).double().cpu().numpy() for t in (values, magnitudes, squares)),
                        n_open.cpu().numpy())


def enumerated_cancellation(model: nn.Sequential, X: torch.Tensor) -> Cancellation:
    """:class:`Cancellation` by enumerating every circuit (:func:`enumerate_circuits`): the reference for
    :func:`cancellation` on networks small enough to enumerate (open circuits counted as Ψ ≠ 0)."""
    values = [enumerate_circuits(model, x) for x in X]
    return Cancellation(*(np.array([f(v) for v in values]) for f in (
        lambda v: v.sum().item(), lambda v: v.abs().sum().item(), lambda v: (v ** 2).sum().item(),
        lambda v: float((v != 0).sum()))))


def cancellation_difference(model: nn.Sequential, X: torch.Tensor) -> float:
    """Largest relative difference between :func:`cancellation` and :func:`enumerated_cancellation` over the
    inputs and the four quantities (output, absolute sum, square sum, open count)."""
    fast, slow = cancellation(model, X), enumerated_cancellation(model, X)
    return max(float(np.max(np.abs(getattr(fast, f) - getattr(slow, f)) / np.maximum(1.0, np.abs(getattr(slow, f)))))
               for f in ("output", "absolute_sum", "square_sum", "n_open"))


@dataclass(frozen=True)
class CancellationScaling:
    """:class:`Cancellation` over random networks (He initialisation, :func:`adaptsym.models.relu_mlp`) of every
    depth (number of weight layers) in ``depths`` and hidden width in ``widths``: arrays of shape
    (depths, widths, networks, inputs) of log Σ|Ψ|/|ΣΨ|, log(open circuits), log(effective count) and T/√ΣΨ²
    (nan where no circuit is open)."""

    depths: list[int]
    widths: list[int]
    log_ratio: np.ndarray
    log_open: np.ndarray
    log_effective: np.ndarray
    normalised_output: np.ndarray

    def cell_means(self, against: str = "open") -> tuple[np.ndarray, np.ndarray]:
        """Per (depth, width): the mean over networks and inputs of log(count) (``against`` "open" or
        "effective") and of log(ratio), each of shape (depths, widths)."""
        counts = self.log_open if against == "open" else self.log_effective
        return np.nanmean(counts, axis=(2, 3)), np.nanmean(self.log_ratio, axis=(2, 3))

    def exponent(self, against: str = "open", n_boot: int = 200, seed: int = 0) -> tuple[float, float]:
        """The exponent α of Σ|Ψ|/|ΣΨ| ∝ count^α: the least-squares slope of the cells' mean log ratio on their
        mean log count (:meth:`cell_means`), and its standard error from resampling each cell's networks."""
        check_choice(against, ("open", "effective"), "count")
        counts = self.log_open if against == "open" else self.log_effective
        slope = np.polyfit(*(a.ravel() for a in self.cell_means(against)), 1)[0]
        rng = np.random.default_rng(seed)
        n_networks = counts.shape[2]
        boot = []
        for _ in range(n_boot):
            pick = rng.integers(0, n_networks, counts.shape[:3])[..., None]
            means = [np.nanmean(np.take_along_axis(a, pick, axis=2), axis=(2, 3)) for a in (counts, self.log_ratio)]
            boot.append(np.polyfit(*(m.ravel() for m in means), 1)[0])
        return float(slope), float(np.std(boot))

    def grows_like_sqrt(self, against: str = "open", max_error: float = 0.025) -> bool | None:
        """Verdict: α is within two standard errors of 1/2 (random-sign sum); None (inconclusive) if two standard
        errors exceed ``max_error``, too wide to tell 1/2 from a nearby exponent."""
        alpha, error = self.exponent(against)
        return abs(alpha - 0.5) < 2 * error if 2 * error <= max_error else None


@one_cpu_thread()
def cancellation_scaling(d_in: int, depths: Sequence[int], widths: Sequence[int], n_networks: int, X: torch.Tensor,
                         seed: int = 0) -> CancellationScaling:
    """:class:`CancellationScaling` of ``n_networks`` float64 networks ``[d_in, width, ..., width, 1]`` per cell on
    the inputs ``X``; network k of cell (depth, width) is seeded by (seed, depth, width, k)."""
    shape = (len(depths), len(widths), n_networks, len(X))
    arrays = {name: np.full(shape, np.nan) for name in ("ratio", "open", "effective", "normalised")}
    for a, depth in enumerate(depths):
        for b, width in enumerate(widths):
            for k in range(n_networks):
                network_seed = int(np.random.SeedSequence([seed, depth, width, k]).generate_state(1)[0])
                model = relu_mlp([d_in] + [width] * (depth - 1) + [1], seed=network_seed, dtype=torch.float64,
                                 device="cpu")
                found = cancellation(model, X)
                is_open = found.n_open > 0
                for name, values in (("ratio", found.ratio), ("open", found.n_open),
                                     ("effective", found.effective_count), ("normalised", found.normalised_output)):
                    arrays[name][a, b, k] = np.where(is_open, values, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return CancellationScaling(list(depths), list(widths), np.log(arrays["ratio"]), np.log(arrays["open"]),
                                   np.log(arrays["effective"]), arrays["normalised"])


def unroll_conv(
    model: nn.Sequential,
    input_shape: Sequence[int],
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "auto",
) -> nn.Sequential:
    """The bias-free ReLU MLP equal to a tiny bias-free CNN (Li §II.7: a CNN is a sparse, weight-shared MLP).

    ``model`` is an nn.Sequential of Conv2d(bias=False), ReLU, Flatten and Linear(bias=False) acting on
    images of shape ``input_shape`` = (C, H, W) (no batch dimension). Each convolution (any padding,
    stride, dilation, groups) becomes the dense matrix obtained by applying it to the C*H*W basis
    images; Flatten becomes the identity (row-major C, H, W order), so the result takes flattened
    images and ``enumerate_circuits`` on it gives the CNN's circuits; their sum is the CNN output.

    MaxPool is not supported: which input a pooling window passes on depends on the input (an argmax,
    a gate too, but one that selects among units rather than a ReLU gate on one unit's own
    pre-activation), so no fixed Linear/ReLU network reproduces it; it raises ValueError.
    """
    device = resolve_device(device)
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (channels, height, width); got {shape}")
    layers: list[nn.Module] = []
    for module in model:
        if isinstance(module, nn.Conv2d) and module.bias is None and len(shape) == 3:
            dense, shape = _conv_matrix(module, shape, dtype, device)
            layers.append(_linear(dense))
        elif isinstance(module, nn.Linear) and module.bias is None and shape == (module.in_features,):
            layers.append(_linear(module.weight.detach().to(dtype=dtype, device=device, copy=True)))
            shape = (module.out_features,)
        elif isinstance(module, nn.Flatten) and (module.start_dim, module.end_dim) == (1, -1):
            shape = (math.prod(shape),)
        elif isinstance(module, nn.ReLU):
            layers.append(nn.ReLU())
        else:
            raise ValueError(
                f"unroll_conv supports Conv2d(bias=False) on (C, H, W) maps, then Flatten(), then "
                f"Linear(bias=False) with matching in_features, and ReLU; got {module} on shape {shape}"
                " (MaxPool is not supported: its selection depends on the input, see the docstring)"
            )
    if len(shape) != 1:
        raise ValueError(f"the CNN must end with a vector (add nn.Flatten()); its output has shape {shape}")
    unrolled = nn.Sequential(*layers)
    mlp_linears(unrolled)
    return unrolled


def cnn_path_sum_error(cnn: nn.Sequential, unrolled: nn.Sequential, images: torch.Tensor) -> float:
    """Largest :func:`relative_path_sum_error` over ``images`` (N, C, H, W) of the circuits of ``unrolled``
    (:func:`unroll_conv`) against the one-output CNN's own outputs."""
    with torch.no_grad():
        outputs = cnn(images).flatten()
    return max(relative_path_sum_error(unrolled, image.flatten(), output.item())
               for image, output in zip(images, outputs))


def _conv_matrix(
    conv: nn.Conv2d, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Dense (out, in) matrix of a bias-free convolution on (C, H, W) maps, and its output shape."""
    if conv.in_channels != shape[0]:
        raise ValueError(f"{conv} expects {conv.in_channels} input channels; the maps have shape {shape}")
    size = math.prod(shape)
    basis = torch.eye(size, dtype=dtype, device=device).reshape(size, *shape)
    with torch.no_grad():
        images = copy.deepcopy(conv).to(dtype=dtype, device=device)(basis)
    return images.reshape(size, -1).T.contiguous(), tuple(images.shape[1:])


def _linear(weight: torch.Tensor) -> nn.Linear:
    """A bias-free nn.Linear holding ``weight`` (out, in), without drawing random numbers."""
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False, device="meta")
    layer.weight = nn.Parameter(weight)
    return layer


def _gated_layers(
    model: nn.Sequential, x: torch.Tensor
) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """The input and, per layer l, (W^l, h^l): paper-oriented weights (n_{l-1}, n_l) and ReLU gates (eq. 7).

    W^l = ``linear_l.weight.T``; h^l_k = 1 where the pre-activation is > 0 (h^L = 1: no output gate).
    """
    linears = mlp_linears(model)
    weight = linears[0].weight
    x = torch.as_tensor(x, dtype=weight.dtype, device=weight.device)
    if x.shape != (linears[0].in_features,):
        raise ValueError(f"x must be one input of shape ({linears[0].in_features},); got {tuple(x.shape)}")
    with torch.no_grad():
        gates = [(z[0] > 0).to(x.dtype) for z in relu_pre_activations(model, x[None])]
    gates.append(torch.ones(linears[-1].out_features, dtype=x.dtype, device=x.device))
    return x, [(layer.weight.detach().T, gate) for layer, gate in zip(linears, gates)]


def _perturbed_circuits(
    model: nn.Sequential, x: torch.Tensor, weights: list[Weight], max_paths: int
) -> torch.Tensor:
    """Circuits through all ``weights`` with those weights differentiated out.

    Each differentiated layer's gated matrix W^l diag(h^l) becomes its derivative, E_{ij} h^l_j, and the
    neighbouring axes i_{l-1}, i_l are pinned to i and j (kept as size-1 axes, which the final reshape
    drops; the output axis stays whole). Pins that disagree, or two weights in one layer (no path uses
    two weights of a layer), leave an empty axis, hence no circuits.
    """
    return _perturbed_from_factors(*_gated_layers(model, x), weights, max_paths)


def perturbation_sums(model: nn.Sequential, x: torch.Tensor, weight_sets: Sequence[Sequence[Weight]],
                      max_paths: int = MAX_PATHS) -> torch.Tensor:
    """For each list of weights in ``weight_sets``, the sum of the circuits through them all with them all
    differentiated out (one weight: ∂T/∂w, eq. 16; two: ∂²T/∂w∂w', eq. 19), with the gates of ``x`` computed
    once.  Shape (len(weight_sets),) for one output."""
    x, factors = _gated_layers(model, x)
    return torch.stack([_perturbed_from_factors(x, factors, list(weights), max_paths).sum(-1)
                        for weights in weight_sets])


def _perturbed_from_factors(x: torch.Tensor, factors: list[tuple[torch.Tensor, torch.Tensor]],
                            weights: list[Weight], max_paths: int) -> torch.Tensor:
    """:func:`_perturbed_circuits` given the input and the gated layers of :func:`_gated_layers`."""
    widths = [x.shape[0]] + [weight.shape[1] for weight, _ in factors]
    matrices = [weight * gate for weight, gate in factors]
    pins: list[list[int] | None] = [None] * len(widths)
    for number, (layer, i, j) in enumerate(weights):
        _check_index("layer", layer, 1, len(factors))
        _check_index("i", i, 0, widths[layer - 1] - 1)
        _check_index("j", j, 0, widths[layer] - 1)
        derivative = torch.zeros_like(matrices[layer - 1])
        derivative[i, j] = factors[layer - 1][1][j]
        matrices[layer - 1] = derivative
        for axis, index in [(layer - 1, i)] + ([(layer, j)] if layer < len(factors) else []):
            pins[axis] = [index] if pins[axis] in (None, [index]) else []
        if layer in [other for other, _, _ in weights[:number]]:
            pins[layer - 1] = []
    keep = [range(width) if pin is None else pin for width, pin in zip(widths, pins)]
    keep = [torch.tensor(list(kept), dtype=torch.long, device=x.device) for kept in keep]
    matrices = [m[keep[l]][:, keep[l + 1]] for l, m in enumerate(matrices)]
    return _circuit_values(x[keep[0]], matrices, max_paths)


def _circuit_values(x: torch.Tensor, matrices: list[torch.Tensor], max_paths: int) -> torch.Tensor:
    """Products x_{i_0} M^1_{i_0 i_1} ... M^L_{i_{L-1} i_L} over all paths, as (d_out, paths) or (paths,)."""
    n_paths = count_circuits([x.shape[0]] + [m.shape[1] for m in matrices])
    if n_paths > max_paths:
        raise ValueError(
            f"{n_paths} circuits exceed max_paths={max_paths}: use sample_circuits for a network this large"
            " (or raise max_paths if memory allows)"
        )
    values = x
    for matrix in matrices:
        values = values.unsqueeze(-1) * matrix
    d_out = values.shape[-1]
    values = values.movedim(-1, 0).reshape(d_out, n_paths // d_out)
    return values[0] if d_out == 1 else values


def _check_index(name: str, value: int, low: int, high: int) -> None:
    """Raise ValueError unless low <= value <= high."""
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}; got {value}")
