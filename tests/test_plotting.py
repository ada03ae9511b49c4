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


def test_chapter_one_figures_draw_the_constraints_and_one_curve_per_gate_layer():
    from adaptsym import umwelt
    from adaptsym.plotting import gate_law_figure, marginal_figure, maxent_figure

    found = umwelt.enclosed_maxent(np.random.default_rng(0).normal(size=(5, 2)), 3)
    fig = maxent_figure(found)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xydata(), np.column_stack([found.tau, found.achieved]))
    plt.close(fig)

    tv = np.array([[0.5, 0.9], [0.1, 0.0]])
    fig = gate_law_figure(umwelt.GateLawConvergence((1.0, 0.1), {"a": tv, "b": tv / 2}, {}))
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    np.testing.assert_array_equal(fig.axes[1].lines[1].get_ydata(), [0.45, 1e-300])  # 0 drawn at 1e-300
    plt.close(fig)
    fig = marginal_figure(umwelt.MarginalComparison((1.0, 0.1), tv, 2 * tv), title="widths")
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [0.5, 0.1])
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), [1.0, 0.2])
    assert fig.axes[0].get_title() == "widths" and len(fig.axes[1].lines) == 2
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
    found = circuit_assembly(model, torch.tensor([1.0, -0.5], dtype=torch.float64))
    fig = basis_circuit_figure(found)
    assert f"Ψ = {found.largest:.3f}" in fig.axes[0].get_title()
    assert fig.axes[0].texts[0].get_text() == f"T(x) = Σ Ψ = {found.output:.3f}"
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
