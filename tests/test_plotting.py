"""Tests for adaptsym.plotting: the figure helpers draw the numbers they are given."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from adaptsym.plotting import panels, reconstruction_scatter, ridgelines  # noqa: E402


def test_reconstruction_scatter_plots_connected_correlations_and_magnetisations():
    m = np.array([0.2, -0.4, 0.0])
    C = np.array([[1.0, 0.1, 0.3], [0.1, 1.0, -0.2], [0.3, -0.2, 1.0]])
    m_model, C_model = 0.5 * m, 0.5 * C
    ax = Figure().subplots()
    reconstruction_scatter(ax, (m, C), (m_model, C_model), "model", "title")
    pairs, spins = (collection.get_offsets() for collection in ax.collections)
    np.testing.assert_allclose(pairs[:, 0], [0.1 + 0.08, 0.3, -0.2])  # C_ij - m_i m_j for i < j
    np.testing.assert_allclose(pairs[:, 1], [0.05 + 0.02, 0.15, -0.1])
    np.testing.assert_allclose(spins, np.column_stack([m, m_model]))
    identity = ax.lines[0].get_xydata()
    np.testing.assert_array_equal(identity[:, 0], identity[:, 1])
    assert ax.get_ylabel() == "model" and ax.get_title() == "title"


def test_ridgelines_draw_one_row_per_density_first_on_top_at_a_common_height():
    fig, (ax,) = panels(1)
    grid = np.linspace(-3, 3, 61)
    densities = [np.exp(-grid ** 2), 5 * np.exp(-(grid - 1) ** 2), np.exp(-(grid + 1) ** 2 / 4)]
    ridgelines(ax, grid, densities, ["epoch 0", "epoch 10", "epoch 20"], overlap=1.5)
    curves = [line for line in ax.lines if len(line.get_xdata()) == len(grid)]
    assert len(curves) == 3 and len(ax.collections) == 3
    bases = [round(float(c.get_ydata().min())) for c in curves]
    assert bases == [2, 1, 0]  # the first label at the top
    np.testing.assert_allclose([c.get_ydata().max() - b for c, b in zip(curves, bases)], 1.5, atol=1e-12)
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.lines)
    assert [t.get_text() for t in ax.texts] == ["epoch 0", "epoch 10", "epoch 20"]
    plt.close(fig)


# Chapters 1-3: each figure draws the numbers of the dataclass it is given.

def test_depth_growth_figure_draws_one_line_per_count():
    from adaptsym.plotting import depth_growth_figure

    fig = depth_growth_figure([1, 2, 3], {"circuits": [3, 9, 27], "weights": [3, 12, 21]}, ylabel="count", title="t")
    (ax,) = fig.axes
    assert [list(line.get_ydata()) for line in ax.lines] == [[3, 9, 27], [3, 12, 21]]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["circuits", "weights"]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "count"
    plt.close(fig)


def test_chapter_one_figures_draw_the_multipliers_the_laws_and_one_curve_per_gate_layer():
    from adaptsym import umwelt
    from adaptsym.plotting import gate_law_figure, marginal_figure, maxent_figure

    found = umwelt.enclosed_maxent(np.random.default_rng(0).normal(size=(5, 2)), 3)
    fig = maxent_figure(found)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xydata(),
                                  np.column_stack([found.teacher_multipliers, found.solution.multipliers]))
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_xydata(),
                                  np.column_stack([found.solution.law.ravel(), found.primal.law.ravel()]))
    assert fig.axes[1].get_xscale() == fig.axes[1].get_yscale() == "log"
    plt.close(fig)

    tv = np.array([[0.5, 0.9], [0.1, 0.0]])
    fig = gate_law_figure(umwelt.GateLawConvergence((1.0, 0.1), {"a": tv, "b": tv / 2}, {}))
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    np.testing.assert_array_equal(fig.axes[1].lines[1].get_ydata(), [0.45, 1e-300])  # 0 drawn at 1e-300
    plt.close(fig)
    by_input = np.stack([2 * tv, 2 * tv, np.full_like(tv, 0.75)], axis=1)  # (temperature, input, layer)
    comparison = umwelt.MarginalComparison((1.0, 0.1), tv, by_input.mean(axis=1), by_input, np.array([2, 2, 0]),
                                           (2, 2))
    fig = marginal_figure(comparison, title="widths")
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [0.5, 0.1])
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), [(1.8 + 1.8 + 0.75) / 3, 0.25])
    np.testing.assert_array_equal(fig.axes[2].lines[0].get_ydata(), [1.0, 0.2])  # the two untied inputs
    assert fig.axes[0].get_title() == "widths" and len(fig.axes[1].lines) == 2
    assert fig.axes[2].get_title() == "inputs without a tie (66.7%)"
    plt.close(fig)


def test_tied_cost_figure_draws_kl_information_and_residual_per_width():
    from adaptsym import umwelt
    from adaptsym.plotting import tied_cost_figure

    kl = np.array([[0.0, 0.2, 0.3], [0.0, 0.1, 0.05]])
    full = np.array([[0.4, 0.45, 0.5], [0.3, 0.35, 0.4]])
    residual = np.array([[1e-20, 0.1, 0.2], [1e-13, 0.05, 0.06]])
    cost = umwelt.TiedCost((2, 3), 3, full, full + kl, kl, residual, 0.0, 0.0, 0.0, np.zeros((2, 3)))
    fig = tied_cost_figure(cost)
    ax_kl, ax_residual = fig.axes
    np.testing.assert_array_equal(ax_kl.lines[2].get_xydata(), [[1, 0.0], [2, 0.1], [3, 0.05]])
    np.testing.assert_allclose(ax_kl.lines[1].get_ydata(), np.log(2) - full[0])  # dotted: ln 2 - H_full
    np.testing.assert_array_equal(ax_residual.lines[0].get_ydata(), [1e-17, 0.1, 0.2])  # floored for the log axis
    assert [t.get_text() for t in ax_kl.get_legend().get_texts()] == ["width 2", "width 3"]
    assert ax_residual.get_yscale() == "log"
    plt.close(fig)


def test_chapter_two_figures_draw_samples_errors_gaps_and_histories():
    from adaptsym import stochastic
    from adaptsym.plotting import (gradient_gap_figure, relu_convergence_figure, sampled_output_figure,
                                   temperature_training_figure)

    samples = stochastic.OutputSamples(np.array([0.5, -1.0]), {1.0: np.arange(10.0).reshape(5, 2)})
    fig = sampled_output_figure(samples, "trained")
    assert [ax.lines[0].get_xdata()[0] for ax in fig.axes] == [0.5, -1.0]  # the ReLU outputs
    assert sum(patch.get_height() for patch in fig.axes[0].patches) == 5 and fig.axes[1].get_title().endswith("trained")
    plt.close(fig)

    temperatures = np.array([1.0, 0.1])
    curve = stochastic.ConvergenceCurve(temperatures, np.array([2.0, 0.0]), np.array([1.0, 0.5]), 2.0)
    fig = relu_convergence_figure({"net": curve})
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [1.0, 1e-18])
    np.testing.assert_array_equal(fig.axes[0].lines[1].get_ydata(), [0.5, 0.25])
    plt.close(fig)
    fig = gradient_gap_figure(stochastic.GradientGaps(temperatures, {"a": np.array([0.3, 0.0])}, 4))
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [0.3, 1e-18])
    assert fig.axes[0].get_title() == "mean over 4 E-steps"
    plt.close(fig)

    history = [{"epoch": e, "train_loss": 1.0 / (e + 1), "test_loss": 1.0, "train_accuracy": 0.6,
                "test_accuracy": 0.7, "train_stochastic_loss": 2.0} for e in range(3)]
    fig = temperature_training_figure({0.0: history, 0.5: history})
    assert len(fig.axes[0].lines) == 2 + 3 and len(fig.axes[1].lines) == 2 * 2  # no stochastic loss at T = 0
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [1.0, 0.5, 1 / 3])
    plt.close(fig)


def test_chapter_three_figures_draw_the_circuit_and_the_loop():
    import torch

    from adaptsym.circuits import FeedbackLoop, circuit_assembly
    from adaptsym.models import relu_mlp
    from adaptsym.plotting import basis_circuit_figure, feedback_loop_figure

    model = relu_mlp([2, 2, 1], dtype=torch.float64, device="cpu")
    found = circuit_assembly(model, torch.tensor([1.0, -0.5], dtype=torch.float64), 1.0)
    fig = basis_circuit_figure(found)
    assert f"Ψ = {found.largest:.3f}" in fig.axes[0].get_title()
    assert fig.axes[0].texts[0].get_text() == f"assembly:\nT(x) = Σ Ψ = {found.output:.3f}"
    plt.close(fig)

    history = [{"epoch": e, "train_loss": 1.0 / (e + 1), "test_loss": 1.0} for e in range(3)]
    loop = FeedbackLoop([0, 2], history, [0.1, 0.4], [0.01, 0.02], [0.05, 0.1], [0.5, 0.6], [0.25, 0.25],
                        np.array([[0.1, -0.1]]))
    fig = feedback_loop_figure(loop)
    risk, shift, asymmetry, assembly = fig.axes
    np.testing.assert_array_equal(risk.lines[2].get_ydata(), [1.0, 1 / 3])
    assert len(shift.patches) == 1 and list(shift.patches[0].get_data().values) == [0.1, -0.1]
    assert list(asymmetry.lines[0].get_ydata()) == [0.05, 0.1]
    assert [list(line.get_ydata()) for line in assembly.lines[:2]] == [[0.1, 0.4], [0.5, 0.6]]
    plt.close(fig)


def test_fig_2_draws_the_perturbation_the_assembly_and_the_feedback_it_is_given():
    import torch

    from adaptsym.circuits import CircuitAssembly
    from adaptsym.plotting import basis_circuit_figure

    weights = [torch.tensor([[1.0, -2.0], [0.5, 1.0]]), torch.tensor([[3.0, -1.0], [1.0, 1.0]]),
               torch.tensor([[2.0, 1.0]])]
    gates = [torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0])]
    found = CircuitAssembly(weights, gates, torch.arange(8.0), (1, 0, 1), 0.25, -1.0, (2, 0, 1), -0.625, 1.5, 2)
    fig = basis_circuit_figure(found)
    ax = fig.axes[0]
    texts = "\n".join(text.get_text() for text in ax.texts)
    assert "highlighted basis circuit Ψ = 5.000" in ax.get_title()  # values[(1, 0, 1)] on a 2x2x2 grid
    assert "T(x) = Σ Ψ = 0.250" in texts and "label y = -1" in texts and "L′(yT) = -1" in texts
    assert "Ω = ∂Ψ/∂w = -0.625" in texts and "Σ Ω over 2 circuits = ∂T/∂w = 1.500" in texts
    assert f"∂L/∂w = L′(yT) · y · Σ Ω = {found.risk_gradient:.3f}" in texts and found.risk_gradient == 1.5
    curvy = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(curvy) == 1  # the perturbed weight w^2_{0 1}: layer 1 node 0 (y = -0.5) to layer 2 node 1 (y = 0.5)
    np.testing.assert_allclose([curvy[0].get_xdata()[[0, -1]], curvy[0].get_ydata()[[0, -1]]],
                               [[1.0, 2.0], [-0.5, 0.5]], atol=1e-12)
    assert sum(line.get_color() == "tab:green" for line in ax.lines) == 3  # the highlighted circuit's 3 edges
    plt.close(fig)


def test_cancellation_and_informational_perturbation_figures_draw_the_numbers_they_are_given():
    from adaptsym.circuits import CancellationScaling, InformationalPerturbations
    from adaptsym.plotting import cancellation_figure, informational_perturbation_figure

    log_open = np.log([[10.0, 100.0], [1e3, 1e4]])[:, :, None, None] + np.zeros((2, 2, 3, 2))
    scaling = CancellationScaling([2, 3], [4, 8], 0.5 * log_open, log_open, log_open - 1, np.full(log_open.shape, 2.0))
    fig = cancellation_figure(scaling)
    ax_open, ax_effective, ax_normal = fig.axes
    np.testing.assert_allclose(ax_open.lines[0].get_xdata(), [10.0, 100.0])
    np.testing.assert_allclose(ax_open.lines[0].get_ydata(), np.sqrt([10.0, 100.0]))
    np.testing.assert_allclose(ax_effective.lines[1].get_xdata(), np.exp(np.log([1e3, 1e4]) - 1))
    assert "fit α = 0.500 ± 0.000" in [t.get_text() for t in ax_open.get_legend().get_texts()]
    assert "mean square 4.00" in ax_normal.get_legend().get_texts()[0].get_text()
    plt.close(fig)

    found = InformationalPerturbations([0, 10], [1.2, 0.3], [0.6, 0.2], [np.array([0.5, 2.0]), np.array([3.0, 1.5])])
    fig = informational_perturbation_figure(found)
    ax_risk, ax_margin = fig.axes
    assert list(ax_risk.lines[0].get_ydata()) == [1.2, 0.3] and list(ax_risk.lines[1].get_ydata()) == [0.6, 0.2]
    assert list(ax_margin.lines[1].get_xdata()) == [1.5, 3.0] and list(ax_margin.lines[1].get_ydata()) == [0.5, 1.0]
    plt.close(fig)


def test_chapter_seven_figures_draw_the_numbers_they_are_given():
    from adaptsym import generalisation, plotting, weight_space

    deep, shallow = np.array([[0.5, 0.7], [0.8, 0.9]]), np.array([0.6, 0.6])
    fig = plotting.depth_figure(generalisation.depth_comparison([2, 30], deep, shallow))
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), deep.mean(1), rtol=0)
    assert list(fig.axes[0].lines[-1].get_ydata()) == [0.6, 0.6]  # the shallow net's line
    plt.close(fig)

    errors = {(kind, split): np.full((2, 3), value) for kind, value in (("binary", 0.3), ("real", 0.1))
              for split in ("train", "test")}
    fig = plotting.double_descent_figure([10, 100], errors, 50)
    assert len(fig.axes[0].containers) == 4 and list(fig.axes[0].lines[-1].get_xdata()) == [50, 50]
    plt.close(fig)

    test = weight_space.ThreePointTest(np.array([0.1, 0.2]), {"BP": np.array([0.1, 0.25])}, {"BP": 0.5}, {}, 0.5)
    fig = plotting.three_point_figure({"LB": test})
    offsets = fig.axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(offsets, [[0.1, 0.1], [0.2, 0.25]])
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "BP: 50% predicted"
    plt.close(fig)

    side = weight_space.EnergySide("polarity 1", np.array([-1.0, -2.0]), np.array([0.8, 0.9]), -1.25)
    fig = plotting.energy_accuracy_figure({"RB": [side]}, {"RB": "Fig. 3c, under, RB"})
    np.testing.assert_array_equal(fig.axes[0].collections[0].get_offsets(), [[-1.0, 0.8], [-2.0, 0.9]])
    assert list(fig.axes[0].lines[0].get_xdata()) == [-1.25, -1.25]
    assert fig.axes[0].get_title() == "Fig. 3c, under, RB"
    plt.close(fig)


def test_published_data_figure_draws_the_modes_the_projections_and_the_fit():
    from adaptsym import plotting
    from adaptsym.zou_huang import PublishedRegion

    m, C = np.zeros(2), np.eye(2)
    region = PublishedRegion("under-para", "LB", (m, C), (m, C), (4.0, np.array([1.0, 0.0])), 2.0, 0.05, 0.06,
                             True, -1.0)
    fig = plotting.published_data_figure({("under-para", "LB"): region}, np.array([-2.0, 2.0]), ("under-para", "LB"))
    modes, projection, fit = fig.axes
    assert [p.get_height() for p in modes.patches] == [2.0]  # λ₁ / noise edge
    assert modes.get_xticklabels()[0].get_text() == "under LB"
    assert projection.patches and "RMSE 0.050" in fit.get_title()
    plt.close(fig)


def test_chapter_two_exact_figures_draw_risks_bounds_free_energies_and_floors():
    import pytest

    from adaptsym import stochastic
    from adaptsym.plotting import (entropy_floor_figure, free_energy_figure, likelihood_bounds_figure,
                                   temperature_risk_figure)

    history = [{"train_loss": 1.0}]
    training = stochastic.TemperatureTraining({0.0: [history + [{"train_loss": r}] for r in (0.1, 0.12)],
                                               0.5: [history + [{"train_loss": r}] for r in (0.2, 0.24)]})
    fig = temperature_risk_figure(training)
    ax = fig.axes[0]
    assert ax.lines[0].get_ydata()[0] == pytest.approx(0.11)  # the deterministic mean
    np.testing.assert_array_equal(ax.lines[1].get_xydata(), [[0.5, 0.2], [0.5, 0.24]])  # one dot per seed
    plt.close(fig)

    t = np.array([1.0, 0.1])
    log_likelihood = np.array([[-0.5, -0.7], [-0.4, -0.6]])
    bounds = stochastic.LikelihoodBounds(t, log_likelihood, log_likelihood - 0.1, log_likelihood - 1.0,
                                         np.array([-0.45, -0.8]), np.array([[True, False], [True, True]]))
    trace = stochastic.LikelihoodTrace("logistic", np.array([0, 10]), t, np.array([[-1.0, -1.1], [-0.6, -0.5]]),
                                       np.array([-1.0, -0.5]), bounds)
    reading = stochastic.EMReading({"logistic": bounds}, {"logistic": trace})
    fig = likelihood_bounds_figure(reading)
    ax_mean, ax_above, ax_map, ax_train = fig.axes
    np.testing.assert_allclose(ax_mean.lines[1].get_ydata(), [-0.1, -0.1])  # prior ELBO - log mu_L
    np.testing.assert_allclose(ax_mean.lines[3].get_ydata(), [-0.025, -0.125])  # backprop objective - log mu_L
    np.testing.assert_allclose(ax_mean.lines[4].get_ydata(), [0.05, -0.05])  # its largest excess
    np.testing.assert_allclose(ax_above.lines[0].get_ydata(), [0.5, 0.0])  # -0.45 > -0.5; -0.45 < -0.4
    np.testing.assert_allclose(ax_map.lines[0].get_ydata(), [0.5, 1.0])
    np.testing.assert_array_equal(ax_train.lines[1].get_ydata(), [-1.1, -0.5])
    plt.close(fig)

    curves = stochastic.gate_free_energy_curves(0.5, [1.0, 0.1], n_grid=101)
    network = stochastic.NetworkFreeEnergy(t, np.array([-1.0, -2.0]), np.array([1.0, 0.1]), np.array([-2.0, -2.01]),
                                           np.array([-2.5, -2.6]), -2.0, 0.5)
    fig = free_energy_figure(curves, network)
    ax_gate, ax_net = fig.axes
    assert ax_gate.lines[1].get_xdata()[0] == pytest.approx(curves.minimiser(1.0))  # the minimum marked
    np.testing.assert_array_equal(ax_net.lines[0].get_ydata(), [-2.0, -2.01])
    np.testing.assert_allclose(ax_net.lines[2].get_ydata(), [-1.0, -0.01])  # -T S
    plt.close(fig)

    risk = stochastic.RiskTrace(10, np.array([0, 5]), np.array([0.7, 0.1]), np.array([0.9, 1.5]),
                                np.array([0.4, 1.0]), 0.5, 0.0)
    fig = entropy_floor_figure(stochastic.EntropyFloor({10: risk}))
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [0.9, 1.5])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [0.7, 0.1])
    assert list(ax.lines[2].get_ydata()) == [0.5, 0.5]
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), [0.4, 1.0])
    plt.close(fig)


def test_freezing_and_permutation_figures_draw_the_numbers_they_are_given():
    from adaptsym import plotting
    from adaptsym.freezing import FreezingExperiment, TrainingRun
    from adaptsym.landscape import Landscape

    curves = np.array([[0.5, 0.7], [0.7, 0.9]])
    normal = TrainingRun(curves, np.array([[2.0, 1.0], [2.0, 1.0]]), np.array([0.8, 0.9]), 3.0, 3.0)
    frozen = TrainingRun(curves - 0.1, np.array([[3.0, 2.0], [3.0, 2.0]]), np.array([0.7, 0.8]), 2.0, 2.0)
    fig = plotting.freezing_figure(FreezingExperiment((4, 3, 3, 2), 10, normal, frozen, 0.5))
    ax_acc, ax_loss = fig.axes
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), [0.6, 0.8])
    np.testing.assert_allclose(ax_loss.lines[-1].get_ydata(), [3.0, 2.0])
    assert list(ax_acc.lines[-1].get_ydata()) == [0.35, 0.35]  # the target: 0.5 x the lower final mean 0.7
    assert "0.850 ± 0.050" in ax_acc.get_legend().get_texts()[0].get_text()
    plt.close(fig)

    def found(d, s):
        d, s = np.array(d), np.array(s)
        return Landscape(d, d, s, 1 - 2 * d, s, s, s, np.ones_like(d, dtype=bool), np.ones_like(d))

    profiles = {(0.0, 0): found([0.3, 0.1], [0.5, 0.3]), (1.0, 0): found([0.1, 0.4], [0.3, 0.6])}
    fig = plotting.permutation_profiles_figure(profiles)
    (ax,) = fig.axes
    assert list(ax.lines[0].get_xdata()) == [0.1, 0.3] and list(ax.lines[0].get_ydata()) == [0.3, 0.5]
    np.testing.assert_allclose(ax.lines[2].get_ydata(), profiles[1.0, 0].bound)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ρ = 0", "ρ = 1", "bound"]
    plt.close(fig)


def test_chapter_eight_figures_draw_the_numbers_they_are_given():
    from adaptsym import plotting
    from adaptsym.landscape import Dynamics, Landscape, Sweep

    def found(x, d, s, converged=None, beta=None):
        x, d, s = np.array(x, float), np.array(d, float), np.array(s, float)
        ok = np.ones_like(x, dtype=bool) if converged is None else np.array(converged)
        return Landscape(x, d, s, 1 - 2 * d, -s, s, 2 * s, ok, np.ones_like(x) if beta is None else np.array(beta))

    forward = found([-1, 0, 1], [0.9, 0.5, 0.1], [0.3, 0.6, 0.3], converged=[True, False, True])
    backward = found([1, 0, -1], [0.1, 0.2, 0.9], [0.3, 0.5, 0.3])
    fig = plotting.landscape_figure({"shallow": {"FULL low": Sweep(forward, backward)},
                                     "under": {"ITR low": Sweep(backward, forward), "RB low": Sweep(forward, backward)}})
    assert len(fig.axes) == 4  # a row of two panels per entry
    ax_d, ax_s = fig.axes[:2]
    np.testing.assert_array_equal(ax_d.lines[0].get_ydata(), [0.9, 0.5, 0.1])  # forward d(x), solid
    np.testing.assert_array_equal(ax_d.lines[1].get_xydata(), [[0.0, 0.5]])  # the unconverged point crossed out
    assert ax_d.lines[0].get_linestyle() == "-" and ax_d.lines[2].get_linestyle() == "--"
    np.testing.assert_array_equal(ax_s.lines[0].get_xydata(), [[0.9, 0.3], [0.1, 0.3]])  # converged points only
    assert ax_s.lines[0].get_linestyle() == "None"  # dots: a jump in d leaves a gap
    bound = ax_s.lines[-1]
    assert bound.get_label() == "bound" and bound.get_ydata()[100] == np.log(2)  # d = 0.5
    assert [t.get_text() for t in fig.axes[2].get_legend().get_texts()] == ["ITR low", "RB low"]
    plt.close(fig)

    iso = found([-1, 1], [0.6, 0.2], [0.4, 0.1], beta=[1.5, 2.0])
    fig = plotting.iso_energy_figure({"free": forward, "iso": iso}, "ITR")
    ax_s, ax_e, ax_b = fig.axes
    np.testing.assert_array_equal(ax_s.lines[1].get_ydata(), [0.4, 0.1])
    np.testing.assert_array_equal(ax_e.lines[1].get_ydata(), [0.8, 0.2])  # e without the coupling term
    assert len(ax_b.lines) == 1 and list(ax_b.lines[0].get_ydata()) == [1.5, 2.0]  # β only for the iso curve
    plt.close(fig)

    fig = plotting.tap_free_energy_figure({"deep": np.array([-1.0, -1.0]), "shallow": np.array([-1.0, -0.5])})
    assert sum(p.get_height() for p in fig.axes[0].patches) == 2  # one state, no error for a zero range
    assert sum(p.get_height() > 0 for p in fig.axes[1].patches) == 2
    plt.close(fig)

    run = Dynamics(np.array([0, 10]), np.array([-1.0, -0.5]), np.array([1.0, 0.2]), np.array([0.7, 0.2]))
    fig = plotting.dynamics_figure({"under": run}, chance=0.1)
    ax_e, ax_a = fig.axes
    np.testing.assert_array_equal(ax_e.lines[0].get_ydata(), [-1.0, -0.5])
    np.testing.assert_array_equal(ax_a.lines[0].get_ydata(), [0.7, 0.2])
    assert list(ax_a.lines[-1].get_ydata()) == [0.1, 0.1]
    plt.close(fig)
