"""Mean-field binary networks and batched ensembles (Zou & Huang §II, appendices A, D, F)."""

import math

import pytest
import torch
import torch.nn.functional as F

from adaptsym.models import count_weights
from adaptsym.binary import (
    REGIONS,
    THETA_INIT_STD,
    Configurations,
    binary_accuracy,
    binary_forward,
    draw_configurations,
    flatten_configurations,
    initial_configurations,
    mean_field_forward,
    mean_weights,
    network_accuracy,
    network_seeds,
    order_seed_of,
    preactivation_moments,
    region_slices,
    sample_weights,
    train_ensemble,
    train_single,
    unflatten_configurations,
)
from small_cases import teacher_classes

pytestmark = pytest.mark.usefixtures("one_thread")  # the networks are tiny (conftest)

DEEP = (20, 15, 15, 10)
F64 = dict(dtype=torch.float64, device="cpu", progress=False)


@pytest.fixture(scope="module")
def task():
    return teacher_classes(300, 200)


@pytest.fixture(scope="module")
def trained(task):
    """Four deep binary networks trained long enough to learn the teacher."""
    return train_ensemble(DEEP, *task, n_networks=4, epochs=25, batch_size=50, seed=3, **F64)


def _params_gap(a, b, k):
    return max((pa[k] - pb[0]).abs().max().item() for pa, pb in zip(a, b))


@pytest.mark.parametrize("shared_order, weights", [(False, "binary"), (True, "binary"), (False, "real")])
def test_batched_ensemble_equals_single_runs(task, shared_order, weights):
    ens = train_ensemble(DEEP, *task, n_networks=3, epochs=3, batch_size=50, seed=7, shared_order=shared_order,
                         weights=weights, **F64)
    assert ens.order_seed == (order_seed_of(7) if shared_order else None)
    assert ens.seeds == network_seeds(7, 3) and len(set(ens.seeds)) == 3
    for k, seed in enumerate(ens.seeds):
        one = train_single(DEEP, *task, epochs=3, batch_size=50, seed=seed, order_seed=ens.order_seed,
                           weights=weights, **F64)
        assert _params_gap(ens.params, one.params, k) < 1e-10
        assert _params_gap(ens.initial_params, one.initial_params, k) == 0
        assert torch.allclose(ens.train_loss[k], one.train_loss[0], rtol=0, atol=1e-10)
        assert torch.equal(ens.test_accuracy[k], one.test_accuracy[0])
    assert all(not torch.equal(p[0], p[1]) for p in ens.params)


def test_one_step_is_adam_on_the_mean_field_cross_entropy_with_l2(task):
    """Replays the seeding scheme by hand: fields N(0, 0.1^2) layer by layer, then the minibatch
    permutation, then eps (batch, 15+15+10); the first Adam step moves theta by
    -lr g / (|g| + 1e-8) with g the gradient of the mean cross-entropy plus l2 * theta."""
    x_train, y_train, x_test, y_test = task
    lr, l2, batch = 0.3, 1e-3, 100
    ens = train_single(DEEP, x_train, y_train, x_test, y_test, epochs=1, batch_size=300, lr=lr, l2=l2, seed=5,
                       **F64)
    g = torch.Generator().manual_seed(5)
    theta = [THETA_INIT_STD * torch.randn(shape, generator=g, dtype=torch.float64)
             for shape in [(15, 20), (15, 15), (10, 15)]]
    batch = torch.randperm(300, generator=g)
    eps = torch.randn((300, 40), generator=g, dtype=torch.float64).split([15, 15, 10], dim=-1)
    for t in theta:
        t.requires_grad_(True)
    loss = F.cross_entropy(mean_field_forward(theta, x_train[batch], eps), y_train[batch])
    grads = torch.autograd.grad(loss, theta)
    for t0, t1, grad, init in zip(theta, ens.params, grads, ens.initial_params):
        assert torch.equal(init[0], t0.detach())
        total = grad + l2 * t0.detach()
        expected = t0.detach() - lr * total / (total.abs() + 1e-8)
        assert torch.allclose(t1[0], expected, rtol=0, atol=1e-12)
    assert ens.train_loss[0, 0].item() == pytest.approx(loss.item(), abs=1e-12)


