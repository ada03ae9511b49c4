"""The Umwelt formalism (Li §II.1, eqs. 1-8) against direct enumeration and an independent primal solver."""

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from torch import nn

from adaptsym import umwelt


def small_mlp(widths, seed=0):
    gen = torch.Generator().manual_seed(seed)
    layers = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(a, b, bias=False).double()
        with torch.no_grad():
            linear.weight.copy_(torch.randn(b, a, generator=gen, dtype=torch.float64))
        layers += [linear] + ([nn.ReLU()] if k < len(widths) - 2 else [])
    return nn.Sequential(*layers)


def test_gate_states_are_all_binary_vectors_in_lexicographic_order():
    states = umwelt.gate_states(3)
    assert states.tolist() == [list(s) for s in itertools.product([0.0, 1.0], repeat=3)]
    with pytest.raises(ValueError, match="1 <= n <= 24"):
        umwelt.gate_states(0)


def maxent_problem(m=6, n0=2, n=3, seed=0):
    rng = np.random.default_rng(seed)
    contexts = rng.normal(size=(m, n0))
    features = umwelt.coupling_features(contexts, n)
    teacher = umwelt.random_conditional_law(m, n, seed=seed)
    return contexts, features, teacher, umwelt.expected_statistics(teacher, features)


def test_coupling_features_are_products_of_context_and_gate():
    contexts, features, _, _ = maxent_problem()
    states = umwelt.gate_states(3)
    j, s, a, i = 4, 5, 1, 2
    assert features[j, s, a * 3 + i] == contexts[j, a] * states[s, i]


def test_dual_solution_meets_constraints_and_matches_the_primal_maximum_entropy_law():
    contexts, features, teacher, tau = maxent_problem()
    solution = umwelt.solve_enclosed_maxent(features, tau)
    assert solution.converged and solution.constraint_error <= 1e-13

    # Independent check: maximise the entropy directly over the simplex of each context's law (eq. 1).
    m, s = teacher.shape
    constraints = [{"type": "eq", "fun": lambda p: umwelt.expected_statistics(p.reshape(m, s), features) - tau},
                   {"type": "eq", "fun": lambda p: p.reshape(m, s).sum(1) - 1}]
    primal = minimize(lambda p: -umwelt.conditional_entropy(np.clip(p, 1e-300, None).reshape(m, s)),
                      teacher.ravel(), method="SLSQP", bounds=[(0, 1)] * (m * s), constraints=constraints,
                      options={"ftol": 1e-14, "maxiter": 1000})
    assert np.abs(primal.x.reshape(m, s) - solution.law).max() < 1e-5
    assert solution.entropy >= umwelt.conditional_entropy(teacher)


def test_solution_has_exponential_family_form_and_factorises_into_bernoulli_gates():
    contexts, features, _, tau = maxent_problem(m=8, n0=3, n=4, seed=1)
    solution = umwelt.solve_enclosed_maxent(features, tau)
    log_law = np.log(solution.law)
    energy = features @ solution.multipliers
    # eqs. 2-3: log mu = lambda . f - log Z(c), the same Z for every state of one context
    log_z = energy - log_law
    assert np.abs(log_z - log_z[:, :1]).max() < 1e-12
    # eq. 6 at scale 1: independent gates with logits lambda^T x
    factorised = umwelt.bernoulli_gate_law(contexts @ solution.multipliers.reshape(3, 4))
    assert np.abs(factorised - solution.law).max() < 1e-14


def test_bernoulli_gate_law_by_enumeration():
    logits = np.array([[0.3, -1.2, 2.0]])
    law = umwelt.bernoulli_gate_law(logits)
    sigma = 1 / (1 + np.exp(-logits[0]))
    for k, h in enumerate(umwelt.gate_states(3)):
        assert law[0, k] == pytest.approx(np.prod(np.where(h == 1, sigma, 1 - sigma)), rel=1e-14)
    assert law.sum() == pytest.approx(1.0, abs=1e-15)


