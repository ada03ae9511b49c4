"""Complexity matching (Li §III): the width x data grid, its phases, the boundary and the claims read from it."""

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import adaptsym.train as train_module
from adaptsym import complexity, plotting

TASK = dict(name="fashion-mnist", positive=(0, 2, 4, 6), n_test=20, seed=0)


def fake_run(risks, grad_norms, lr=0.1, input_dim=784):
    """A finished run's stand-in: per-epoch risk and ||grad R||^2, epoch 0 first (lr None there, as train_run)."""
    history = [dict(epoch=e, lr=None if e == 0 else lr, train_loss=r, train_accuracy=1 - r, train_grad_norm_sq=g)
               for e, (r, g) in enumerate(zip(risks, grad_norms))]
    return SimpleNamespace(history=history, config=SimpleNamespace(widths=(input_dim, 4, 1)))


def fake_grid(final_risks, falling=None, grad_norm=1e-3):
    """A grid whose cell (i, j) ends at ``final_risks[i][j]``; ``falling`` marks cells whose risk halves at the end."""
    rows = []
    for i, row in enumerate(final_risks):
        cells = []
        for j, risk in enumerate(row):
            drop = 2 * risk if falling is not None and falling[i][j] else risk
            risks = [1.0] * 10 + [drop] * 9 + [risk]
            cells.append(fake_run(risks, [1.0] * 19 + [0.0 if risk == 0 else grad_norm]))
        rows.append(cells)
    return complexity.grid_from_runs([2, 8, 32][: len(rows)], [100, 1000][: len(rows[0])], 3, rows, TASK)


def test_layer_widths_and_weight_count():
    assert complexity.layer_widths(784, 16, 3) == (784, 16, 16, 1)
    assert complexity.weight_count(784, 16, 3) == 784 * 16 + 16 * 16 + 16
    with pytest.raises(ValueError, match="depth"):
        complexity.layer_widths(784, 16, 1)


def test_risk_drop_is_the_relative_fall_over_the_last_tenth():
    assert complexity.risk_drop([1.0] * 11 + [0.5] * 9 + [0.25]) == pytest.approx(0.5)  # 20 epochs: last 2
    assert complexity.risk_drop([1.0, 0.0, 0.0]) == 0.0


def test_grid_from_runs_reads_final_state_order_parameter_and_phase():
    grid = fake_grid([[0.5, 0.6], [0.0, 0.1], [0.0, 0.0]])
    assert grid.phase().tolist() == [[False, False], [True, False], [True, True]]
    assert grid.final_order_parameter[0, 0] == pytest.approx(0.1 * 1e-3)  # lr x ||grad R||^2
    assert grid.final_order_parameter[1, 0] == 0
    assert grid.first_zero_epoch[1, 0] == 10 and grid.first_zero_epoch[0, 0] is None
    assert grid.weights_per_example()[0, 1] == pytest.approx((784 * 2 + 2 * 2 + 2) / 1000)
    assert grid.boundary_pair() == ((32, 1000), (8, 1000))  # neighbours; ties go to the widest, most data
    assert complexity.phase_monotonicity_violations(grid) == 0


def test_monotonicity_violations_count_cells_that_contradict_complexity_matching():
    grid = fake_grid([[0.0, 0.5], [0.4, 0.0], [0.0, 0.0]])  # width 2 reaches zero where width 8 does not
    assert complexity.phase_monotonicity_violations(grid) == 2  # (2,100) over (8,100); (8,1000) right of (8,100)


def cell(grid, width, n_train, plastic):
    return complexity.BoundaryCell(width, n_train, plastic, grid.run(width, n_train).history, None, None, None)


def claims(grid, cells):
    return {c["name"].split(" (")[0]: c for c in complexity.complexity_claims(grid, cells)}