def _signs(shape, seed):
    return torch.randint(0, 2, shape, generator=torch.Generator().manual_seed(seed)).mul(2).sub(1).to(torch.int8)


def test_a_frozen_layer_is_held_at_its_signs_while_the_others_take_adam_steps(task):
    """With the middle layer frozen (Zou & Huang §IV.6, Fig. 11): the same seeding as without it (the
    middle fields are drawn, then replaced), the middle fields are ±inf, so mu = ±1 and the variance 0,
    and the first Adam step of the other layers is the one of the loss computed with the held layer."""
    x_train, y_train, x_test, y_test = task
    lr, l2, held = 0.3, 1e-3, _signs((1, 15, 15), 4)
    ens = train_ensemble(DEEP, x_train, y_train, x_test, y_test, n_networks=1, epochs=1, batch_size=300, lr=lr,
                         l2=l2, seed=5, frozen=[None, held, None], **F64)
    g = torch.Generator().manual_seed(network_seeds(5, 1)[0])
    theta = [THETA_INIT_STD * torch.randn(shape, generator=g, dtype=torch.float64)
             for shape in [(15, 20), (15, 15), (10, 15)]]
    theta[1] = torch.where(held[0] > 0, math.inf, -math.inf).double()
    batch = torch.randperm(300, generator=g)
    eps = torch.randn((300, 40), generator=g, dtype=torch.float64).split([15, 15, 10], dim=-1)
    trained = [theta[0].requires_grad_(True), theta[2].requires_grad_(True)]
    loss = F.cross_entropy(mean_field_forward(theta, x_train[batch], eps), y_train[batch])
    grads = torch.autograd.grad(loss, trained)
    for t0, t1, grad in zip(trained, (ens.params[0], ens.params[2]), grads):
        total = grad + l2 * t0.detach()
        assert torch.allclose(t1[0], t0.detach() - lr * total / (total.abs() + 1e-8), rtol=0, atol=1e-12)
    assert torch.equal(ens.params[1], theta[1][None]) and torch.equal(ens.initial_params[1], theta[1][None])
    assert torch.equal(ens.predictor_weights()[1], held.double())
    assert ens.train_loss[0, 0].item() == pytest.approx(loss.item(), abs=1e-12)


def test_frozen_layers_stay_at_their_signs_through_training_and_draws(task):
    held = _signs((2, 15, 15), 6)
    free = train_ensemble(DEEP, *task, n_networks=2, epochs=3, batch_size=50, seed=2, **F64)
    ens = train_ensemble(DEEP, *task, n_networks=2, epochs=3, batch_size=50, seed=2, frozen=[None, held, None], **F64)
    assert torch.equal(ens.predictor_weights()[1], held.double()) and torch.isfinite(ens.params[0]).all()
    (draw,) = sample_weights([ens.params[1]], 4, generator=0)
    assert torch.equal(draw, held.expand(4, -1, -1, -1))
    assert torch.equal(ens.initial_params[0], free.initial_params[0])  # twins: same LB and RB start
    assert not torch.equal(ens.params[0], free.params[0])
    again = train_ensemble(DEEP, *task, n_networks=2, epochs=3, batch_size=50, seed=2, frozen=None, **F64)
    assert all(torch.equal(a, b) for a, b in zip(again.params, free.params))


def test_binary_forward_scales_hidden_leaky_relu_by_fan_in():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 20, generator=g, dtype=torch.float64)
    w = [torch.randint(0, 2, s, generator=g).mul(2).sub(1).to(torch.int8) for s in [(15, 20), (15, 15), (10, 15)]]
    lrelu = lambda z: torch.where(z > 0, z, 0.1 * z)  # noqa: E731
    a1 = lrelu(x @ w[0].double().T) / math.sqrt(20)
    a2 = lrelu(a1 @ w[1].double().T) / math.sqrt(15)
    assert torch.allclose(binary_forward(w, x), a2 @ w[2].double().T, rtol=0, atol=1e-13)


