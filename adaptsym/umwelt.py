"""The Umwelt formalism of Li §II.1 (eqs. 1-8): enclosed maximum entropy, hierarchical parameters, gate laws.

Notation.  Gates ``h`` live in {0,1}^n and are enumerated in lexicographic order (:func:`gate_states`).  For a
bias-free ReLU network (``nn.Sequential`` of ``Linear(bias=False)`` and ``ReLU``) the hidden layers are the
gate layers l = 1..L-1; ``z_l = W_l x_{l-1}`` is the pre-activation and ``x_l = dg(h_l) z_l``.

Temperature.  Li writes ``W = Ŵ / T`` (text before eq. 7): given the layers below, the law of eq. 6 factorises
over the gates of layer l, each a Bernoulli variable with logit ``z_l / T`` where ``z_l`` is computed with the
network's own weights.  We use exactly that: the network's activations are those of its weights, and the
temperature only enters the gate law.  As ``T -> 0`` the law concentrates on the ReLU gate pattern of eq. 7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize
from scipy.special import logsumexp
from torch import nn

from .models import mlp_linears


def gate_states(n: int) -> np.ndarray:
    """All 2^n gate configurations h in {0,1}^n as rows, in lexicographic order (h_1 most significant)."""
    if n < 1 or n > 24:
        raise ValueError(f"gate_states enumerates 2^n states; need 1 <= n <= 24, got n={n}")
    codes = np.arange(2**n)[:, None]
    return ((codes >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


# ----------------------------------------------------------------------------------------------------------
# Eqs. 1-3: the enclosed maximum-entropy problem, solved exactly by enumeration of h.
# ----------------------------------------------------------------------------------------------------------

def coupling_features(contexts: np.ndarray, n: int) -> np.ndarray:
    """The constrained statistics of eq. 1: ``f_{(a,i)}(h | c) = c_a h_i`` for every context ``c``.

    ``contexts`` (m x k) holds, per observed datum, the product of the already observed variables: ``x`` at
    scale 1, ``x ⊗ h_1`` at scale 2, and so on.  Returns an array (m, 2^n, k*n) over all gate states.
    """
    states = gate_states(n)
    return np.einsum("ma,si->msai", np.asarray(contexts, dtype=np.float64), states).reshape(
        len(contexts), len(states), -1)


@dataclass(frozen=True)
class MaxEntSolution:
    """Solution of the enclosed maximum-entropy problem: multipliers λ (eqs. 2-3) and the law it gives."""

    multipliers: np.ndarray  # λ, one per constrained statistic
    law: np.ndarray  # μ(h | c_j) for every context j and gate state h, shape (m, 2^n)
    constraint_error: float  # max |E_μ[f] - τ|
    entropy: float  # mean conditional entropy (nats)
    converged: bool


def exponential_family_law(features: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """``μ(h|c) = exp(Σ λ f(h|c)) / Z(c)`` (eqs. 2-3) for every context; shape (m, 2^n)."""
    energy = features @ multipliers
    return np.exp(energy - logsumexp(energy, axis=1, keepdims=True))


def expected_statistics(law: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``E[f]``: the statistics averaged over gate states (by ``law``) and over the m contexts (uniformly)."""
    return np.einsum("ms,msk->k", law, features) / len(law)


def conditional_entropy(law: np.ndarray) -> float:
    """Mean over contexts of the entropy ``-Σ_h μ log μ`` (nats), with 0 log 0 = 0."""
    safe = np.where(law > 0, law, 1.0)
    return float(-(law * np.log(safe)).sum(axis=1).mean())


def solve_enclosed_maxent(features: np.ndarray, tau: np.ndarray, tol: float = 1e-8) -> MaxEntSolution:
    """Solve eq. 1 through its convex dual ``min_λ mean_j log Z(c_j; λ) - λ·τ``.

    The gradient of the dual is ``E_μ[f] - τ`` (the constraint residual) and its Hessian the covariance of the
    statistics, so a trust-region Newton method converges to near machine precision when τ is feasible.
    ``converged`` is judged on the constraint residual itself: ``max |E_μ[f] - τ| <= tol``.
    """
    tau = np.asarray(tau, dtype=np.float64)
    m = len(features)

    def dual(lam):
        return float(logsumexp(features @ lam, axis=1).mean() - lam @ tau)

    def grad(lam):
        return expected_statistics(exponential_family_law(features, lam), features) - tau

    def hess(lam):
        law = exponential_family_law(features, lam)
        mean = np.einsum("ms,msk->mk", law, features)
        second = np.einsum("ms,msk,msl->kl", law, features, features)
        return (second - mean.T @ mean) / m

    result = minimize(dual, np.zeros(features.shape[-1]), jac=grad, hess=hess, method="trust-exact",
                      options={"gtol": tol * 1e-3, "maxiter": 500})
    # scipy stops once the dual's decrease is below float64 resolution ("bad approximation"), which can leave
    # a residual near 1e-9; a few full Newton steps (least squares: collinear statistics make the Hessian
    # singular) take the residual to rounding level.
    lam = result.x
    for _ in range(5):
        lam = lam - np.linalg.lstsq(hess(lam), grad(lam), rcond=None)[0]
    law = exponential_family_law(features, lam)
    error = float(np.abs(expected_statistics(law, features) - tau).max())
    return MaxEntSolution(lam, law, error, conditional_entropy(law), error <= tol)