def test_hierarchical_multipliers_are_products_of_weights():
    rng = np.random.default_rng(0)
    w = [rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    lam = umwelt.hierarchical_multipliers(w)
    assert lam.shape == (2, 3, 4, 2)
    for i in itertools.product(range(2), range(3), range(4), range(2)):
        assert lam[i] == pytest.approx(w[0][i[0], i[1]] * w[1][i[1], i[2]] * w[2][i[2], i[3]], rel=1e-14)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_tensor_form_of_eq5_equals_matrix_form_of_eq6(depth):
    rng = np.random.default_rng(depth)
    sizes = [3] + [4] * depth
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    gates = [rng.integers(0, 2, size=b).astype(float) for b in sizes[1:]]
    gates[-1][0] = 1.0
    x = rng.normal(size=3)
    assert umwelt.exponent_tensor_form(x, gates, weights) == pytest.approx(
        umwelt.exponent_matrix_form(x, gates, weights), rel=1e-12, abs=1e-12)


def test_parameter_counts():
    assert umwelt.full_tensor_parameter_count([3, 4, 5]) == 3 * 4 + 3 * 4 * 5
    assert umwelt.hierarchical_parameter_count([3, 4, 5]) == 3 * 4 + 4 * 5


def test_relu_gate_distance_matches_enumerated_law_and_vanishes_when_cold():
    model = small_mlp([3, 4, 3, 1])
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for t in (2.0, 0.3):
        for tv, law, relu in zip(umwelt.relu_gate_distance(model, x, t),
                                  umwelt.degenerate_gate_marginals(model, x, t),
                                  umwelt.relu_gate_marginals(model, x)):
            assert torch.allclose(tv, umwelt.total_variation(law, relu), rtol=1e-12, atol=1e-15)
    cold = umwelt.relu_gate_distance(model, x, 1e-6)
    assert max(d.max().item() for d in cold) < 1e-12


def test_exact_marginal_by_brute_force_enumeration():
    model = small_mlp([2, 2, 2, 2, 1], seed=3)
    x = torch.tensor([[0.7, -1.1]], dtype=torch.float64)
    t = 0.8
    w1, w2, w3 = [layer.weight for layer in model if isinstance(layer, nn.Linear)][:3]
    sig = lambda z: 1 / (1 + math.exp(-z / t))  # noqa: E731
    bern = lambda h, z: sig(z) if h else 1 - sig(z)  # noqa: E731
    expected = np.zeros(4)
    for h1 in itertools.product([0, 1], repeat=2):
        z1 = (w1 @ x[0]).tolist()
        p1 = bern(h1[0], z1[0]) * bern(h1[1], z1[1])
        a1 = torch.tensor([h1[0] * z1[0], h1[1] * z1[1]], dtype=torch.float64)
        for h2 in itertools.product([0, 1], repeat=2):
            z2 = (w2 @ a1).tolist()
            p2 = bern(h2[0], z2[0]) * bern(h2[1], z2[1])
            a2 = torch.tensor([h2[0] * z2[0], h2[1] * z2[1]], dtype=torch.float64)
            z3 = (w3 @ a2).tolist()
            for k, h3 in enumerate(itertools.product([0, 1], repeat=2)):
                expected[k] += p1 * p2 * bern(h3[0], z3[0]) * bern(h3[1], z3[1])
    with torch.no_grad():
        marginals = umwelt.exact_gate_marginals(model, x, t)
    assert np.abs(marginals[2][0].numpy() - expected).max() < 1e-14
    assert all(abs(m.sum().item() - 1) < 1e-14 for m in marginals)
    degenerate = umwelt.degenerate_gate_marginals(model, x, t)
    assert torch.allclose(marginals[0], degenerate[0], rtol=0, atol=1e-15)


def test_exact_marginal_tends_to_relu_as_temperature_falls():
    model = small_mlp([3, 3, 3, 1], seed=5)
    x = torch.randn(10, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        tv = [umwelt.total_variation(e, r).max().item()
              for e, r in zip(umwelt.exact_gate_marginals(model, x, 1e-7), umwelt.relu_gate_marginals(model, x))]
    assert max(tv) < 1e-9


def test_rejects_networks_that_are_not_bias_free_relu_mlps():
    with pytest.raises(ValueError, match="Linear\\(bias=False\\)"):
        umwelt.relu_pre_activations(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="Tanh"):
        umwelt.relu_pre_activations(nn.Sequential(nn.Linear(2, 2, bias=False), nn.Tanh(),
                                                  nn.Linear(2, 1, bias=False)), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="smaller network"):
        umwelt.exact_gate_marginals(small_mlp([2, 12, 12, 1]), torch.zeros(1, 2, dtype=torch.float64), 1.0)



def test_enclosed_maxent_meets_its_constraints_factorises_and_has_the_larger_entropy():
    contexts = np.random.default_rng(3).normal(size=(6, 2))
    found = umwelt.enclosed_maxent(contexts, 3, seed=4)
    features = umwelt.coupling_features(contexts, 3)
    teacher = umwelt.random_conditional_law(6, 3, seed=4)
    np.testing.assert_array_equal(found.teacher, teacher)
    np.testing.assert_array_equal(found.tau, umwelt.expected_statistics(teacher, features))
    assert np.abs(found.achieved - found.tau).max() < 1e-13 and found.constraints_met()
    # eqs. 2-3 and 6: the law is the product of Bernoulli gates with logits lambda^T c, state by state
    lam = found.solution.multipliers.reshape(2, 3)
    for j, c in enumerate(contexts):
        p = 1 / (1 + np.exp(-(c @ lam)))
        for s, h in enumerate(umwelt.gate_states(3)):
            assert found.solution.law[j, s] == pytest.approx(np.prod(np.where(h == 1, p, 1 - p)), rel=1e-12)
    assert found.form_error < 1e-14 and found.is_exponential_family()
    assert found.teacher_entropy == umwelt.conditional_entropy(teacher)
    assert found.entropy_gap == found.solution.entropy - found.teacher_entropy > 0 and found.entropy_is_maximal()


def test_enclosed_maxent_verdicts_fail_beyond_their_tolerances():
    found = umwelt.enclosed_maxent(np.random.default_rng(3).normal(size=(6, 2)), 3)
    assert not found.is_exponential_family(tol=found.form_error / 2)
    assert not found.constraints_met(tol=found.solution.constraint_error / 2)
    uniform = np.full_like(found.teacher, 1 / 8)  # the largest entropy of all, and it misses the constraints
    assert not dataclasses.replace(found, teacher_entropy=umwelt.conditional_entropy(uniform)).entropy_is_maximal()


def test_next_scale_contexts_are_the_contexts_times_gates_drawn_from_the_law():
    contexts = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])
    law = np.zeros((3, 4))
    law[[0, 1, 2], [1, 2, 3]] = 1.0  # point masses on h = (0, 1), (1, 0), (1, 1)
    found = umwelt.next_scale_contexts(contexts, law, np.random.default_rng(0))
    np.testing.assert_array_equal(found, [[0, 1, 0, -2], [0.5, 0, 3, 0], [2, 2, 1, 1]])

    rng, again = np.random.default_rng(5), np.random.default_rng(5)
    mixed = umwelt.random_conditional_law(3, 2, seed=1)
    drawn = umwelt.next_scale_contexts(contexts, mixed, rng)
    gates = umwelt.gate_states(2)[[again.choice(4, p=p) for p in mixed]]
    np.testing.assert_array_equal(drawn, np.einsum("ma,mi->mai", contexts, gates).reshape(3, 4))