def test_mean_field_forward_without_noise_is_the_network_of_mean_weights():
    g = torch.Generator().manual_seed(1)
    theta = [torch.randn(s, generator=g, dtype=torch.float64) for s in [(15, 20), (15, 15), (10, 15)]]
    x = torch.randn(8, 20, generator=g, dtype=torch.float64)
    zeros = [torch.zeros(8, out, dtype=torch.float64) for out in (15, 15, 10)]
    assert torch.allclose(mean_field_forward(theta, x, zeros), binary_forward([mean_weights(t) for t in theta], x),
                          rtol=0, atol=1e-13)


def test_local_reparameterisation_moments_match_explicit_weight_draws():
    """Mean and variance of one layer's pre-activations under ±1 weights drawn from the fields
    agree with a mu^T and a^2 (1 - mu^2)^T (eqs. 2-3) within 5 Monte Carlo standard errors."""
    g = torch.Generator().manual_seed(2)
    theta = 1.5 * torch.randn(4, 20, generator=g, dtype=torch.float64)
    a = torch.randn(3, 20, generator=g, dtype=torch.float64)
    n = 40000
    (w,) = sample_weights([theta], n, generator=9)
    h = torch.einsum("soi,bi->sbo", w.double(), a)
    mean, var = preactivation_moments(theta, a)
    centred = h - h.mean(0)
    sample_var = centred.square().mean(0)
    mean_se = (sample_var / n).sqrt()
    var_se = ((centred**4).mean(0) - sample_var.square()).div(n).sqrt()
    assert ((h.mean(0) - mean).abs() < 5 * mean_se).all()
    assert ((sample_var - var).abs() < 5 * var_se).all()
    assert var.min() > 0.05 * mean.abs().max()  # the check is not trivially about a deterministic sum


def test_sample_weights_are_int8_signs_with_frequency_sigmoid_theta():
    theta = torch.tensor([[-2.0, 0.0, 3.0]], dtype=torch.float64)
    (w,) = sample_weights([theta], 20000, torch.Generator().manual_seed(0))
    assert w.dtype == torch.int8 and w.shape == (20000, 1, 3) and set(w.unique().tolist()) == {-1, 1}
    p = torch.sigmoid(theta)
    freq = (w == 1).double().mean(0)
    assert ((freq - p).abs() < 5 * (p * (1 - p) / 20000).sqrt()).all()


def test_flattened_order_is_row_major_layer_by_layer():
    sizes = [15 * 20, 15 * 15, 10 * 15]
    matrices = [torch.arange(s).reshape(shape) + offset for s, shape, offset in
                zip(sizes, [(15, 20), (15, 15), (10, 15)], [0, 300, 525])]
    flat = flatten_configurations(matrices)
    assert torch.equal(flat, torch.arange(675))
    assert flat[300 + 4 * 15 + 7] == matrices[1][4, 7]  # W2[4, 7]
    batch = torch.randint(-1, 2, (5, 675))
    back = unflatten_configurations(batch, DEEP)
    assert [m.shape for m in back] == [(5, 15, 20), (5, 15, 15), (5, 10, 15)]
    assert torch.equal(flatten_configurations(back), batch)
    assert torch.equal(back[2][3], batch[3, 525:].reshape(10, 15))


def test_region_slices():
    regions = region_slices(DEEP)
    assert tuple(regions) == REGIONS and count_weights(DEEP) == 675
    ranges = {name: (s.start, s.stop) for name, s in regions.items()}
    assert ranges == {"LB": (0, 300), "ITR": (300, 525), "RB": (525, 675), "FULL": (0, 675)}
    shallow = {name: (s.start, s.stop) for name, s in region_slices((20, 10)).items()}
    assert shallow == {"LB": (0, 200), "ITR": (200, 200), "RB": (0, 200), "FULL": (0, 200)}
    five = region_slices((4, 3, 3, 3, 2))
    assert (five["ITR"].start, five["ITR"].stop, five["RB"].start) == (12, 30, 30)