def random_conditional_law(m: int, n: int, concentration: float = 0.3, seed: int = 0) -> np.ndarray:
    """A law ν(h | c_j) with no exponential-family structure (independent Dirichlet rows), shape (m, 2^n).

    Its statistics ``τ = E_ν[f]`` are feasible constraints for eq. 1, and ν itself satisfies them, so the
    maximum-entropy solution must have at least ν's entropy.
    """
    return np.random.default_rng(seed).dirichlet(np.full(2**n, concentration), size=m)


def bernoulli_gate_law(logits: np.ndarray) -> np.ndarray:
    """The law of independent gates ``P(h_i = 1) = σ(logit_i)`` over all 2^n states; logits (m, n) -> (m, 2^n)."""
    logits = np.asarray(logits, dtype=np.float64)
    states = gate_states(logits.shape[1])
    log_p = -np.logaddexp(0.0, -np.einsum("si,mi->msi", 2 * states - 1, logits))  # log σ(±logit)
    return np.exp(log_p.sum(axis=2))


@dataclass(frozen=True)
class EnclosedMaxEnt:
    """Eq. 1 solved for constraints that a law with no exponential-family structure generated (§1.1's checks).

    ``tau = E_ν[f]`` are the constraints and ``teacher`` the law ν that generated them (:func:`random_conditional_law`);
    ``achieved`` holds the statistics ``E_μ[f]`` of the maximum-entropy solution μ, and ``form_error`` the largest
    deviation of the enumerated μ from the product of Bernoulli gates with logits ``λ^T c`` (eqs. 2-3, and eq. 6 at
    one scale).
    """

    tau: np.ndarray
    achieved: np.ndarray
    teacher: np.ndarray
    teacher_entropy: float
    solution: MaxEntSolution
    form_error: float

    def constraints_met(self, tol: float = 1e-8) -> bool:
        """Verdict on eq. 1's constraints: the solver converged and ``max |E_μ[f] - τ| <= tol``."""
        return self.solution.converged and self.solution.constraint_error <= tol

    def is_exponential_family(self, tol: float = 1e-10) -> bool:
        """Verdict on eqs. 2-3: the enumerated law is the product of Bernoulli gates to within ``tol``."""
        return self.form_error <= tol

    @property
    def entropy_gap(self) -> float:
        """Entropy of μ minus that of ν, which meets the same constraints (nats); eq. 1 makes it >= 0."""
        return self.solution.entropy - self.teacher_entropy

    def entropy_is_maximal(self) -> bool:
        """Verdict on eq. 1's maximum: μ has at least the entropy of ν."""
        return self.solution.entropy >= self.teacher_entropy


def enclosed_maxent(contexts: np.ndarray, n: int, seed: int = 0) -> EnclosedMaxEnt:
    """Solve eq. 1 for ``n`` gates given ``contexts`` (m x k), with constraints generated by the unstructured law
    ``random_conditional_law(m, n, seed=seed)``, and compare the solution with the factorised form of eq. 6."""
    features = coupling_features(contexts, n)
    teacher = random_conditional_law(len(contexts), n, seed=seed)
    tau = expected_statistics(teacher, features)
    solution = solve_enclosed_maxent(features, tau)
    factorised = bernoulli_gate_law(contexts @ solution.multipliers.reshape(contexts.shape[1], n))
    return EnclosedMaxEnt(tau, expected_statistics(solution.law, features), teacher, conditional_entropy(teacher),
                          solution, float(np.abs(factorised - solution.law).max()))