def test_exponent_identity_errors_are_rounding_errors_at_every_depth():
    errors = umwelt.exponent_identity_errors([1, 2, 3, 4], 3, 4, np.random.default_rng(0))
    assert len(errors) == 4 and max(errors) < 1e-14
    assert errors == umwelt.exponent_identity_errors([1, 2, 3, 4], 3, 4, np.random.default_rng(0))
    assert umwelt.exponent_forms_agree(errors)
    assert umwelt.exponent_forms_agree([0.0, 1e-12]) and not umwelt.exponent_forms_agree([0.0, 2e-12])


def test_parameter_growth_is_exponential_for_full_tensors_and_linear_for_hierarchical_weights():
    growth = umwelt.parameter_growth(3, [1, 2, 3])
    assert growth.full == [3**2, 3**2 + 3**3, 3**2 + 3**3 + 3**4]
    assert growth.hierarchical == [9, 18, 27]
    assert growth.ratio == 117 / 27 and growth.hierarchical_is_smaller()
    assert not umwelt.parameter_growth(3, [1]).hierarchical_is_smaller()  # one scale: the same 9 weights


def test_gate_law_distance_is_the_mean_distance_of_the_enumerated_gate_law_from_the_relu_gates():
    model = small_mlp([3, 4, 3, 1], seed=2)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    temperatures = [1.0, 0.1]
    found = umwelt.gate_law_distance(model, x, temperatures)
    assert found.shape == (2, 2)
    with torch.no_grad():
        for k, t in enumerate(temperatures):
            for layer, (law, relu) in enumerate(zip(umwelt.degenerate_gate_marginals(model, x, t),
                                                    umwelt.relu_gate_marginals(model, x))):
                assert found[k, layer] == pytest.approx(umwelt.total_variation(law, relu).mean().item(), rel=1e-12)