def test_training_learns_the_teacher(trained, task):
    _, _, x_test, y_test = task
    chance = torch.bincount(y_test).max().item() / len(y_test)
    assert (trained.test_accuracy[:, -1] > chance + 0.15).all()
    assert (trained.train_loss[:, -1] < trained.train_loss[:, 0]).all()
    configs = draw_configurations(trained, x_test, y_test, n_per_network=20, threshold=0.0, generator=0)
    assert configs.accuracy.mean() > chance + 0.1
    real = train_ensemble(DEEP, *task, n_networks=2, epochs=10, batch_size=50, lr=0.1, weights="real", **F64)
    assert (real.test_accuracy[:, -1] > chance + 0.15).all()


def test_threshold_keeps_exactly_the_configurations_reaching_it(trained, task):
    _, _, x_test, y_test = task
    everything = draw_configurations(trained, x_test, y_test, n_per_network=30, threshold=0.0, generator=11)
    assert everything.weights.shape == (120, 675) and everything.weights.dtype == torch.int8
    assert torch.equal(everything.network, torch.arange(4).repeat_interleave(30))
    assert torch.equal(binary_accuracy(everything.matrices(), x_test, y_test), everything.accuracy)
    threshold = everything.accuracy.median().item()
    kept = draw_configurations(trained, x_test, y_test, n_per_network=30, threshold=threshold, generator=11)
    mask = everything.accuracy >= threshold
    assert 0 < mask.sum() < 120
    assert torch.equal(kept.weights, everything.weights[mask]) and torch.equal(kept.accuracy, everything.accuracy[mask])
    assert torch.equal(kept.network, everything.network[mask]) and (kept.accuracy >= threshold).all()
    best = draw_configurations(trained, x_test, y_test, n_per_network=30, threshold=threshold, generator=11,
                               best_only=True)
    per_network = everything.accuracy.view(4, 30).max(1).values
    assert torch.equal(best.accuracy, per_network[per_network >= threshold])


def test_above_keeps_the_configurations_reaching_the_threshold(trained, task):
    everything = draw_configurations(trained, *task[2:], n_per_network=30, threshold=0.0, generator=11)
    threshold = everything.accuracy.median().item()
    kept = draw_configurations(trained, *task[2:], n_per_network=30, threshold=threshold, generator=11)
    above = everything.above(threshold)
    assert above.widths == kept.widths
    for field in ("weights", "accuracy", "network"):
        assert torch.equal(getattr(above, field), getattr(kept, field))


def test_network_accuracy_averages_the_draws_of_each_network(trained, task):
    _, _, x_test, y_test = task
    draws = sample_weights(trained.params, 7, generator=5)  # (7, E, out, in): the same uniforms
    expected = binary_accuracy(draws, x_test, y_test).mean(0)
    assert torch.allclose(network_accuracy(trained, x_test, y_test, 7, generator=5), expected, rtol=0, atol=1e-12)
    real = train_ensemble((20, 10), *task, n_networks=2, epochs=1, weights="real", **F64)
    assert torch.equal(network_accuracy(real, x_test, y_test, 7, generator=5), real.accuracy(x_test, y_test))


def test_configurations_are_draws_from_the_fields(trained):
    draws = sample_weights(trained.params, 5, generator=4)
    configs = draw_configurations(trained, *teacher_classes(300, 200)[2:], n_per_network=5, threshold=0.0,
                                  generator=4)
    assert torch.equal(configs.weights.view(4, 5, 675), flatten_configurations(draws).transpose(0, 1))
    initial = initial_configurations(trained, 5, generator=4)
    assert torch.equal(initial.view(4, 5, 675), flatten_configurations(sample_weights(trained.initial_params, 5, 4))
                       .transpose(0, 1))
    assert isinstance(configs, Configurations) and configs.widths == DEEP