def next_scale_contexts(contexts: np.ndarray, law: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The observed contexts of the next scale (§II.1, eq. 4): ``c ⊗ h``, shape (m, k n).

    Draws one gate state ``h ~ μ(h | c_j)`` per context from ``law`` (m, 2^n), with ``rng.choice`` in context order.
    """
    n = law.shape[1].bit_length() - 1
    index = np.array([rng.choice(law.shape[1], p=p) for p in law])
    return np.einsum("ma,mi->mai", contexts, gate_states(n)[index]).reshape(len(contexts), -1)


# ----------------------------------------------------------------------------------------------------------
# Eqs. 4-6: hierarchical parameterisation of the multipliers.
# ----------------------------------------------------------------------------------------------------------

def hierarchical_multipliers(weights: list[np.ndarray]) -> np.ndarray:
    """The full multiplier tensor of scale s from the weights (eq. 4): ``λ_i = Π_{s'} w^{s'}_{i_{s'-1} i_{s'}}``.

    ``weights[s']`` is the matrix ``W_{s'+1}`` of shape (n_{s'}, n_{s'+1}) in the paper's (in, out) order.
    """
    lam = np.asarray(weights[0], dtype=np.float64)
    for w in weights[1:]:
        lam = lam[..., :, None] * np.asarray(w, dtype=np.float64)[(None,) * (lam.ndim - 1)]
    return lam


def exponent_tensor_form(x: np.ndarray, gates: list[np.ndarray], weights: list[np.ndarray]) -> float:
    """Exponent of eq. 5: ``Σ_i λ_i x_{i0} Π h^{s'}_{i_{s'}}`` with the full tensor λ of eq. 4."""
    product = np.asarray(x, dtype=np.float64)
    for h in gates:
        product = np.multiply.outer(product, h)
    return float((hierarchical_multipliers(weights) * product).sum())


def exponent_matrix_form(x: np.ndarray, gates: list[np.ndarray], weights: list[np.ndarray]) -> float:
    """Exponent of eq. 6: ``x^T W_1 dg(h_1) ... W_s dg(h_s)``, summed over the last index."""
    row = np.asarray(x, dtype=np.float64)
    for w, h in zip(weights, gates):
        row = (row @ w) * h
    return float(row.sum())


def full_tensor_parameter_count(widths: list[int]) -> int:
    """Number of multipliers if every scale s keeps its full tensor ``λ^s`` of size ``Π_{s'<=s} n_{s'}`` (eq. 2)."""
    return sum(math.prod(widths[: s + 1]) for s in range(1, len(widths)))


def hierarchical_parameter_count(widths: list[int]) -> int:
    """Number of weights of the hierarchical parameterisation (eq. 4): ``Σ_s n_{s-1} n_s``."""
    return sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def exponent_identity_errors(depths: list[int], n_inputs: int, width: int, rng: np.random.Generator) -> list[float]:
    """Relative difference ``|eq. 5 - eq. 6| / max(1, |eq. 5|)`` of the two exponents at each depth.

    For each depth L: weights, 0/1 gates and an input drawn from ``rng`` (in that order), ``n_inputs`` inputs and
    ``width`` units at every scale.  The tensor sum of eq. 5 and the matrix product of eq. 6 are equal in exact
    arithmetic, so the errors are float64 rounding.
    """
    errors = []
    for depth in depths:
        sizes = [n_inputs] + [width] * depth
        weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        gates = [rng.integers(0, 2, size=b).astype(float) for b in sizes[1:]]
        x = rng.normal(size=sizes[0])
        tensor_form = exponent_tensor_form(x, gates, weights)
        errors.append(abs(tensor_form - exponent_matrix_form(x, gates, weights)) / max(1.0, abs(tensor_form)))
    return errors


def exponent_forms_agree(errors: list[float], tol: float = 1e-12) -> bool:
    """Verdict on the identity eq. 5 = eq. 6: every relative error is at most ``tol`` (float64 rounding)."""
    return max(errors) <= tol


@dataclass(frozen=True)
class ParameterGrowth:
    """Numbers of multipliers against depth: full tensors (eq. 2) against hierarchical weights (eq. 4)."""

    depths: list[int]
    full: list[int]
    hierarchical: list[int]

    @property
    def ratio(self) -> float:
        """Full over hierarchical count at the largest depth."""
        return self.full[-1] / self.hierarchical[-1]

    def hierarchical_is_smaller(self) -> bool:
        """Verdict: at the largest depth the hierarchical parameterisation has fewer parameters."""
        return self.full[-1] > self.hierarchical[-1]


def parameter_growth(width: int, depths: list[int]) -> ParameterGrowth:
    """Both counts for L scales of ``width`` units above ``width`` inputs (widths ``[width] * (L + 1)``), per L."""
    widths = [[width] * (depth + 1) for depth in depths]
    return ParameterGrowth(list(depths), [full_tensor_parameter_count(w) for w in widths],
                           [hierarchical_parameter_count(w) for w in widths])


# ----------------------------------------------------------------------------------------------------------
# Eqs. 7-8: gate laws at temperature T, exact marginals versus the degenerate (ReLU) approximation.
# ----------------------------------------------------------------------------------------------------------

def relu_pre_activations(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Pre-activations ``z_l`` of every gate layer l = 1..L-1 along the deterministic ReLU forward pass."""
    zs, activation = [], x
    for linear in mlp_linears(model)[:-1]:
        zs.append(linear(activation))
        activation = torch.relu(zs[-1])
    return zs


