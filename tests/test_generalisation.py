"""Appendices F and G of Zou & Huang (adaptsym.generalisation): the comparisons and their verdict rules on
hand-made accuracy tables, and the trained-ensemble plumbing on a tiny task."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from adaptsym import generalisation as gen


def test_depth_comparison_gaps_errors_and_crossing_width():
    deep = np.array([[0.50, 0.52, 0.48, 0.50], [0.60, 0.62, 0.58, 0.60], [0.70, 0.72, 0.68, 0.70]])
    shallow = np.array([0.55, 0.57, 0.53, 0.55])
    found = gen.depth_comparison([2, 10, 30], deep, shallow)
    assert np.allclose(found.gaps, [-0.05, 0.05, 0.15], atol=1e-15)
    expected_error = np.hypot(deep[0].std(ddof=1), shallow.std(ddof=1)) / 2
    assert found.gap_errors[0] == pytest.approx(expected_error, rel=1e-15)
    assert found.crossing == 10 and "from 10 on" in found.summary()
    assert gen.depth_comparison([2, 10, 30], deep[::-1], shallow).crossing is None


@pytest.mark.parametrize("gap, n, verdict", [(0.15, 8, True), (-0.15, 8, False), (0.001, 8, None), (0.15, 4, None)])
def test_deep_beats_shallow_is_decided_beyond_two_standard_errors_with_eight_networks(gap, n, verdict):
    spread = np.array([-0.01, 0.01] * (n // 2))
    found = gen.depth_comparison([30], (0.6 + gap + spread)[None, :], 0.6 + spread)
    assert gen.deep_beats_shallow(found) is verdict


def test_largest_rise_and_double_descent_peak_in_standard_errors():
    mean, error = np.array([0.5, 0.3, 0.4, 0.2]), np.full(4, 0.05)
    assert gen.largest_rise(mean, error) == pytest.approx(2.0)  # 0.4 over the earlier 0.3
    assert gen.double_descent_peak(mean, error) == pytest.approx(2.0)  # 0.4 above max(best before 0.3, after 0.2)
    peaked = np.array([0.5, 0.3, 0.6, 0.2])
    assert gen.double_descent_peak(peaked, error) == pytest.approx(6.0)  # 0.6 above max(0.3, 0.2) = 0.3
    assert gen.double_descent_peak(np.array([0.5, 0.3, 0.2, 0.4]), error) == pytest.approx(-4.0)  # a late rise only
    assert np.isnan(gen.double_descent_peak(mean[:2], error[:2]))


@pytest.mark.parametrize("rise, interpolates, verdict", [(1.0, True, True), (3.0, True, False), (1.0, False, None)])
def test_no_double_descent_verdict(rise, interpolates, verdict):
    assert gen.no_double_descent(rise, interpolates) is verdict


@pytest.mark.parametrize("peak, interpolates, verdict", [(3.0, True, True), (1.0, True, False), (3.0, False, None),
                                                         (np.nan, True, None)])
def test_has_double_descent_verdict(peak, interpolates, verdict):
    assert gen.has_double_descent(peak, interpolates) is verdict


def test_double_descent_reads_the_error_curves():
    n = 4
    errors = {("real", "train"): np.array([[0.2] * n, [0.0] * n, [0.0] * n]),
              ("real", "test"): np.array([[0.4, 0.42, 0.38, 0.4], [0.6, 0.62, 0.58, 0.6], [0.3, 0.32, 0.28, 0.3]]),
              ("binary", "test"): np.array([[0.5, 0.52, 0.48, 0.5], [0.4, 0.42, 0.38, 0.4], [0.3, 0.32, 0.28, 0.3]]),
              ("binary", "train"): np.zeros((3, n))}
    found = gen.double_descent([1, 2, 4], errors)
    assert found.interpolating_widths == [2, 4] and found.interpolates
    se = errors["real", "test"][1].std(ddof=1) / 2
    assert found.peak == pytest.approx((0.6 - 0.4) / se, rel=1e-12)
    assert found.rise < 0  # the binary error only falls


def test_trained_accuracies_and_error_curves_on_a_tiny_task(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 5, generator=g)
    y = (x @ torch.randn(5, 10, generator=g)).argmax(1)
    task = SimpleNamespace(x_train=x[:250], y_train=y[:250], x_test=x[250:], y_test=y[250:])
    depth = gen.deep_against_shallow(task, 5, [2, 4], 200, 1, 3, 0.3, seed=0)
    assert depth.deep.shape == (2, 3) and depth.shallow.shape == (3,)
    assert np.all((0 <= depth.deep) & (depth.deep <= 1))
    errors = gen.error_curves(task, 5, [2], 100, 1, 3, 50, {"binary": 0.3, "real": 0.01}, seed=0)
    assert set(errors) == {("binary", "train"), ("binary", "test"), ("real", "train"), ("real", "test")}
    accuracy = gen.network_accuracies(task, gen.deep_widths(5, 2), 100, 1, 3, 0, lr=0.3, batch_size=50)
    assert np.allclose(errors["binary", "test"][0], 1 - accuracy)