def test_same_seed_same_numbers_other_seed_other_numbers(task):
    runs = [train_ensemble((20, 10), *task, n_networks=2, epochs=2, batch_size=100, seed=s, **F64) for s in (1, 1, 2)]
    assert all(torch.equal(a, b) for a, b in zip(runs[0].params, runs[1].params))
    assert torch.equal(runs[0].train_loss, runs[1].train_loss)
    assert not torch.equal(runs[0].params[0], runs[2].params[0])
    theta = runs[0].params
    assert all(torch.equal(a, b) for a, b in zip(sample_weights(theta, 3, 8), sample_weights(theta, 3, 8)))


def test_bad_input_is_rejected(task, trained):
    x_train, y_train, x_test, y_test = task
    with pytest.raises(ValueError, match="widths"):
        train_ensemble((20,), *task, n_networks=1, epochs=1, **F64)
    with pytest.raises(ValueError, match="x_train must be"):
        train_ensemble((19, 10), *task, n_networks=1, epochs=1, **F64)
    with pytest.raises(ValueError, match="labels must lie in 0..4"):
        train_ensemble((20, 5), *task, n_networks=1, epochs=1, **F64)
    with pytest.raises(ValueError, match="integer labels"):
        train_ensemble(DEEP, x_train, y_train.double(), x_test, y_test, n_networks=1, epochs=1, **F64)
    with pytest.raises(ValueError, match="batch_size must lie in 1..300"):
        train_ensemble(DEEP, *task, n_networks=1, epochs=1, batch_size=301, **F64)
    with pytest.raises(ValueError, match="n_networks and epochs"):
        train_ensemble(DEEP, *task, n_networks=0, epochs=1, **F64)
    with pytest.raises(ValueError, match="lr > 0"):
        train_single(DEEP, *task, epochs=1, lr=-1.0, **F64)
    with pytest.raises(ValueError, match="valid weights: binary, real"):
        train_single(DEEP, *task, epochs=1, weights="ternary", **F64)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        draw_configurations(trained, x_test, y_test, 3, threshold=1.5, generator=0)
    with pytest.raises(ValueError, match="n_samples must be positive"):
        sample_weights(trained.params, 0, generator=0)
    with pytest.raises(ValueError, match="675 entries"):
        unflatten_configurations(torch.zeros(2, 674), DEEP)
    with pytest.raises(ValueError, match="do not chain"):
        binary_forward([torch.ones(15, 20), torch.ones(10, 14)], x_test)
    held = _signs((1, 15, 15), 0)
    with pytest.raises(ValueError, match="one entry per layer"):
        train_ensemble(DEEP, *task, n_networks=1, epochs=1, frozen=[None, held], **F64)
    with pytest.raises(ValueError, match="at least one trained"):
        train_ensemble((20, 10), *task, n_networks=1, epochs=1, frozen=[_signs((1, 10, 20), 0)], **F64)
    with pytest.raises(ValueError, match="for real weights"):
        train_ensemble(DEEP, *task, n_networks=1, epochs=1, weights="real", frozen=[None, held, None], **F64)
    with pytest.raises(ValueError, match=r"frozen layer 1 must hold ±1 weights of shape \(2, 15, 15\)"):
        train_ensemble(DEEP, *task, n_networks=2, epochs=1, frozen=[None, held, None], **F64)
    with pytest.raises(ValueError, match="frozen layer 1 must hold ±1"):
        train_ensemble(DEEP, *task, n_networks=1, epochs=1, frozen=[None, held * 0, None], **F64)
    real = train_single((20, 10), *task, epochs=1, weights="real", **F64)
    with pytest.raises(ValueError, match="binary ensemble"):
        draw_configurations(real, x_test, y_test, 3, threshold=0.5, generator=0)
    with pytest.raises(ValueError, match="no fields theta"):
        real.theta