def relu_gate_distance(model: nn.Sequential, x: torch.Tensor, temperature: float) -> list[torch.Tensor]:
    """Total-variation distance between the gate law at ``temperature`` and the ReLU pattern (eq. 7), per layer.

    Given ReLU gates below (eq. 8), layer l's gates are independent with ``P(h=1) = σ(z/T)``, so the law puts
    mass ``Π_i σ(|z_i|/T)`` on the ReLU pattern and the TV distance to the point mass is one minus that.
    Returns one tensor of shape (N,) per gate layer.
    """
    return [-torch.expm1(nn.functional.logsigmoid(z.abs() / temperature).sum(dim=1))
            for z in relu_pre_activations(model, x)]


def _layer_law(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """Law of independent Bernoulli gates with logits z/T over all 2^n states (last dimension)."""
    states = torch.as_tensor(gate_states(z.shape[-1]), dtype=z.dtype, device=z.device)
    signed = (2 * states - 1) * (z[..., None, :] / temperature)  # (..., 2^n, n)
    return nn.functional.logsigmoid(signed).sum(-1).exp()


def exact_gate_marginals(model: nn.Sequential, x: torch.Tensor, temperature: float) -> list[torch.Tensor]:
    """Exact marginal laws ``μ_l(h_l | x)`` of every gate layer, summing over all gate states below.

    This is the weighted average written before eq. 7: ``μ_l(h_l|x) = Σ_{h_{l-1}} μ_l(h_l | h_{l-1}, ...)
    μ_{l-1}(h_{l-1} | ...)``, carried out recursively over the joint states of all lower layers.  The cost grows
    as ``2^(n_1 + ... + n_l)``: only for tiny networks.  Returns one (N, 2^{n_l}) tensor per gate layer.
    """
    linears = mlp_linears(model)
    total_states = 2 ** sum(linear.out_features for linear in linears[:-1])
    if total_states > 2**22:
        raise ValueError(f"exact marginals need {total_states} joint gate states; use a smaller network")
    marginals = []
    weight = torch.ones(len(x), 1, dtype=x.dtype, device=x.device)  # probability of each joint state below
    activation = x[:, None, :]  # (N, S, n_{l-1}): x_{l-1} for each joint state below
    for linear in linears[:-1]:
        z = linear(activation)  # (N, S, n_l)
        law = _layer_law(z, temperature)  # (N, S, 2^{n_l})
        marginals.append(torch.einsum("ns,nsk->nk", weight, law))
        states = torch.as_tensor(gate_states(z.shape[-1]), dtype=x.dtype, device=x.device)
        weight = (weight[..., None] * law).flatten(1)
        activation = (z[:, :, None, :] * states).flatten(1, 2)
    return marginals


def degenerate_gate_marginals(model: nn.Sequential, x: torch.Tensor, temperature: float) -> list[torch.Tensor]:
    """The degenerate approximation (eq. 8): layer l's law given the ReLU gate pattern of all layers below."""
    return [_layer_law(z, temperature) for z in relu_pre_activations(model, x)]


def relu_gate_marginals(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The ReLU network's gates (eq. 7) as point-mass laws over all 2^{n_l} states, per gate layer."""
    marginals = []
    for z in relu_pre_activations(model, x):
        n = z.shape[1]
        index = ((z > 0).long() * (2 ** torch.arange(n - 1, -1, -1, device=z.device))).sum(1)
        marginals.append(nn.functional.one_hot(index, 2**n).to(z.dtype))
    return marginals


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Total-variation distance ``½ Σ |p - q|`` over the last dimension."""
    return 0.5 * (p - q).abs().sum(-1)


def gate_law_distance(model: nn.Sequential, x: torch.Tensor, temperatures: list[float]) -> np.ndarray:
    """Mean over inputs of :func:`relu_gate_distance` at each temperature: shape (temperature, gate layer) (eq. 7)."""
    with torch.no_grad():
        return np.array([[d.mean().item() for d in relu_gate_distance(model, x, t)] for t in temperatures])


def gate_margins(model: nn.Sequential, x: torch.Tensor) -> list[float]:
    """Smallest ``|z|`` over the inputs, per gate layer: below this temperature the gate law's distance from the
    ReLU pattern falls exponentially (it is at most ``Σ_i exp(-|z_i| / T)``)."""
    with torch.no_grad():
        return [z.abs().min().item() for z in relu_pre_activations(model, x)]


@dataclass(frozen=True)
class GateLawConvergence:
    """§1.3: the gate law at temperature T against the ReLU gates (eq. 7), for several networks.

    ``distance[name]`` is :func:`gate_law_distance` (temperatures in the given, decreasing, order) and
    ``margins[name]`` :func:`gate_margins` of that network.
    """

    temperatures: tuple[float, ...]
    distance: dict[str, np.ndarray]
    margins: dict[str, list[float]]

    def coldest(self) -> float:
        """Largest mean distance, over networks and layers, at the last (coldest) temperature."""
        return max(tv[-1].max() for tv in self.distance.values())

    def monotone(self) -> bool:
        """Whether every distance falls, to within 1e-15, from each temperature to the next (colder) one."""
        return all(np.all(np.diff(tv, axis=0) <= 1e-15) for tv in self.distance.values())

    def reaches_relu(self, tol: float = 1e-2) -> bool:
        """Verdict on eq. 7: the distances fall monotonically, to below ``tol`` at the coldest temperature."""
        return bool(self.monotone() and self.coldest() < tol)


def gate_law_convergence(networks: dict[str, nn.Sequential], x: torch.Tensor,
                         temperatures: list[float]) -> GateLawConvergence:
    """Distance of the gate law from the ReLU gates against temperature, and the gates' margins, per network."""
    return GateLawConvergence(tuple(temperatures),
                              {name: gate_law_distance(net, x, temperatures) for name, net in networks.items()},
                              {name: gate_margins(net, x) for name, net in networks.items()})


@dataclass(frozen=True)
class MarginalComparison:
    """§1.4: mean over inputs of the TV distance of the exact marginal ``μ_l(h_l | x)`` from the degenerate
    approximation (eq. 8), ``to_degenerate``, and from the ReLU point mass (eq. 7), ``to_relu``; both of shape
    (temperature, gate layer), temperatures in the given (decreasing) order."""

    temperatures: tuple[float, ...]
    to_degenerate: np.ndarray
    to_relu: np.ndarray

    def coldest(self) -> float:
        """Largest distance from the degenerate law, over layers, at the coldest temperature."""
        return self.to_degenerate[-1].max()

    def worst_deeper(self) -> float:
        """Largest distance from the degenerate law over all temperatures and the layers above the first."""
        return self.to_degenerate[:, 1:].max()

    def worst_temperature(self) -> float:
        """The temperature of :meth:`worst_deeper`."""
        return self.temperatures[int(self.to_degenerate[:, 1:].max(axis=1).argmax())]

    def exact_when_cold(self, tol: float = 1e-2) -> bool:
        """Verdict on eq. 8: the degenerate approximation is within ``tol`` of the exact law at the coldest T."""
        return bool(self.coldest() < tol)

    def first_layer_gap(self) -> float:
        """Largest distance from the degenerate law in the first gate layer, which has no layer below."""
        return self.to_degenerate[:, 0].max()

    def first_layer_exact(self, tol: float = 1e-12) -> bool:
        """Verdict: in the first gate layer the exact and degenerate laws coincide (to within ``tol``)."""
        return bool(self.first_layer_gap() <= tol)


def marginal_comparison(model: nn.Sequential, x: torch.Tensor, temperatures: list[float]) -> MarginalComparison:
    """Exact marginals (:func:`exact_gate_marginals`) against the degenerate and ReLU laws at each temperature."""
    to_degenerate, to_relu = [], []
    with torch.no_grad():
        relu = relu_gate_marginals(model, x)
        for t in temperatures:
            exact = exact_gate_marginals(model, x, t)
            to_degenerate.append([total_variation(e, d).mean().item()
                                  for e, d in zip(exact, degenerate_gate_marginals(model, x, t))])
            to_relu.append([total_variation(e, r).mean().item() for e, r in zip(exact, relu)])
    return MarginalComparison(tuple(temperatures), np.array(to_degenerate), np.array(to_relu))
