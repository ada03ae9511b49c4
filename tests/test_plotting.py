"""Tests for adaptsym.plotting: the figure helpers draw the numbers they are given."""

import numpy as np
from matplotlib.figure import Figure

from adaptsym.plotting import reconstruction_scatter


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