def test_complexity_claims_follow_their_criteria():
    grid = fake_grid([[0.5, 0.6], [0.0, 0.1], [0.0, 0.0]], grad_norm=0.0)
    found = claims(grid, [cell(grid, 32, 1000, True), cell(grid, 8, 1000, False)])
    matching = found["gradient descent reaches zero risk when the network is large enough for the data"]
    assert matching["agrees"] is True and matching["measured"] == 3
    assert found["in the frustration phase the order parameter is zero"]["agrees"] is True
    assert found["in the frustration phase the Hessian is likely positive semidefinite"]["agrees"] is True  # H = 0
    moving = fake_grid([[0.5, 0.6], [0.0, 0.1], [0.0, 0.0]], grad_norm=1.0)  # η||∇R||²/R = 0.1/0.1 = 1
    assert claims(moving, [cell(moving, 8, 1000, False)])[
        "in the frustration phase the order parameter is zero"]["agrees"] is False
    contradicted = fake_grid([[0.0, 0.5], [0.4, 0.0], [0.0, 0.0]])
    assert claims(contradicted, [])["gradient descent reaches zero risk when the network is large enough for the "
                                    "data"]["agrees"] is False


def test_claims_are_inconclusive_while_the_risk_still_falls_or_without_a_frustrated_cell():
    falling = fake_grid([[0.5, 0.6], [0.0, 0.1], [0.0, 0.0]], falling=[[False, True], [False, True], [False, False]])
    found = claims(falling, [cell(falling, 8, 1000, False)])
    assert found["gradient descent reaches zero risk when the network is large enough for the data"]["agrees"] is None
    assert found["in the frustration phase the order parameter is zero"]["agrees"] is None
    plastic = fake_grid([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert claims(plastic, [])["in the frustration phase the order parameter is zero"]["agrees"] is None


def test_phase_diagram_annotates_every_cell():
    grid = fake_grid([[0.5, 0.6], [0.0, 0.1], [0.0, 0.0]], falling=[[False, True], [False, False], [False, False]])
    fig, ax = plt.subplots()
    plotting.phase_diagram(ax, grid)
    labels = sorted(text.get_text() for text in ax.texts)
    assert labels == sorted(["0.5", "0.6↓", "0", "0.1", "0", "0"])
    plt.close(fig)


def test_a_grid_is_trained_once_and_its_boundary_and_stationary_cells_are_measured(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path))
    settings = dict(depth=3, epochs=25, lr=0.05, batch_size=10, n_test=20, device="cpu", progress=False)
    grid = complexity.complexity_grid([1, 32], [20, 80], **settings)
    assert all(run.complete for row in grid.runs for run in row)
    assert grid.input_dim == 784 and grid.task["positive"] == (0, 2, 4, 6)
    x, y = grid.training_data(20)
    assert x.shape == (20, 784) and set(y.tolist()) <= {-1.0, 1.0}

    def no_training(*args, **kwargs):
        raise AssertionError("a cached grid cell was trained again")

    monkeypatch.setattr(train_module._Training, "epoch", no_training)
    again = complexity.complexity_grid([1, 32], [20, 80], **settings)
    assert np.array_equal(again.final_risk, grid.final_risk)

    cells = complexity.boundary_cells(grid, steps=5, probes=2)
    assert 1 <= len(cells) <= 2
    for found in cells:
        i, j = grid.widths.index(found.width), grid.n_trains.index(found.n_train)
        assert found.plastic == bool(grid.phase()[i, j])
        assert (found.spectrum is None) == found.plastic  # zero risk: no violator, H = 0
        assert torch.allclose(found.weights.sum(1), torch.ones(2, dtype=found.weights.dtype))
    for stuck in complexity.stationary_frustrated_cells(grid):
        assert stuck["risk"] > 0 and 0 <= stuck["closed"] <= stuck["violators"]
        assert grid.final_order_parameter[grid.widths.index(stuck["width"]), grid.n_trains.index(stuck["n_train"])] == 0
