"""Bias-free ReLU networks and the hinge risk (Li §II.2-II.3, eq. 12)."""

import numpy as np
import pytest
import torch
from torch import nn

from adaptsym.models import (
    accuracy,
    count_parameters,
    hinge_loss,
    hinge_risk_per_example,
    margins,
    relu_mlp,
    scores,
    vgg_cnn,
)

F64 = dict(dtype=torch.float64, device="cpu")


def test_mlp_is_exactly_alternating_bias_free_linear_and_relu():
    widths = [5, 8, 3, 1]
    net = relu_mlp(widths, device="cpu")
    assert isinstance(net, nn.Sequential) and len(net) == 2 * len(widths) - 3
    linears = list(net)[::2]
    assert all(type(m) is nn.Linear and m.bias is None for m in linears)
    assert all(type(m) is nn.ReLU for m in list(net)[1::2])
    assert [(m.in_features, m.out_features) for m in linears] == list(zip(widths[:-1], widths[1:]))
    assert net(torch.randn(7, 5)).shape == (7, 1)


@pytest.mark.parametrize("widths", [[5], [], [5, 0, 1], [5, -2]])
def test_mlp_rejects_bad_widths(widths):
    with pytest.raises(ValueError, match="widths"):
        relu_mlp(widths)


def test_cnn_has_no_biases_and_vgg_block_structure():
    net = vgg_cnn(3, [4, 6], image_size=8, d_out=1, convs_per_block=2, device="cpu")
    kinds = [type(m) for m in net]
    block = [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.MaxPool2d]
    assert kinds == block + block + [nn.Flatten, nn.Linear]
    assert all(m.bias is None for m in net if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert all(name.endswith("weight") for name, _ in net.named_parameters())
    assert all(m.kernel_size == (3, 3) and m.padding == (1, 1) for m in net if isinstance(m, nn.Conv2d))
    assert net[-1].in_features == 6 * 2 * 2
    assert net(torch.randn(4, 3, 8, 8)).shape == (4, 1)


def test_cnn_rejects_images_too_small_for_pooling():
    vgg_cnn(1, [2, 2, 2], image_size=8, device="cpu")
    with pytest.raises(ValueError, match="too small"):
        vgg_cnn(1, [2, 2, 2], image_size=7, device="cpu")


@pytest.mark.parametrize("kwargs", [dict(channels=[]), dict(channels=[0]), dict(in_channels=0), dict(d_out=0)])
def test_cnn_rejects_non_positive_sizes(kwargs):
    args = dict(in_channels=1, channels=[2], image_size=4, d_out=1) | kwargs
    with pytest.raises(ValueError, match="positive"):
        vgg_cnn(**args)


@pytest.mark.parametrize("build", [lambda s: relu_mlp([6, 5, 1], seed=s), lambda s: vgg_cnn(1, [2], 4, seed=s)])
def test_seed_determinism_without_touching_global_rng(build):
    global_state = torch.get_rng_state()
    a, b, c = build(3).state_dict(), build(3).state_dict(), build(4).state_dict()
    assert torch.equal(torch.get_rng_state(), global_state)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not any(torch.equal(a[k], c[k]) for k in a)


def test_symmetric_he_prior_variances():
    """Hidden weights ~ N(0, 2/fan_in), output weights ~ N(0, 1/fan_in)."""
    net = relu_mlp([400, 300, 2000, 1], seed=0, **F64)
    for layer, variance, rtol in [(net[0], 2 / 400, 0.02), (net[2], 2 / 300, 0.02), (net[4], 1 / 2000, 0.1)]:
        w = layer.weight.detach()
        assert abs(w.mean().item()) < 4 * (variance / w.numel()) ** 0.5
        assert w.var().item() == pytest.approx(variance, rel=rtol)


def test_dtype_is_respected():
    assert all(p.dtype == torch.float64 for p in relu_mlp([3, 2, 1], **F64).parameters())
    assert all(p.dtype == torch.float64 for p in vgg_cnn(1, [2], 4, **F64).parameters())


def test_hinge_loss_hand_computed():
    # max(0, 1 - y t): t=2,y=1 -> 0; t=0.5,y=1 -> 0.5; t=-1,y=1 -> 2; t=0,y=-1 -> 1; t=-3,y=-1 -> 0
    t = torch.tensor([2.0, 0.5, -1.0, 0.0, -3.0], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    expected = torch.tensor([0.0, 0.5, 2.0, 1.0, 0.0], dtype=torch.float64)
    assert torch.equal(hinge_risk_per_example(t, y), expected)
    assert hinge_loss(t, y).item() == 3.5 / 5
    assert hinge_loss(t[:, None], y).item() == 3.5 / 5


def test_hinge_loss_matches_numpy_formula():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(200, 1, generator=g, dtype=torch.float64) * 2
    y = torch.randint(0, 2, (200,), generator=g).to(torch.float64) * 2 - 1
    expected = np.mean(np.maximum(0.0, 1.0 - y.numpy() * t.numpy()[:, 0]))
    assert hinge_loss(t, y).item() == pytest.approx(expected, rel=1e-14)


def test_hinge_loss_rejects_bad_labels_and_shapes():
    t = torch.zeros(3)
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        hinge_loss(t, torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        hinge_loss(t, torch.ones(3, 1))
    with pytest.raises(ValueError, match="one output neuron"):
        hinge_loss(torch.zeros(3, 2), torch.ones(3))
    assert scores(torch.zeros(3, 1)).shape == (3,)


def test_accuracy_counts_zero_output_as_wrong():
    t = torch.tensor([[1.5], [-0.2], [0.0], [0.0]])
    y = torch.tensor([1.0, 1.0, 1.0, -1.0])
    assert accuracy(t, y).item() == 0.25


def test_margins_are_label_times_output():
    net = relu_mlp([4, 6, 1], seed=1, **F64)
    x = torch.randn(10, 4, dtype=torch.float64)
    y = torch.tensor([1.0, -1.0] * 5, dtype=torch.float64)
    m = margins(net, x, y)
    assert m.shape == (10,)
    assert torch.equal(m, y * net(x)[:, 0])
    assert torch.allclose(hinge_risk_per_example(net(x), y), torch.clamp(1 - m, min=0), rtol=0, atol=0)


@pytest.mark.parametrize(
    "net, shape",
    [(relu_mlp([6, 10, 7, 1], seed=2, **F64), (20, 6)), (vgg_cnn(2, [3, 4], 8, seed=2, **F64), (5, 2, 8, 8))],
)
def test_positive_homogeneity(net, shape):
    """Without biases every path contributes x_{i0} times weights and gates (Li eq. 10): T(cx) = c T(x)."""
    x = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        base = net(x)
        for c in (0.1, 3.0, 1e3):
            assert torch.allclose(net(c * x), c * base, rtol=1e-12, atol=0)


def test_count_parameters():
    assert count_parameters(relu_mlp([5, 8, 3, 1])) == 5 * 8 + 8 * 3 + 3 * 1
    assert count_parameters(vgg_cnn(1, [4, 8], 8)) == 1 * 4 * 9 + 4 * 8 * 9 + 8 * 2 * 2


def test_cnn_without_pooling_keeps_the_image_size_and_has_no_pooling_layer():
    cnn = vgg_cnn(1, [2, 3], 5, pooling=False, seed=0, dtype=torch.float64, device="cpu")
    assert not any(isinstance(m, nn.MaxPool2d) for m in cnn)
    assert cnn(torch.randn(4, 1, 5, 5, dtype=torch.float64)).shape == (4, 1)
    assert cnn[-1].in_features == 3 * 5 * 5
