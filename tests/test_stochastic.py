"""The stochastic definition of DNNs (Li §II.2, eqs. 5-8) against enumeration, autograd and finite differences."""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from adaptsym import stochastic
from adaptsym.models import hinge_loss, relu_mlp
from adaptsym.models import relu_pre_activations
from adaptsym.umwelt import gate_states


def net(widths, seed=0):
    return relu_mlp(widths, seed=seed, dtype=torch.float64, device="cpu")


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def data(n, d, seed=1):
    g = gen(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    return x, torch.randint(0, 2, (n,), generator=g).double() * 2 - 1


def exact_gate_law(model, x, temperature):
    """The joint law of all gates given x and the output on each joint state, by enumerating every state."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    widths = [linear.out_features for linear in linears[:-1]]
    probabilities, outputs = [], []
    for joint in gate_states(sum(widths)):
        gates = np.split(joint, np.cumsum(widths)[:-1])
        p, activation = torch.ones(len(x), dtype=torch.float64), x
        for linear, h in zip(linears, gates):
            z = linear(activation)
            h = torch.as_tensor(h).expand_as(z)
            p = p * torch.where(h == 1, torch.sigmoid(z / temperature), torch.sigmoid(-z / temperature)).prod(1)
            activation = h * z
        probabilities.append(p)
        outputs.append(linears[-1](activation)[:, 0])
    return torch.stack(probabilities, 1), torch.stack(outputs, 1)  # (N, states)


def test_draw_gates_are_bernoulli_with_logit_z_over_t_and_relu_at_zero():
    z = torch.linspace(-2, 2, 9, dtype=torch.float64)
    draws = stochastic.draw_gates(z.expand(40000, 9), 0.7, gen())
    p = torch.sigmoid(z / 0.7)
    assert set(draws.unique().tolist()) <= {0.0, 1.0}
    assert torch.all((draws.mean(0) - p).abs() <= 5 * (p * (1 - p) / 40000).sqrt())
    assert torch.equal(stochastic.draw_gates(z, 0.0), (z > 0).double())


@pytest.mark.parametrize("max_activations", [None, 1200], ids=["one-chunk", "chunked"])
@torch.no_grad()
def test_ancestral_sampling_matches_the_exact_joint_law(max_activations, monkeypatch):
    if max_activations:
        monkeypatch.setattr(stochastic, "_MAX_ACTIVATIONS", max_activations)
    model, (x, _) = net([3, 2, 3, 1], seed=2), data(4, 3)
    t, s = 0.8, 20000
    law, values = exact_gate_law(model, x, t)
    assert torch.allclose(law.sum(1), torch.ones(4, dtype=torch.float64), atol=1e-14)

    gates, _ = stochastic.stochastic_forward(model, x, t, gen(), n_samples=s)
    bits = torch.cat(gates, dim=-1)  # (S, N, 5): joint state, first layer most significant
    index = (bits * 2 ** torch.arange(bits.shape[-1] - 1, -1, -1)).sum(-1).long()
    frequency = torch.nn.functional.one_hot(index, law.shape[1]).double().mean(0)
    assert torch.all((frequency - law).abs() <= 5 * (law * (1 - law) / s).sqrt() + 1e-12)

    samples = stochastic.sample_outputs(model, x, t, s, gen(1))
    mean = (law * values).sum(1)
    std = ((law * values**2).sum(1) - mean**2).sqrt()
    assert samples.shape == (s, 4)
    assert torch.all((samples.mean(0) - mean).abs() <= 5 * std / s**0.5)


def test_zero_temperature_is_the_relu_network_and_stochastic_gates_share_weights():
    model, (x, _) = net([4, 6, 5, 1]), data(30, 4)
    with torch.no_grad():
        relu = model(x)
        assert torch.equal(stochastic.stochastic_forward(model, x, 0.0)[1], relu)
        assert torch.equal(stochastic.with_stochastic_gates(model, 0.0)(x), relu)
    hot = stochastic.with_stochastic_gates(model, 2.0, gen())
    assert [type(m) for m in hot] == [nn.Linear, stochastic.StochasticGate] * 2 + [nn.Linear]
    assert all(a is b for a, b in zip(hot.parameters(), model.parameters()))


def test_output_converges_to_relu_as_temperature_goes_to_zero():
    model, (x, _) = net([4, 8, 8, 1]), data(50, 4)
    temperatures = [10.0, 1.0, 0.1, 1e-3, 1e-12]
    with torch.no_grad():
        margin = min(z.abs().min().item() for z in relu_pre_activations(model, x))
    assert margin > 1e-6  # every gate is decided at T = 1e-12
    curve = stochastic.convergence_to_relu(model, x, temperatures, 64, gen(), progress=False)
    assert curve.scale == pytest.approx(model(x).abs().mean().item(), rel=1e-14)
    assert curve.sample_error[-1] <= 1e-12 and curve.mean_error[-1] <= 1e-12
    assert np.all(curve.mean_error <= curve.sample_error + 1e-15)  # |E s - r| <= E|s - r|
    assert curve.sample_error[0] > 0.3 * curve.scale > 100 * curve.sample_error[3]


def test_same_generator_seed_gives_the_same_samples():
    model, (x, _) = net([4, 8, 1]), data(10, 4)
    a, b = (stochastic.sample_outputs(model, x, 0.5, 7, gen(3)) for _ in range(2))
    assert torch.equal(a, b) and not torch.equal(a, stochastic.sample_outputs(model, x, 0.5, 7, gen(4)))


def risk_gradient(model, x, y):
    """Backpropagation through the ReLU network, written out independently of the module under test."""
    return torch.autograd.grad(hinge_loss(model(x), y), list(model.parameters()))


@pytest.mark.parametrize("widths", [[5, 1], [5, 7, 1], [5, 7, 6, 1], [5, 4, 7, 6, 5, 1]],
                         ids=lambda w: f"L{len(w) - 1}")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_m_step_with_relu_gates_is_exactly_backpropagation(widths, seed):
    model, (x, y) = net(widths, seed), data(40, 5, seed)
    em = stochastic.m_step_gradient(model, x, y, stochastic.e_step(model, x))
    backprop = risk_gradient(model, x, y)
    assert all(g.norm() > 1e-3 for g in backprop)  # margins violate the hinge: a nonzero gradient
    assert [g.shape for g in em] == [p.shape for p in model.parameters()]
    assert max((a - b).abs().max().item() for a, b in zip(em, backprop)) <= 1e-12
    assert stochastic.gradient_distance(em, backprop)[0] <= 1e-12
    assert stochastic.gradient_distance(stochastic.backprop_gradient(model, x, y), backprop) == (0.0, 0.0)


def test_m_step_gradient_is_the_gradient_with_gates_held_fixed():
    """Central differences of the gated linear network's risk: exact away from hinge kinks, since the
    output is linear in each weight matrix when the gates are fixed."""
    model, (x, y) = net([3, 4, 4, 1], seed=5), data(20, 3, seed=5)
    gates = stochastic.e_step(model, x, 1.0, gen())
    gradient = stochastic.m_step_gradient(model, x, y, gates)
    for layer, g in zip([model[0], model[2], model[4]], gradient):
        for i, j in itertools.product(range(g.shape[0]), range(min(g.shape[1], 3))):
            with torch.no_grad():
                layer.weight[i, j] += 1e-6
                up = hinge_loss(stochastic.gated_forward(model, x, gates), y).item()
                layer.weight[i, j] -= 2e-6
                down = hinge_loss(stochastic.gated_forward(model, x, gates), y).item()
                layer.weight[i, j] += 1e-6
            assert (up - down) / 2e-6 == pytest.approx(g[i, j].item(), abs=1e-8)


def test_sampled_gates_match_relu_gates_at_small_t_and_not_at_large_t():
    model, (x, y) = net([5, 8, 8, 1], seed=3), data(40, 5, seed=3)
    relu_gates, backprop = stochastic.e_step(model, x), risk_gradient(model, x, y)
    for seed in range(5):
        cold = stochastic.e_step(model, x, 1e-9, gen(seed))
        assert all(torch.equal(a, b) for a, b in zip(cold, relu_gates))
        em = stochastic.m_step_gradient(model, x, y, cold)
        assert stochastic.gradient_distance(em, backprop)[0] <= 1e-12
        hot = stochastic.e_step(model, x, 5.0, gen(seed))
        assert not all(torch.equal(a, b) for a, b in zip(hot, relu_gates))
        assert stochastic.gradient_distance(stochastic.m_step_gradient(model, x, y, hot), backprop)[1] > 0.1
    gaps = stochastic.sampled_gradient_gap(model, x, y, [5.0, 1e-9], gen(), n_draws=3, progress=False)
    assert gaps[0] > 0.1 and gaps[1] <= 1e-12


def test_backprop_through_stochastic_gates_is_the_m_step_with_the_gates_it_drew():
    model, (x, y) = net([4, 6, 6, 1], seed=4), data(25, 4, seed=4)
    gates = stochastic.e_step(model, x, 0.5, gen(9))  # the same draws, in the same order, as the forward pass
    hot = stochastic.with_stochastic_gates(model, 0.5, gen(9))
    through_gates = torch.autograd.grad(hinge_loss(hot(x), y), list(model.parameters()))
    em = stochastic.m_step_gradient(model, x, y, gates)
    assert max((a - b).abs().max().item() for a, b in zip(through_gates, em)) <= 1e-12


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cpu_generator_gives_the_same_gates_for_data_on_cuda():
    model, (x, _) = net([4, 6, 6, 1]), data(25, 4)
    on_cpu = stochastic.e_step(model, x, 0.5, gen(2))
    on_cuda = stochastic.e_step(model.cuda(), x.cuda(), 0.5, gen(2))
    assert all(torch.equal(a, b.cpu()) for a, b in zip(on_cpu, on_cuda))
    cuda_gen = torch.Generator("cuda").manual_seed(0)
    assert stochastic.sample_outputs(model, x.cuda(), 0.5, 3, cuda_gen).device.type == "cuda"


def test_bad_input_is_rejected_with_the_valid_choices():
    model, (x, y) = net([4, 6, 1]), data(5, 4)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number >= 0"):
            stochastic.draw_gates(x, bad, gen())
    with pytest.raises(ValueError, match="needs a torch.Generator"):
        stochastic.sample_outputs(model, x, 0.5, 3)
    with pytest.raises(ValueError, match="needs a torch.Generator"):
        stochastic.StochasticGate(0.5)
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        stochastic.e_step(model, x[:, :3])
    with pytest.raises(ValueError, match="positive integer"):
        stochastic.sample_outputs(model, x, 0.5, 0, gen())
    with pytest.raises(ValueError, match="1 gate layers; got 2"):
        stochastic.m_step_gradient(model, x, y, stochastic.e_step(net([4, 6, 6, 1]), x))
    with pytest.raises(ValueError, match="do not match"):
        stochastic.gated_forward(model, x, [torch.ones(5, 7, dtype=torch.float64)])
    with pytest.raises(ValueError, match="one output neuron"):
        stochastic.sample_outputs(net([4, 6, 2]), x, 0.5, 3, gen())
    with pytest.raises(ValueError, match="bias-free ReLU MLP"):
        stochastic.e_step(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1)).double(), x)


def test_output_samples_use_the_same_random_numbers_at_every_temperature():
    model, (x, _) = net([4, 6, 6, 1]), data(3, 4)
    found = stochastic.output_samples(model, x, [1.0, 0.1, 1e-12], 50, seed=7)
    with torch.no_grad():
        np.testing.assert_array_equal(found.relu, model(x)[:, 0].numpy())
    for t, samples in found.samples.items():
        assert samples.shape == (50, 3)
        np.testing.assert_array_equal(samples, stochastic.sample_outputs(model, x, t, 50, gen(7)).numpy())
    np.testing.assert_array_equal(found.samples[1e-12], np.broadcast_to(found.relu, (50, 3)))


def test_log_log_slope_recovers_a_power_law_on_the_window_where_every_curve_is_positive():
    temperatures = np.array([1.0, 0.3, 0.1, 0.03, 0.01, 1e-3])
    power = 3 * temperatures**2
    other = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    window = stochastic.temperature_window(temperatures, 0.01, 0.3, [power, other])
    assert window.tolist() == [False, True, False, True, True, False]
    assert stochastic.log_log_slope(temperatures, power, window) == pytest.approx(2.0, abs=1e-12)
    assert stochastic.log_log_slope(list(temperatures), np.sqrt(temperatures), window) == pytest.approx(0.5, abs=1e-12)


def test_rank_trend_is_one_when_values_fall_with_temperature_and_minus_one_when_they_rise():
    temperatures = [1.0, 0.1, 0.01, 0.001]
    assert stochastic.rank_trend(temperatures, np.array([5.0, 2.0, 1.0, 0.0])) == pytest.approx(1.0)
    assert stochastic.rank_trend(temperatures, np.array([0.0, 1.0, 2.0, 5.0])) == pytest.approx(-1.0)


def convergence_curve(sample_error):
    temperatures = np.array([1.0, 0.1, 0.01, 1e-3, 1e-8])
    return stochastic.ConvergenceCurve(temperatures, np.asarray(sample_error), np.asarray(sample_error) / 2, 4.0)


def test_convergence_curve_slope_trend_and_verdict():
    curve = convergence_curve([2.0, 4e-2, 4e-4, 4e-6, 0.0])
    np.testing.assert_array_equal(curve.relative_sample_error, curve.sample_error / 4)
    np.testing.assert_array_equal(curve.relative_mean_error, curve.sample_error / 8)
    assert curve.slope(1e-3, 0.1) == pytest.approx(2.0, abs=1e-12)
    assert curve.trend() == pytest.approx(1.0) and curve.reaches_relu()
    assert not convergence_curve([2.0, 4e-2, 4e-4, 4e-6, 1e-5]).reaches_relu()  # 2.5e-6 relative error when cold
    assert not convergence_curve([0.0, 4e-2, 4e-4, 1.0, 0.0]).reaches_relu()  # not falling with T


def test_relu_convergence_samples_every_network_with_the_same_seed():
    networks, (x, _) = {"a": net([4, 6, 1]), "b": net([4, 5, 5, 1], seed=1)}, data(10, 4)
    found = stochastic.relu_convergence(networks, x, [1.0, 0.01], 20, seed=3)
    for name, model in networks.items():
        expected = stochastic.convergence_to_relu(model, x, [1.0, 0.01], 20, gen(3), progress=False)
        np.testing.assert_array_equal(found[name].sample_error, expected.sample_error)
        np.testing.assert_array_equal(found[name].mean_error, expected.mean_error)


def test_em_identity_gaps_are_rounding_small_for_every_network():
    networks, (x, y) = {"a": net([5, 7, 1]), "b": net([5, 4, 6, 1], seed=2)}, data(30, 5)
    gaps = stochastic.em_identity_gaps(networks, x, y)
    assert list(gaps) == ["a", "b"] and max(gaps.values()) <= 1e-12 and stochastic.m_step_is_backprop(gaps)
    assert not stochastic.m_step_is_backprop({"a": 0.0, "b": 2e-12})


def test_gradient_gaps_use_the_same_seed_for_every_network_and_fit_slopes_on_a_common_window():
    networks, (x, y) = {"a": net([5, 8, 8, 1], seed=3), "b": net([5, 6, 1], seed=4)}, data(40, 5, seed=3)
    found = stochastic.gradient_gaps(networks, x, y, [5.0, 1e-9], seed=2, n_draws=2)
    for name, model in networks.items():
        expected = stochastic.sampled_gradient_gap(model, x, y, [5.0, 1e-9], gen(2), 2, progress=False)
        np.testing.assert_array_equal(found.gaps[name], expected)
    assert found.n_draws == 2 and found.coldest() <= 1e-12

    temperatures = np.array([1.0, 0.1, 0.01, 1e-3, 1e-9])
    gaps = {"linear": np.array([1.0, 0.1, 0.01, 0.0, 0.0]), "root": np.array([1.0, 0.1**0.5, 0.1, 0.02, 0.0])}
    case = stochastic.GradientGaps(temperatures, gaps, 1)
    slopes = case.slopes(1e-3, 0.3)  # T = 1e-3, off the root law, is left out for both: one gap is 0 there
    assert slopes["linear"] == pytest.approx(1.0, abs=1e-12) and slopes["root"] == pytest.approx(0.5, abs=1e-12)
    assert case.coldest() == 0.0 and 0.9 < case.trend() < 1.0 and case.vanishes()
    assert not case.vanishes(min_trend=0.99)
    warm = stochastic.GradientGaps(temperatures, gaps | {"root": np.array([1.0, 0.1**0.5, 0.1, 0.02, 1e-6])}, 1)
    assert warm.coldest() == 1e-6 and not warm.vanishes() and warm.vanishes(tol=1e-6)


def training_history(final_risk):
    return [{"train_loss": 1.0}, {"train_loss": final_risk}]


def test_temperature_training_judges_final_risks_against_their_seed_spread():
    runs = {0.0: [training_history(r) for r in (0.10, 0.11, 0.09, 0.10)],
            0.03: [training_history(r) for r in (0.105, 0.095, 0.10, 0.11)],
            1.0: [training_history(r) for r in (0.20, 0.21, 0.19, 0.20)]}
    found = stochastic.TemperatureTraining(runs)
    np.testing.assert_array_equal(found.final_risks(1.0), [0.20, 0.21, 0.19, 0.20])
    assert found.risk_excess(1.0) == pytest.approx(0.10)
    se = np.sqrt(np.var([0.20, 0.21, 0.19, 0.20], ddof=1) / 4 + np.var([0.10, 0.11, 0.09, 0.10], ddof=1) / 4)
    assert found.standard_error(1.0) == pytest.approx(se) and found.z_score(1.0) == pytest.approx(0.10 / se)
    assert found.matches_relu(0.03) and not found.matches_relu(1.0)
    assert found.hot_training_is_worse() and found.warmest_match() == 0.03
    assert found.first_runs()[1.0] == runs[1.0][0]
    same = stochastic.TemperatureTraining({t: runs[0.0] for t in (0.0, 1.0)})
    assert not same.hot_training_is_worse() and same.matches_relu(1.0)
    few = stochastic.TemperatureTraining({t: r[:2] for t, r in runs.items()})
    assert few.matches_relu(0.03) is None and few.hot_training_is_worse() is None  # too few seeds to judge


def test_train_at_temperatures_trains_every_temperature_and_seed(monkeypatch, tmp_path):
    from adaptsym.train import TrainConfig

    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path))
    x, y = data(40, 4)
    config = TrainConfig(model="mlp", widths=(4, 6, 1), lr=0.05, batch_size=20, epochs=2, seed=3, dtype="float64")
    found = stochastic.train_at_temperatures(config, [0.5], 2, x, y, x, y, "cpu")
    assert sorted(found.histories) == [0.0, 0.5] and all(len(runs) == 2 for runs in found.histories.values())
    assert len({r[-1]["train_loss"] for runs in found.histories.values() for r in runs}) == 4  # all differ
    assert all(len(r) == 3 for runs in found.histories.values() for r in runs)  # epochs 0, 1, 2


# ----------------------------------------------------------------------------------------------------------
# §II.2 exactly: log mu_L(y|x) and its bounds, against brute-force enumeration written out independently.
# ----------------------------------------------------------------------------------------------------------

def brute_force_likelihood(model, x, y, temperature):
    """Per input: log mu_L(y|x), the prior ELBO, the point-mass ELBO at the ReLU gates, and whether the ReLU gates
    maximise log mu(h, y|x), from :func:`exact_gate_law`'s explicit products."""
    law, values = exact_gate_law(model, x, temperature)
    conditional = torch.sigmoid(y[:, None] * values)
    relu_index = [int("".join(str(int(b)) for b in bits), 2) for bits in relu_bits(model, x)]
    joint = law * conditional
    rows = torch.arange(len(x))
    point = torch.log(joint[rows, relu_index])
    return (torch.log(joint.sum(1)), (law * torch.log(conditional)).sum(1), point,
            joint.argmax(1) == torch.tensor(relu_index))


def relu_bits(model, x):
    with torch.no_grad():
        return torch.cat([(z > 0).double() for z in relu_pre_activations(model, x)], 1)


def test_enumeration_matches_the_explicit_gate_law_energy_and_relu_pattern():
    model, (x, _) = net([3, 2, 3, 1], seed=2), data(6, 3)
    found = stochastic.enumerate_gates(model, x)
    law, values = exact_gate_law(model, x, 0.7)
    torch.testing.assert_close(found.log_prior(0.7).exp().T, law, rtol=0, atol=1e-15)
    torch.testing.assert_close(found.logits.T, values, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(found.states.numpy(), gate_states(5))
    np.testing.assert_array_equal(found.states[found.relu].numpy(), relu_bits(model, x).numpy())
    with torch.no_grad():
        linears = [m for m in model if isinstance(m, nn.Linear)]
        for s, state in enumerate(found.states):
            h1, h2 = state[:2], state[2:]
            z1 = linears[0](x)
            z2 = linears[1](h1 * z1)
            torch.testing.assert_close(found.energy[s], -(z1 * h1).sum(1) - (z2 * h2).sum(1), rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="exceed max_states=16"):
        stochastic.enumerate_gates(model, x, max_states=16)
    with pytest.raises(ValueError, match="temperature > 0"):
        found.log_prior(0.0)


def test_log_prior_is_exact_at_tiny_temperatures():
    """At T -> 0 the law is a point mass on the ReLU pattern, except for gates with a field of exactly 0 (above a
    layer whose gates are all off, in a bias-free network), fair coins at any T: log mu_T(ĥ|x) = -(their number)
    log 2, with no cancellation error from the large terms z/T."""
    model, (x, _) = net([3, 3, 3, 1], seed=4), data(10, 3)
    found = stochastic.enumerate_gates(model, x)
    cold = found.log_prior(1e-10)
    zero_fields = sum((z == 0).sum(1) for z in relu_pre_activations(model, x)).double()
    assert zero_fields.max() > 0  # the case is exercised
    torch.testing.assert_close(found.at_relu(cold), -zero_fields * np.log(2), rtol=0, atol=1e-15)
    torch.testing.assert_close(torch.logsumexp(cold, 0), torch.zeros(10, dtype=torch.float64), rtol=0, atol=1e-15)


@pytest.mark.parametrize("temperature", [3.0, 0.5, 0.05])
def test_likelihood_bounds_match_brute_force(temperature):
    model, (x, y) = net([3, 3, 2, 1], seed=5), data(12, 3, seed=5)
    found = stochastic.likelihood_bounds(model, x, y, [temperature])
    log_likelihood, prior, point, is_map = brute_force_likelihood(model, x, y, temperature)
    np.testing.assert_allclose(found.log_likelihood[0], log_likelihood.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(found.prior_elbo[0], prior.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(found.point_mass_elbo[0], point.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_array_equal(found.relu_is_map[0], is_map.numpy())
    with torch.no_grad():
        backprop = torch.nn.functional.logsigmoid(y * model(x)[:, 0])
    np.testing.assert_allclose(found.backprop_objective, backprop.numpy(), rtol=0, atol=1e-14)


def test_the_two_elbos_are_bounds_and_the_backprop_objective_is_not():
    model, (x, y) = net([4, 4, 4, 1], seed=1), data(200, 4, seed=1)
    found = stochastic.likelihood_bounds(model, x, y, [2.0, 0.5, 0.1])
    assert found.is_bound("prior_elbo") and found.is_bound("point_mass_elbo")
    assert np.all(found.point_mass_elbo <= found.backprop_objective)  # the prior term log mu_T(ĥ|x) <= 0
    above = found.fraction_above("backprop_objective")
    assert np.all(above > 0.05) and not found.is_bound("backprop_objective")
    np.testing.assert_array_equal(found.fraction_above("prior_elbo"), 0.0)
    cold = stochastic.likelihood_bounds(model, x, y, [1e-9])
    np.testing.assert_allclose(cold.log_likelihood[0], cold.backprop_objective, rtol=0, atol=1e-12)  # eq. 7's limit
    assert cold.forward_pass_is_e_step(min_fraction=1.0)
    with pytest.raises(ValueError, match="unknown quantity"):
        found.excess("log_likelihood")


def likelihood_bounds_case(map_fraction):
    """LikelihoodBounds at T = (1, 0.1, 0.01) on 4 inputs with planted values."""
    t = np.array([1.0, 0.1, 0.01])
    log_likelihood = np.full((3, 4), -0.5)
    backprop = np.array([-0.4, -0.6, -0.6, -0.6])  # above on one input of four
    relu_is_map = np.array([[k < round(4 * f) for k in range(4)] for f in map_fraction])
    return stochastic.LikelihoodBounds(t, log_likelihood, log_likelihood - 0.1, log_likelihood - 0.2, backprop,
                                       relu_is_map)


def test_likelihood_bounds_verdicts_on_planted_values():
    found = likelihood_bounds_case([0.5, 0.75, 1.0])
    np.testing.assert_allclose(found.fraction_above("backprop_objective"), 0.25)
    assert found.largest_excess("backprop_objective") == pytest.approx(0.1)
    assert found.largest_excess("prior_elbo") == pytest.approx(-0.1) and found.is_bound("prior_elbo")
    np.testing.assert_allclose(found.map_fraction(), [0.5, 0.75, 1.0])
    assert found.forward_pass_is_e_step() and not likelihood_bounds_case([1.0, 1.0, 0.75]).forward_pass_is_e_step()


def trace_case(log_likelihood, loss="logistic"):
    log_likelihood = np.asarray(log_likelihood, dtype=float)
    steps = np.arange(len(log_likelihood)) * 10
    return stochastic.LikelihoodTrace(loss, steps, np.array([1.0, 0.01]), log_likelihood, log_likelihood[:, -1],
                                      likelihood_bounds_case([1.0, 1.0, 1.0]))


def test_likelihood_trace_drops_gains_and_settling():
    trace = trace_case([[-1.0, -1.0], [-0.5, -0.6], [-0.6, -0.4], [-0.595, -0.399]])
    np.testing.assert_allclose(trace.drops(), [0.1, 0.0])
    np.testing.assert_allclose(trace.gains(), [0.405, 0.601])
    assert trace.largest_drop() == pytest.approx(0.1) and trace.largest_drop(0.1) == 0.0
    assert not trace.rises_monotonically() and trace.rises_monotonically(max_temperature=0.1)
    assert trace.last_change() == pytest.approx(0.005) and trace.settled(0.01) and not trace.settled(0.001)


def test_em_reading_compares_hinge_with_logistic_only_once_both_have_settled():
    def bounds(level):
        case = likelihood_bounds_case([1.0, 1.0, 1.0])
        return stochastic.LikelihoodBounds(case.temperatures, case.log_likelihood + level, case.prior_elbo,
                                           case.point_mass_elbo, case.backprop_objective, case.relu_is_map)

    settled = {"hinge": trace_case([[-1, -1], [-0.6, -0.6], [-0.601, -0.6]], "hinge"),
               "logistic": trace_case([[-1, -1], [-0.5, -0.5], [-0.499, -0.5]])}
    found = stochastic.EMReading({"hinge": bounds(-0.1), "logistic": bounds(0.0)}, settled)
    np.testing.assert_allclose(found.hinge_shortfall(), 0.1)
    assert found.hinge_maximises_likelihood() is False
    close = stochastic.EMReading({"hinge": bounds(-0.005), "logistic": bounds(0.0)}, settled)
    assert close.hinge_maximises_likelihood() is True
    climbing = settled | {"logistic": trace_case([[-1, -1], [-0.5, -0.5], [-0.4, -0.4]])}
    assert stochastic.EMReading({"hinge": bounds(-0.1), "logistic": bounds(0.0)}, climbing) \
        .hinge_maximises_likelihood() is None


def test_m_step_training_is_gradient_descent_on_the_loss_with_exact_likelihoods_along_the_way():
    model, (x, y) = net([3, 3, 3, 1], seed=6), data(30, 3, seed=6)
    before = [p.detach().clone() for p in model.parameters()]
    trace = stochastic.m_step_training(model, x, y, "logistic", [1.0, 0.1], steps=7, lr=0.3, every=3)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # trained a copy
    np.testing.assert_array_equal(trace.steps, [0, 3, 6, 7])
    copy = net([3, 3, 3, 1], seed=6)
    for _ in range(7):  # plain gradient descent on -mean log sigma(y T(x)), written out
        grads = torch.autograd.grad(-torch.nn.functional.logsigmoid(y * copy(x)[:, 0]).mean(), list(copy.parameters()))
        with torch.no_grad():
            for p, g in zip(copy.parameters(), grads):
                p -= 0.3 * g
    expected = stochastic.likelihood_bounds(copy, x, y, [1.0, 0.1])
    np.testing.assert_allclose(trace.final.log_likelihood, expected.log_likelihood, rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.log_likelihood[-1], expected.log_likelihood.mean(1), rtol=0, atol=1e-12)
    assert trace.log_likelihood[0] == pytest.approx(stochastic.likelihood_bounds(model, x, y, [1.0, 0.1])
                                                    .log_likelihood.mean(1))
    with pytest.raises(ValueError, match="unknown M-step loss 'square'; valid: hinge, logistic"):
        stochastic.m_step_training(model, x, y, "square", [1.0], 1, 0.1, 1)


def test_em_reading_trains_both_losses_from_the_same_weights():
    model, (x, y) = net([3, 3, 1], seed=7), data(20, 3, seed=7)
    found = stochastic.em_reading(model, x, y, [1.0, 0.1], steps=4, lr=0.1, every=2)
    assert list(found.bounds) == ["initialisation", "hinge", "logistic"] and list(found.traces) == ["hinge", "logistic"]
    np.testing.assert_array_equal(found.traces["hinge"].log_likelihood[0], found.traces["logistic"].log_likelihood[0])
    assert not np.array_equal(found.bounds["hinge"].log_likelihood, found.bounds["logistic"].log_likelihood)
    assert found.is_bound("prior_elbo") and found.smallest_map_fraction(0.1) <= 1.0


# ----------------------------------------------------------------------------------------------------------
# §II.3, eq. 9: free energies against closed forms, random laws and a blind numerical minimiser.
# ----------------------------------------------------------------------------------------------------------

def test_free_energy_of_one_gate_is_minimised_at_sigma_z_over_t():
    states = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    z, t = torch.tensor([0.8], dtype=torch.float64), 0.5
    q = torch.linspace(0, 1, 2001, dtype=torch.float64)
    f = stochastic.free_energy(torch.stack([1 - q, q], 1), z, t, states)
    p_star = torch.sigmoid(z / t).item()
    assert q[f.argmin()].item() == pytest.approx(p_star, abs=1e-3)
    expected = -q * 0.8 + t * (torch.special.xlogy(q, q) + torch.special.xlogy(1 - q, 1 - q))
    torch.testing.assert_close(f, expected, rtol=0, atol=1e-15)
    assert f.min().item() >= stochastic.free_energy_minimum(z, t).item() - 1e-15
    curves = stochastic.gate_free_energy_curves(0.8, [0.5, 0.1], n_grid=2001)
    assert curves.minimiser(0.5) == pytest.approx(p_star, rel=1e-14)
    assert curves.q[np.argmin(curves.curves[0.1])] == pytest.approx(curves.minimiser(0.1), abs=1e-3)


def test_free_energy_minimum_tends_to_minus_relu_and_is_exact_beyond_softplus_thresholds():
    z = torch.tensor([1.5, -0.3, 0.0, 2.0], dtype=torch.float64)
    for t in [1.0, 0.1, 0.01]:
        gap = stochastic.free_energy_minimum(z, t) + torch.relu(z).sum()
        assert -4 * t * np.log(2) - 1e-15 <= gap.item() <= 1e-15
    exact = -0.01 * sum(np.log1p(np.exp(v / 0.01)) if v <= 0 else v / 0.01 + np.log1p(np.exp(-v / 0.01))
                        for v in z.tolist())
    assert stochastic.free_energy_minimum(z, 0.01).item() == pytest.approx(exact, abs=1e-15)


@pytest.mark.parametrize("temperature", [2.0, 0.3, 0.01])
def test_numerical_minimiser_finds_the_bernoulli_law_without_knowing_it(temperature):
    z = np.array([0.9, -0.4, 0.05])
    states = gate_states(3)
    found = stochastic.minimise_free_energy(z, temperature, states)
    p = np.prod(np.where(states == 1, 1 / (1 + np.exp(-z / temperature)), 1 / (1 + np.exp(z / temperature))), 1)
    np.testing.assert_allclose(found, p, rtol=0, atol=1e-8)


def test_free_energy_check_on_layer_fields():
    z = torch.tensor([[0.7, -1.2, 0.1], [0.0, 2.0, -0.5]], dtype=torch.float64)
    found = stochastic.free_energy_check(z, [1.0, 0.1], n_random=30, seed=0)
    assert found.excess.shape == (2, 2, 30) and found.excess.min() > 0
    assert found.kl_error <= 1e-13 and found.closed_form_error() <= 1e-13
    assert found.minimiser_distance.max() <= 1e-8 and found.bernoulli_minimises()
    planted = stochastic.FreeEnergyCheck(found.z, found.temperatures, found.bernoulli, found.minimum,
                                         found.excess - found.excess.max() - 1e-3, found.kl_error,
                                         found.minimiser_distance)
    assert not planted.bernoulli_minimises()  # a random law below the Bernoulli one would refute eq. 9


def test_network_free_energy_against_the_explicit_law_and_its_limits():
    model, (x, _) = net([3, 2, 3, 1], seed=2), data(6, 3)
    temperatures = [1.0, 0.2, 1e-9]
    found = stochastic.network_free_energy(model, x, temperatures)
    enumeration = stochastic.enumerate_gates(model, x)
    for k, t in enumerate(temperatures[:2]):
        law, _ = exact_gate_law(model, x, t)  # (N, S)
        energy = enumeration.energy.T
        entropy = -torch.special.xlogy(law, law).sum(1)
        assert found.energy[k] == pytest.approx((law * energy).sum(1).mean().item(), abs=1e-13)
        assert found.entropy[k] == pytest.approx(entropy.mean().item(), abs=1e-13)
        assert found.joint[k] == pytest.approx((-t * torch.logsumexp(-energy / t, 1)).mean().item(), abs=1e-13)
    assert np.all(found.joint_gap() >= -1e-14)
    assert found.relu_limit_error() <= 1e-8
    assert found.kl_to_boltzmann(1.0) == pytest.approx(found.joint_gap()[0])


def test_one_hidden_layer_gates_are_a_boltzmann_law_and_two_layers_are_not():
    x, _ = data(20, 3)
    one = stochastic.network_free_energy(net([3, 4, 1], seed=1), x, [1.0, 0.1])
    np.testing.assert_allclose(one.joint_gap(), 0.0, atol=1e-13)
    assert not one.differs_from_boltzmann(1.0) and one.relu_ground_state == 1.0
    two = stochastic.network_free_energy(net([3, 4, 4, 1], seed=1), x, [1.0, 0.1])
    assert two.differs_from_boltzmann(1.0) and np.all(two.joint_gap() > 1e-3)


# ----------------------------------------------------------------------------------------------------------
# §II.3: the cross-entropy decomposition on a synthetic environment with known label noise.
# ----------------------------------------------------------------------------------------------------------

def test_cross_entropy_is_entropy_plus_kl_and_kl_vanishes_at_the_true_law():
    p = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=torch.float64)
    logits = torch.tensor([-3.0, 0.4, 0.0, 2.0, 5.0], dtype=torch.float64)
    cross, entropy, kl = stochastic.cross_entropy_terms(logits, p)
    torch.testing.assert_close(cross, entropy + kl, rtol=0, atol=1e-15)
    expected = -p * torch.log(torch.sigmoid(logits)) - (1 - p) * torch.log(torch.sigmoid(-logits))
    torch.testing.assert_close(cross, expected, rtol=0, atol=1e-14)
    assert torch.all(kl >= 0) and entropy[0] == 0 and entropy[2] == pytest.approx(np.log(2))
    true_logits = torch.logit(p[1:4])
    assert stochastic.cross_entropy_terms(true_logits, p[1:4])[2].abs().max() <= 1e-15


def test_teacher_task_labels_follow_the_teacher_law():
    task = stochastic.teacher_task(3, [4], 1.0, 20000, 500, seed=2)
    teacher = relu_mlp([3, 4, 1], seed=2, dtype=torch.float64, device="cpu")
    with torch.no_grad():
        p = torch.sigmoid(teacher(task.x_train)[:, 0])
        torch.testing.assert_close(task.p_population, torch.sigmoid(teacher(task.x_population)[:, 0]))
    assert ((task.y_train == 1).double() - p).mean().abs() <= 4 * (p * (1 - p)).mean().sqrt() / 20000**0.5
    assert task.entropy() == pytest.approx(stochastic.binary_entropy(task.p_population).mean().item())
    noisier = stochastic.teacher_task(3, [4], 0.3, 10, 500, seed=2)
    assert noisier.entropy() > task.entropy()


def test_logistic_risk_trace_floors_at_the_entropy_on_the_population():
    task = stochastic.teacher_task(3, [4], 1.0, 400, 2000, seed=3)
    small = stochastic.logistic_risk_trace(task, 20, [3, 32, 1], steps=300, lr=0.02, every=100, seed=1)
    np.testing.assert_array_equal(small.steps, [0, 100, 200, 300])
    assert small.decomposition_error <= 1e-12 and small.floors_at_entropy()
    assert small.train_risk_share() < 0.5 < small.final_kl_share()  # fits its sample, not the environment
    floor = stochastic.EntropyFloor({20: small})
    assert floor.smallest_train_share() == small.train_risk_share() and floor.train_risk_below_entropy()


def test_entropy_floor_verdicts_on_planted_traces():
    def trace(n, train, kl):
        return stochastic.RiskTrace(n, np.array([0, 1]), np.array(train), 0.5 + np.array(kl), np.array(kl), 0.5,
                                    1e-15)

    floor = stochastic.EntropyFloor({10: trace(10, [0.7, 0.1], [0.2, 0.9]), 1000: trace(1000, [0.7, 0.5], [0.2, 0.01])})
    assert floor.decomposition_holds() and floor.floors_at_entropy()
    assert floor.closest_approach() == pytest.approx(0.02) and floor.reaches_entropy()
    assert floor.smallest_train_share() == pytest.approx(0.2) and floor.train_risk_below_entropy()
    far = stochastic.EntropyFloor({1000: trace(1000, [0.7, 0.6], [0.2, 0.1])})
    assert not far.reaches_entropy() and not far.train_risk_below_entropy()
