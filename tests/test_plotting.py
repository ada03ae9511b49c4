"""Tests for adaptsym.plotting: the figure helpers draw the numbers they are given."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
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