def test_gate_margins_are_the_smallest_absolute_pre_activations_per_layer():
    model = small_mlp([3, 4, 3, 1], seed=2)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    w1, w2 = model[0].weight.detach(), model[2].weight.detach()
    z1 = x @ w1.T
    z2 = torch.relu(z1) @ w2.T
    assert umwelt.gate_margins(model, x) == [z1.abs().min().item(), z2.abs().min().item()]


def test_gate_law_convergence_reaches_relu_when_cold_and_monotone():
    model = small_mlp([3, 4, 3, 1], seed=2)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    found = umwelt.gate_law_convergence({"a": model}, x, [10.0, 1.0, 0.1, 1e-9])
    np.testing.assert_array_equal(found.distance["a"], umwelt.gate_law_distance(model, x, [10.0, 1.0, 0.1, 1e-9]))
    assert found.margins["a"] == umwelt.gate_margins(model, x) and min(found.margins["a"]) > 1e-6
    assert found.coldest() < 1e-12 and found.monotone() and found.reaches_relu()

    falling = np.array([[0.9, 0.8], [0.5, 0.4], [0.001, 0.0]])
    case = umwelt.GateLawConvergence((1.0, 0.1, 0.01), {"a": falling, "b": falling / 2}, {})
    assert case.coldest() == 0.001 and case.reaches_relu()
    assert not case.reaches_relu(tol=1e-3)
    rising = dataclasses.replace(case, distance={"a": falling, "b": falling[::-1]})
    assert not rising.monotone() and not rising.reaches_relu()


def test_marginal_comparison_matches_the_exact_degenerate_and_relu_laws():
    model = small_mlp([2, 2, 2, 2, 1], seed=3)
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    temperatures = [2.0, 0.5, 1e-9]
    found = umwelt.marginal_comparison(model, x, temperatures)
    assert found.to_degenerate.shape == found.to_relu.shape == (3, 3)
    with torch.no_grad():
        for k, t in enumerate(temperatures):
            exact = umwelt.exact_gate_marginals(model, x, t)
            degenerate = umwelt.degenerate_gate_marginals(model, x, t)
            for layer, relu in enumerate(umwelt.relu_gate_marginals(model, x)):
                tv = umwelt.total_variation(exact[layer], degenerate[layer]).mean().item()
                assert found.to_degenerate[k, layer] == pytest.approx(tv, rel=1e-12, abs=1e-300)
                tv = umwelt.total_variation(exact[layer], relu).mean().item()
                assert found.to_relu[k, layer] == pytest.approx(tv, rel=1e-12, abs=1e-300)
    assert found.first_layer_gap() < 1e-15 and found.first_layer_exact()
    assert found.coldest() < 1e-9 and found.exact_when_cold()
    assert found.worst_deeper() == found.to_degenerate[:, 1:].max() > 0.01


def test_marginal_comparison_verdicts_and_the_worst_temperature():
    to_degenerate = np.array([[0.0, 0.1, 0.2], [0.0, 0.3, 0.1], [1e-13, 0.05, 0.0]])
    found = umwelt.MarginalComparison((1.0, 0.1, 0.01), to_degenerate, np.zeros((3, 3)))
    assert found.worst_deeper() == 0.3 and found.worst_temperature() == 0.1
    assert found.coldest() == 0.05 and not found.exact_when_cold() and found.exact_when_cold(tol=0.1)
    assert found.first_layer_gap() == 1e-13 and found.first_layer_exact()
    assert not found.first_layer_exact(tol=1e-14)
