"""The Umwelt formalism of Li §II.1 (eqs. 1-8): enclosed maximum entropy, hierarchical parameters, gate laws.

Notation.  Gates ``h`` live in {0,1}^n and are enumerated in lexicographic order (:func:`gate_states`).  For a
bias-free ReLU network (``nn.Sequential`` of ``Linear(bias=False)`` and ``ReLU``) the hidden layers are the
gate layers l = 1..L-1; ``z_l = W_l x_{l-1}`` is the pre-activation and ``x_l = dg(h_l) z_l``.

Temperature.  Li writes ``W = Ŵ / T`` (text before eq. 7): given the layers below, the law of eq. 6 factorises
over the gates of layer l, each a Bernoulli variable with logit ``z_l / T`` where ``z_l`` is computed with the
network's own weights.  We use exactly that: the network's activations are those of its weights, and the
temperature only enters the gate law.  As ``T -> 0`` the law concentrates on the ReLU gate pattern of eq. 7, except
at a tie ``z = 0`` (above a gate layer that is entirely closed), where the gate law is 1/2 at every temperature.

Scales.  The statistics of eq. 1 at scale s are linear in the new gates ``h_s``, so its solution factorises over
them (eq. 6): one logistic gate per unit, whose logits are the observed context ``x ⊗ h_1 ⊗ ... ⊗ h_{s-1}`` times
the multipliers.  The hierarchical (tied) multipliers of eq. 4 restrict those logits to the activations of eq. 6;
:func:`tied_cost` measures what that restriction costs against the full solution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit, logsumexp
from torch import nn

from .models import mlp_linears, relu_pre_activations


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


def exponential_family_teacher(contexts: np.ndarray, n: int, logit_rms: float, seed: int = 0) -> np.ndarray:
    """Known multipliers λ* of an in-family law (eqs. 2-3) whose constraints bind: flattened (k n,), in the order of
    :func:`coupling_features`.

    λ* is drawn i.i.d. normal (``default_rng(seed)``) and rescaled so that the gate logits ``c^T Λ*`` have root mean
    square ``logit_rms`` over the contexts and gates: the larger it is, the further the law is from uniform.
    """
    lam = np.random.default_rng(seed).normal(size=(np.shape(contexts)[1], n))
    return (lam * logit_rms / np.sqrt(np.mean((np.asarray(contexts) @ lam) ** 2))).ravel()


def linear_constraint_system(features: np.ndarray) -> sparse.csr_matrix:
    """The linear constraints of eq. 1 on the enumerated law ``p = (μ(h | c_j))_{j, h}`` flattened context-major:
    the rows ``E[f_k] = mean_j Σ_h μ(h|c_j) f_k(h|c_j)`` for every statistic, then ``Σ_h μ(h|c_j) = 1`` per context."""
    m, s, k = features.shape
    statistics = sparse.csr_matrix(features.transpose(2, 0, 1).reshape(k, m * s) / m)
    return sparse.vstack([statistics, sparse.kron(sparse.eye(m), np.ones((1, s)))]).tocsr()


@dataclass(frozen=True)
class PrimalSolution:
    """Eq. 1 solved in the primal: the enumerated law itself, with no parametric form assumed."""

    law: np.ndarray  # (m, 2^n)
    constraint_error: float  # max |A p - b| over the statistics and normalisations
    iterations: int


def solve_primal_maxent(features: np.ndarray, tau: np.ndarray, tol: float = 1e-13,
                        max_iter: int = 200) -> PrimalSolution:
    """Maximise the mean conditional entropy ``-mean_j Σ_h p log p`` over the enumerated law subject to the linear
    constraints of eq. 1 (:func:`linear_constraint_system`) directly, independently of the dual.

    Infeasible-start Newton method on the KKT conditions (Boyd & Vandenberghe, Convex Optimization, §10.3): from the
    uniform law, each step solves ``[H A^T; A 0][Δp; Δν] = -r`` through the Schur complement ``A H^{-1} A^T`` (H is
    the diagonal Hessian ``1/(m p)``), then backtracks to keep ``p > 0`` and to decrease ``|r|``.  Stops when the
    largest KKT residual is at most ``tol``.
    """
    m, s, _ = features.shape
    a = linear_constraint_system(features)
    b = np.concatenate([np.asarray(tau, dtype=np.float64), np.ones(m)])
    p, nu = np.full(m * s, 1.0 / s), np.zeros(len(b))

    def residual(p, nu):
        return np.concatenate([(np.log(p) + 1) / m + a.T @ nu, a @ p - b])

    for iteration in range(max_iter):
        r = residual(p, nu)
        if np.abs(r).max() <= tol:
            break
        dual_r, primal_r = r[: m * s], r[m * s:]
        h_inv = m * p
        schur = (a.multiply(h_inv) @ a.T).toarray()
        d_nu = np.linalg.lstsq(schur, primal_r - a @ (h_inv * dual_r), rcond=None)[0]
        d_p = -h_inv * (dual_r + a.T @ d_nu)
        step = 1.0
        while np.any(p + step * d_p <= 0):
            step /= 2
        while (np.linalg.norm(residual(p + step * d_p, nu + step * d_nu)) > (1 - 0.01 * step) * np.linalg.norm(r)
               and step > 1e-12):
            step /= 2
        p, nu = p + step * d_p, nu + step * d_nu
    return PrimalSolution(p.reshape(m, s), float(np.abs(a @ p - b).max()), iteration)


def bernoulli_gate_law(logits: np.ndarray) -> np.ndarray:
    """The law of independent gates ``P(h_i = 1) = σ(logit_i)`` over all 2^n states; logits (m, n) -> (m, 2^n)."""
    logits = np.asarray(logits, dtype=np.float64)
    states = gate_states(logits.shape[1])
    log_p = -np.logaddexp(0.0, -np.einsum("si,mi->msi", 2 * states - 1, logits))  # log σ(±logit)
    return np.exp(log_p.sum(axis=2))


@dataclass(frozen=True)
class EnclosedMaxEnt:
    """Eq. 1 solved for constraints that bind, generated by an in-family law with known multipliers (§1.1's checks).

    ``tau = E_ν[f]`` are the constraints of the teacher ν, the exponential family (eqs. 2-3) with multipliers
    ``teacher_multipliers`` (:func:`exponential_family_teacher`); ``solution`` is the dual solve
    (:func:`solve_enclosed_maxent`), ``achieved`` its statistics; ``primal`` the independent primal solve
    (:func:`solve_primal_maxent`); ``form_error`` the largest deviation of the dual's law from the product of Bernoulli
    gates with logits ``λ^T c`` (eq. 6 at one scale); ``n`` the number of gates.
    """

    tau: np.ndarray
    achieved: np.ndarray
    teacher_multipliers: np.ndarray
    teacher: np.ndarray
    solution: MaxEntSolution
    primal: PrimalSolution
    form_error: float
    n: int

    def constraints_met(self, tol: float = 1e-8) -> bool:
        """Verdict on eq. 1's constraints: the dual solver converged and ``max |E_μ[f] - τ| <= tol``."""
        return self.solution.converged and self.solution.constraint_error <= tol

    def is_exponential_family(self, tol: float = 1e-10) -> bool:
        """Verdict on eq. 6 at one scale: the enumerated law is the product of Bernoulli gates to within ``tol``."""
        return self.form_error <= tol

    @property
    def multiplier_error(self) -> float:
        """``max |λ - λ*|``: the dual's multipliers against the teacher's."""
        return float(np.abs(self.solution.multipliers - self.teacher_multipliers).max())

    def recovers_teacher(self, tol: float = 1e-8) -> bool:
        """Verdict: the dual recovers the teacher's multipliers (its minimiser is unique when the statistics are
        linearly independent over the contexts) to within ``tol``."""
        return self.multiplier_error <= tol

    @property
    def primal_dual_distance(self) -> float:
        """Largest total-variation distance, over the contexts, between the primal law and the dual's."""
        return float(0.5 * np.abs(self.primal.law - self.solution.law).sum(axis=1).max())

    def primal_is_exponential_family(self, tol: float = 1e-8) -> bool:
        """Verdict on eqs. 2-3: the law that maximises entropy in the primal (no form assumed) is the dual's
        exponential-family law, to within ``tol`` in TV, and the primal met its constraints to ``tol``."""
        return self.primal.constraint_error <= tol and self.primal_dual_distance <= tol

    @property
    def entropy_difference(self) -> float:
        """Mean conditional entropy of the primal law minus that of the dual's (nats)."""
        return conditional_entropy(self.primal.law) - self.solution.entropy

    def entropies_agree(self, tol: float = 1e-10) -> bool:
        """Verdict on strong duality: the primal maximum entropy equals the dual's to within ``tol`` nats."""
        return abs(self.entropy_difference) <= tol

    @property
    def entropy_fraction(self) -> float:
        """The solution's entropy over the largest possible, ``ln 2^n``: near 1 the constraints barely bind."""
        return self.solution.entropy / (self.n * math.log(2))

    def constraints_bind(self, max_fraction: float = 0.9) -> bool:
        """Verdict: the constraints bind, the solution's entropy being at most ``max_fraction`` of ``ln 2^n``."""
        return self.entropy_fraction <= max_fraction


def enclosed_maxent(contexts: np.ndarray, n: int, logit_rms: float = 3.0, seed: int = 0) -> EnclosedMaxEnt:
    """Solve eq. 1 for ``n`` gates given ``contexts`` (m x k), in the dual and in the primal, with the constraints of
    the in-family teacher ``exponential_family_teacher(contexts, n, logit_rms, seed)``, and compare the dual's law
    with the factorised form of eq. 6."""
    features = coupling_features(contexts, n)
    lam = exponential_family_teacher(contexts, n, logit_rms, seed)
    teacher = exponential_family_law(features, lam)
    tau = expected_statistics(teacher, features)
    solution = solve_enclosed_maxent(features, tau)
    factorised = bernoulli_gate_law(contexts @ solution.multipliers.reshape(contexts.shape[1], n))
    return EnclosedMaxEnt(tau, expected_statistics(solution.law, features), lam, teacher, solution,
                          solve_primal_maxent(features, tau), float(np.abs(factorised - solution.law).max()), n)


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
# What eq. 4 costs: the tied (hierarchical) multipliers fitted to the constraints of eq. 1, scale by scale.
# ----------------------------------------------------------------------------------------------------------

def bernoulli_entropy(logits: np.ndarray) -> float:
    """Entropy of independent gates with the given logits (m, n), summed over gates and averaged over contexts (nats):
    ``H = softplus(a) - σ(a) a`` per gate."""
    logits = np.asarray(logits, dtype=np.float64)
    return float((np.logaddexp(0.0, logits) - expit(logits) * logits).sum(axis=1).mean())


def bernoulli_kl(logits_p: np.ndarray, logits_q: np.ndarray) -> float:
    """``KL(p || q)`` of two laws of independent gates given by their logits (m, n), summed over gates and averaged
    over contexts (nats): ``softplus(b) - softplus(a) + σ(a)(a - b)`` per gate."""
    a, b = np.asarray(logits_p, dtype=np.float64), np.asarray(logits_q, dtype=np.float64)
    return float((np.logaddexp(0.0, b) - np.logaddexp(0.0, a) + expit(a) * (a - b)).sum(axis=1).mean())


def gate_statistics(contexts: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """``E[c_a h_i]`` over the contexts (uniformly) and independent gates with the given logits: shape (k, n)."""
    return np.asarray(contexts).T @ expit(logits) / len(contexts)


@dataclass(frozen=True)
class GateMaxEnt:
    """Eq. 1 for statistics ``c_a h_i`` (linear in the gates), whose solution factorises into one logistic gate per i:
    multipliers Λ (k, n), the gates' logits ``c^T Λ`` per context (m, n) and the largest constraint residual."""

    multipliers: np.ndarray
    logits: np.ndarray
    constraint_error: float


def solve_gate_maxent(contexts: np.ndarray, tau: np.ndarray, tol: float = 1e-12, max_iter: int = 100) -> GateMaxEnt:
    """Solve eq. 1 with constraints ``E[c_a h_i] = τ_{ai}`` (``tau`` of shape (k, n)) through its dual, one gate at a
    time: ``min_λ mean_j softplus(c_j·λ) - λ·τ_{:,i}`` is convex, with gradient the constraint residual and Hessian
    ``C^T dg(σ(1-σ)) C / m``.  Newton steps (least squares, for collinear statistics) with backtracking, until the
    residual is at most ``tol`` (or ``max_iter`` steps per gate).  The same law as :func:`solve_enclosed_maxent`,
    without enumerating 2^n states.
    """
    contexts, tau = np.asarray(contexts, dtype=np.float64), np.asarray(tau, dtype=np.float64)
    m = len(contexts)
    lam = np.zeros(tau.shape)
    for i in range(tau.shape[1]):
        def dual(v, i=i):
            return float(np.logaddexp(0.0, contexts @ v).mean() - v @ tau[:, i])

        for _ in range(max_iter):
            p = expit(contexts @ lam[:, i])
            grad = contexts.T @ p / m - tau[:, i]
            if np.abs(grad).max() <= tol:
                break
            hess = (contexts * (p * (1 - p))[:, None]).T @ contexts / m
            step, t = np.linalg.lstsq(hess, grad, rcond=None)[0], 1.0
            # near the optimum (Newton decrement below 1e-14) the dual's decrease is below float64 resolution:
            # take the full, quadratically convergent, step instead of backtracking on rounding noise
            while (grad @ step > 1e-14 and t > 1e-10
                   and dual(lam[:, i] - t * step) > dual(lam[:, i]) - 1e-4 * t * (grad @ step)):
                t /= 2
            lam[:, i] -= t * step
    logits = contexts @ lam
    return GateMaxEnt(lam, logits, float(np.abs(gate_statistics(contexts, logits) - tau).max()))


def lower_factor(multipliers: np.ndarray) -> np.ndarray:
    """The lower factor of eq. 4 at the next scale.  Eq. 4 reuses ``λ^s`` (k, n) as ``λ^{s+1}_{(a,i) j} = λ^s_{a i}
    w^{s+1}_{i j}``, i.e. ``λ^{s+1} = P W_{s+1}`` with ``P_{(a,i), i'} = λ^s_{a i} δ_{i i'}`` of shape (k n, n), rows
    in the order of the contexts ``c ⊗ h`` of :func:`next_scale_contexts`.  ``c^T P`` is the activation
    ``x_s = dg(h_s) z_s`` of eq. 6."""
    k, n = multipliers.shape
    return (np.asarray(multipliers)[:, :, None] * np.eye(n)[None]).reshape(k * n, n)


@dataclass(frozen=True)
class ScaleConstraints:
    """One scale s of the hierarchy: observed contexts ``x ⊗ h_1 ⊗ ... ⊗ h_{s-1}`` (m, k), the teacher's multipliers
    (k, n_s) and gate logits (m, n_s), and the constraints ``τ^s = E[c h_s]`` (k, n_s) they generate (eq. 1)."""

    contexts: np.ndarray
    multipliers: np.ndarray
    logits: np.ndarray
    tau: np.ndarray


def hierarchy_teacher(x: np.ndarray, widths: list[int], logit_rms: float, rng: np.random.Generator,
                      tied: bool = False) -> list[ScaleConstraints]:
    """The constraints of eq. 1 at scales 1..S (``widths = [n_1, ..., n_S]`` gates above the inputs ``x``, m x n_0),
    generated by a teacher that is an exponential family (eqs. 2-3) at every scale.

    Scale by scale: the multipliers are a full tensor drawn i.i.d. normal (``tied=False``), or of the tied form of
    eq. 4 (``tied=True``: the lower factor of the previous scale times a normal ``W_s``); they are rescaled so the gate
    logits have root mean square ``logit_rms``; then one gate state per context is drawn from the teacher's law
    (:func:`next_scale_contexts`) to form the next scale's contexts.  Draws from ``rng`` in that order.
    """
    scales, contexts = [], np.asarray(x, dtype=np.float64)
    for n in widths:
        if tied and scales:
            lam = lower_factor(scales[-1].multipliers) @ rng.normal(size=(scales[-1].multipliers.shape[1], n))
        else:
            lam = rng.normal(size=(contexts.shape[1], n))
        lam = lam * logit_rms / np.sqrt(np.mean((contexts @ lam) ** 2))
        logits = contexts @ lam
        scales.append(ScaleConstraints(contexts, lam, logits, gate_statistics(contexts, logits)))
        contexts = next_scale_contexts(contexts, bernoulli_gate_law(logits), rng)
    return scales


def fit_tied_hierarchy(scales: list[ScaleConstraints]) -> list[GateMaxEnt]:
    """Fit the tied multipliers of eq. 4 to the constraints of eq. 1, scale by scale with the lower factor fixed.

    At scale 1 the tied form is no restriction (``λ^1 = W_1``).  At scale s the multipliers are ``P W_s`` with the
    lower factor P (:func:`lower_factor`) of the tied fit at scale s-1; with P fixed the dual is convex in ``W_s``: it
    is eq. 1 for the activations ``c^T P`` and the projected constraints ``P^T τ^s``, solved by
    :func:`solve_gate_maxent`.  Its minimum is the tied law closest to the full solution in ``KL(full || tied)``.
    Returns the tied law at every scale (multipliers in the full space, residual against the full constraints).
    """
    fits = []
    for scale in scales:
        lower = lower_factor(fits[-1].multipliers) if fits else np.eye(scale.contexts.shape[1])
        upper = solve_gate_maxent(scale.contexts @ lower, lower.T @ scale.tau)
        lam = lower @ upper.multipliers
        logits = scale.contexts @ lam
        fits.append(GateMaxEnt(lam, logits, float(np.abs(gate_statistics(scale.contexts, logits) - scale.tau).max())))
    return fits


@dataclass(frozen=True)
class TiedCost:
    """What the hierarchical parameterisation (eq. 4) costs, per width (rows) and scale s = 1..S (columns).

    For constraints from an untied teacher (:func:`hierarchy_teacher`), ``full_*`` describe the maximum-entropy
    solution of eq. 1 (:func:`solve_gate_maxent`), ``tied_*`` the tied fit (:func:`fit_tied_hierarchy`); entropies and
    ``kl`` = KL(full || tied) are per gate (nats), ``residual`` the tied law's largest constraint residual.
    ``full_error`` is the largest residual of the full solves and ``teacher_gap`` the largest ``|σ(full) - σ(teacher)|``
    (the full solution is the teacher); ``pythagoras_error`` the largest ``|KL - (H_tied - H_full)|`` per gate, zero
    when the tied fit is converged; ``control_kl`` the same KL for a teacher of the tied form (zero: eq. 4 can then
    represent it).
    """

    widths: tuple[int, ...]
    depth: int
    full_entropy: np.ndarray
    tied_entropy: np.ndarray
    kl: np.ndarray
    residual: np.ndarray
    full_error: float
    teacher_gap: float
    pythagoras_error: float
    control_kl: np.ndarray

    def one_scale_gap(self) -> float:
        """Largest KL at scale 1, where eq. 4 is no restriction (``λ^1 = W_1``)."""
        return float(self.kl[:, 0].max())

    def restricts(self, floor: float = 1e-6) -> bool:
        """Verdict on eq. 4 as a restriction: at every width and every scale s >= 2, KL(full || tied) per gate exceeds
        ``floor`` (far above the solver's ~1e-12), while at scale 1 it stays below it."""
        return bool(self.kl[:, 1:].min() > floor and self.one_scale_gap() < floor)

    def smallest_cost(self) -> float:
        """Smallest KL per gate over the widths and scales s >= 2."""
        return float(self.kl[:, 1:].min())

    def deepest_cost(self) -> float:
        """KL per gate at the deepest scale and the largest width."""
        return float(self.kl[-1, -1])

    def cost_grows_with_depth(self) -> bool:
        """Whether, at every width, the KL per gate grows from each scale to the next."""
        return bool(np.all(np.diff(self.kl, axis=1) > 0))

    def converged(self, tol: float = 1e-9) -> bool:
        """Verdict on the convex solves: full solutions meet their constraints and equal the teacher, and the tied
        fits obey ``KL(full || tied) = H(tied) - H(full)`` (the Pythagorean identity of a moment-matched
        projection), all to within ``tol``."""
        return max(self.full_error, self.teacher_gap, self.pythagoras_error) <= tol

    def control_recovered(self, tol: float = 1e-10) -> bool:
        """Verdict: for a teacher of the tied form the tied fit has KL below ``tol`` per gate at every scale."""
        return bool(self.control_kl.max() <= tol)


def _scale_costs(width: int, depth: int, n_inputs: int, n_contexts: int, logit_rms: float, seed: int) -> np.ndarray:
    """Per scale: full entropy, tied entropy, KL(full || tied) (per gate), tied residual, full residual, largest
    ``|σ(full) - σ(teacher)|``, and the control's KL per gate; shape (depth, 7).  See :func:`tied_cost`."""
    rng = np.random.default_rng((seed, width))
    x = rng.normal(size=(n_contexts, n_inputs))
    scales = hierarchy_teacher(x, [width] * depth, logit_rms, rng)
    control = hierarchy_teacher(x, [width] * depth, logit_rms, np.random.default_rng((seed, width, 1)), tied=True)
    rows = []
    for scale, tied, check, check_fit in zip(scales, fit_tied_hierarchy(scales), control, fit_tied_hierarchy(control)):
        full = solve_gate_maxent(scale.contexts, scale.tau)
        rows.append([bernoulli_entropy(full.logits) / width, bernoulli_entropy(tied.logits) / width,
                     bernoulli_kl(full.logits, tied.logits) / width, tied.constraint_error, full.constraint_error,
                     np.abs(expit(full.logits) - expit(scale.logits)).max(),
                     bernoulli_kl(check.logits, check_fit.logits) / width])
    return np.array(rows)


def tied_cost(widths: list[int], depth: int, n_inputs: int, n_contexts: int, logit_rms: float,
              seed: int = 0) -> TiedCost:
    """:class:`TiedCost` for hierarchies of ``depth`` scales of ``width`` gates each, for every width in ``widths``.

    Per width, ``n_contexts`` inputs ``x ~ N(0, I_{n_inputs})`` and an untied teacher (:func:`hierarchy_teacher`) are
    drawn from ``default_rng((seed, width))``, a tied-form teacher (the control) from ``default_rng((seed, width, 1))``.
    """
    table = np.array([_scale_costs(w, depth, n_inputs, n_contexts, logit_rms, seed) for w in widths])
    full_entropy, tied_entropy, kl = table[..., 0], table[..., 1], table[..., 2]
    return TiedCost(tuple(widths), depth, full_entropy, tied_entropy, kl, table[..., 3], float(table[..., 4].max()),
                    float(table[..., 5].max()), float(np.abs(kl - (tied_entropy - full_entropy)).max()), table[..., 6])


# ----------------------------------------------------------------------------------------------------------
# Eqs. 7-8: gate laws at temperature T, exact marginals versus the degenerate (ReLU) approximation.
# ----------------------------------------------------------------------------------------------------------

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


def first_closed_layer(model: nn.Sequential, x: torch.Tensor) -> np.ndarray:
    """Per input, the index (from 0) of the first gate layer whose ReLU gates are all closed (every ``z <= 0``), or
    the number of gate layers if none is.  Without biases, every pre-activation above such a layer is exactly 0:
    the tie of eq. 7, where the gate law is ``σ(0/T) = 1/2`` at every temperature but eq. 7 sets the gate to 0."""
    with torch.no_grad():
        closed = torch.stack([(z <= 0).all(dim=1) for z in relu_pre_activations(model, x)], dim=1)
    closed = torch.cat([closed, torch.ones_like(closed[:, :1])], dim=1)
    return closed.to(torch.int64).argmax(dim=1).cpu().numpy()


@dataclass(frozen=True)
class MarginalComparison:
    """§1.4: mean over inputs of the TV distance of the exact marginal ``μ_l(h_l | x)`` from the degenerate
    approximation (eq. 8), ``to_degenerate``, and from the ReLU point mass (eq. 7), ``to_relu``; both of shape
    (temperature, gate layer), temperatures in the given (decreasing) order.  ``relu_by_input`` holds the distance
    from the ReLU point mass per input (temperature, input, gate layer), ``first_closed`` the
    :func:`first_closed_layer` of each input and ``widths`` the widths of the gate layers."""

    temperatures: tuple[float, ...]
    to_degenerate: np.ndarray
    to_relu: np.ndarray
    relu_by_input: np.ndarray
    first_closed: np.ndarray
    widths: tuple[int, ...]

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

    @property
    def tied(self) -> np.ndarray:
        """Inputs with a tie of eq. 7: some gate layer below the top one entirely closed (boolean, per input)."""
        return self.first_closed < len(self.widths) - 1

    def tied_share(self) -> float:
        """Share of the inputs with a tie of eq. 7."""
        return float(self.tied.mean())

    def relu_coldest(self) -> float:
        """Largest mean distance from the ReLU point mass, over layers, at the coldest temperature (all inputs)."""
        return float(self.to_relu[-1].max())

    def relu_when_cold(self, tol: float = 1e-2) -> bool:
        """Verdict on eq. 7 for the exact marginal: within ``tol`` of the ReLU point mass at the coldest T."""
        return self.relu_coldest() < tol

    def untied_to_relu(self) -> np.ndarray:
        """Mean distance from the ReLU point mass over the inputs without a tie: (temperature, gate layer)."""
        return self.relu_by_input[:, ~self.tied].mean(axis=1)

    def untied_relu_coldest(self) -> float:
        """Largest :meth:`untied_to_relu`, over layers, at the coldest temperature."""
        return float(self.untied_to_relu()[-1].max())

    def untied_relu_when_cold(self, tol: float = 1e-2) -> bool:
        """Verdict on eq. 7 away from ties: within ``tol`` of the ReLU point mass at the coldest T."""
        return self.untied_relu_coldest() < tol

    def tie_prediction(self) -> np.ndarray:
        """The cold-limit distance from the ReLU point mass that the ties predict, per input and layer: above the
        first closed layer every gate has ``z = 0`` and law ``1/2``, at distance ``1 - 2^{-n_l}`` from the point mass
        of eq. 7; elsewhere 0."""
        layers = np.arange(len(self.widths))
        above = layers[None, :] > self.first_closed[:, None]
        return np.where(above, 1 - 2.0 ** -np.array(self.widths, dtype=np.float64), 0.0)

    def tie_error(self) -> float:
        """Largest ``|distance - prediction|`` at the coldest T over the tied inputs and the layers above their first
        closed layer (0 if there is no tie)."""
        above = self.tie_prediction() > 0
        return float(np.abs(self.relu_by_input[-1] - self.tie_prediction())[above].max(initial=0.0))

    def ties_explain_plateau(self, tol: float = 1e-6) -> bool | None:
        """Verdict: at the coldest T every tied input sits at the predicted ``1 - 2^{-n_l}`` to within ``tol``; None
        (inconclusive) when no input is tied, since the test could not fail."""
        return self.tie_error() <= tol if self.tied.any() else None


def marginal_comparison(model: nn.Sequential, x: torch.Tensor, temperatures: list[float]) -> MarginalComparison:
    """Exact marginals (:func:`exact_gate_marginals`) against the degenerate and ReLU laws at each temperature."""
    to_degenerate, by_input = [], []
    with torch.no_grad():
        relu = relu_gate_marginals(model, x)
        for t in temperatures:
            exact = exact_gate_marginals(model, x, t)
            to_degenerate.append([total_variation(e, d).mean().item()
                                  for e, d in zip(exact, degenerate_gate_marginals(model, x, t))])
            by_input.append(torch.stack([total_variation(e, r) for e, r in zip(exact, relu)], dim=1).cpu().numpy())
    by_input = np.array(by_input)
    return MarginalComparison(tuple(temperatures), np.array(to_degenerate), by_input.mean(axis=1), by_input,
                              first_closed_layer(model, x), tuple(r.shape[1].bit_length() - 1 for r in relu))
