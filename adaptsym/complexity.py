"""Complexity matching: the plasticity / frustration phase diagram over network size and data size (Li §II.6.5, §III).

Li (§II.6.5) says gradient descent follows "benign pathways" to zero risk in the *plasticity phase*, which "does not
automatically hold for any large DNNs processing any datasets", and (§III, supp. C C) names the other phase the
*frustration phase*: a paucity of circuit symmetries, "not ... trapped in local minima ..., but simply ... of
nonzero risk", with the order parameter ||grad R||^2 at zero.  §III sums this up as complexity matching: "when
the potential complexity of a system is larger than the complexity of a dataset", training reaches zero
surrogate risk.

:func:`complexity_grid` measures this on a grid: bias-free ReLU MLPs of one depth and several widths, trained by
plain SGD on balanced binary Fashion-MNIST subsets of several sizes, each cell a cached run of
:func:`adaptsym.train.train_run`.  A cell is in the plasticity phase when its final training hinge risk
(Li eq. 12) is zero, frustrated otherwise; :class:`ComplexityGrid` holds the measurements and
:func:`adaptsym.plotting.phase_diagram` draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from adaptsym.data import load_task
from adaptsym.models import count_parameters
from adaptsym.order import first_zero_epoch, order_parameter
from adaptsym.progress import progress_bar
from adaptsym.train import Run, TrainConfig, train_run

FALLING_WINDOW = 0.1
"""The last fraction of the epoch budget over which a run's risk is checked for still falling."""

FALLING_DROP = 0.05
"""A run is still falling when its risk dropped by more than this fraction over the last ``FALLING_WINDOW``."""



def layer_widths(input_dim: int, width: int, depth: int) -> tuple[int, ...]:
    """``(input_dim, width, ..., width, 1)``: ``depth`` weight layers with ``width`` hidden units each (Li §II.7)."""
    if depth < 2 or width < 1 or input_dim < 1:
        raise ValueError(f"need depth >= 2 weight layers, width >= 1 and input_dim >= 1; "
                         f"got depth={depth}, width={width}, input_dim={input_dim}")
    return (input_dim, *[width] * (depth - 1), 1)


def weight_count(input_dim: int, width: int, depth: int) -> int:
    """Number of weights N = sum_l n_{l-1} n_l of the bias-free MLP of :func:`layer_widths` (Li §II.6.5)."""
    widths = layer_widths(input_dim, width, depth)
    return sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def risk_drop(risk: Sequence[float], window: float = FALLING_WINDOW) -> float:
    """Relative fall 1 - R(E) / R(E - k) of the risk over its last k = ceil(window * E) epochs (0 if R(E - k) = 0).

    ``risk`` is the per-epoch training risk, epoch 0 (initialisation) first, E = len(risk) - 1.
    """
    epochs = len(risk) - 1
    if epochs < 1:
        raise ValueError("the risk history needs at least one trained epoch")
    before = risk[epochs - max(1, math.ceil(window * epochs))]
    return 0.0 if before <= 0 else 1.0 - risk[-1] / before


@dataclass(frozen=True)
class ComplexityGrid:
    """Final state of every (width, n_train) cell of :func:`complexity_grid` (Li §II.6.5, §III).

    Arrays have shape (len(widths), len(n_trains)), row i for ``widths[i]``, column j for ``n_trains[j]``:
    ``final_risk`` and ``final_accuracy`` on the training set at the last epoch, ``final_order_parameter``
    lr ||grad R||^2 there (Li eq. 15, Fig. 4b), ``first_zero_epoch`` the first epoch with zero risk (None if
    never; object array), ``risk_drop`` the relative fall of the risk over the last 10% of epochs
    (:func:`risk_drop`) and ``still_falling`` whether it exceeds 5%: a frustrated cell that is still falling
    may only be short of epochs.  ``runs[i][j]`` is the cell's :class:`~adaptsym.train.Run` (its final network:
    ``runs[i][j].model()``).  ``depth`` and ``input_dim`` give the architecture, ``task`` the keyword arguments of
    :func:`adaptsym.data.load_task` (but ``n_train``) that gave the training sets.
    """

    widths: tuple[int, ...]
    n_trains: tuple[int, ...]
    depth: int
    input_dim: int
    task: dict
    final_risk: np.ndarray
    final_accuracy: np.ndarray
    final_order_parameter: np.ndarray
    first_zero_epoch: np.ndarray
    risk_drop: np.ndarray
    still_falling: np.ndarray
    runs: Sequence[Sequence[Run]]

    def phase(self, zero: float = 0.0) -> np.ndarray:
        """True where the final risk is at most ``zero``: the plasticity phase; False: the frustration phase."""
        return self.final_risk <= zero

    def weights_per_example(self) -> np.ndarray:
        """Number of weights N (Li §II.6.5) over n_train per cell: the network-to-data complexity ratio (§III)."""
        weights = np.array([weight_count(self.input_dim, w, self.depth) for w in self.widths], dtype=float)
        return weights[:, None] / np.array(self.n_trains, dtype=float)[None, :]

    def run(self, width: int, n_train: int) -> Run:
        """The run of cell (``width``, ``n_train``)."""
        if width not in self.widths or n_train not in self.n_trains:
            raise ValueError(f"no cell ({width}, {n_train}); widths: {self.widths}, n_trains: {self.n_trains}")
        return self.runs[self.widths.index(width)][self.n_trains.index(n_train)]

    def training_data(self, n_train: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``: the ``n_train`` training examples of the cells in column ``n_train`` (CPU)."""
        task = load_task(n_train=n_train, device="cpu", **self.task)
        return task.x_train, task.y_train

    def boundary_pair(self, zero: float = 0.0) -> tuple[tuple[int, int], tuple[int, int]]:
        """((width, n_train) of a plasticity cell, (width, n_train) of a frustrated cell) across the boundary.

        The pair is the plasticity cell and the frustrated cell nearest to each other on the grid: least
        |delta i| + |delta j| in (width index, n_train index), so grid neighbours when the phases touch.  Ties go
        to the pair with the largest sum of width indices, then of n_train indices: the largest networks, for
        which Li's theory is stated, on the most data.  ValueError if either phase is empty.
        """
        plastic = self.phase(zero)
        cells = {side: np.argwhere(plastic == side) for side in (True, False)}
        if not len(cells[True]) or not len(cells[False]):
            found = "plasticity" if len(cells[True]) else "frustration"
            raise ValueError(f"every cell is in the {found} phase: no boundary on this grid; add narrower widths "
                             "or larger n_trains (or more epochs) to see both phases")
        p, f = min(((p, f) for p in cells[True] for f in cells[False]),
                   key=lambda pf: (np.abs(pf[0] - pf[1]).sum(), -(pf[0][0] + pf[1][0]), -(pf[0][1] + pf[1][1])))
        return ((self.widths[p[0]], self.n_trains[p[1]]), (self.widths[f[0]], self.n_trains[f[1]]))


def complexity_grid(widths: Sequence[int], n_trains: Sequence[int], *, depth: int, dataset: str = "fashion-mnist",
                    positive: Sequence[int] = (0, 2, 4, 6), epochs: int, lr: float, batch_size: int | None,
                    seed: int = 0, n_test: int = 1000, device: str | torch.device = "auto",
                    progress: bool = True) -> ComplexityGrid:
    """Train every (width, n_train) cell "to convergence" and collect its final state (Li §II.6.5, §III).

    Each cell is a bias-free ReLU MLP on flattened pixels with ``depth`` weight layers of ``width`` hidden units
    (:func:`layer_widths`), drawn with ``seed``, trained on the balanced binary task ``positive`` vs the rest of
    ``dataset`` with ``n_train`` training examples (:func:`adaptsym.data.load_task` with ``seed``: the subsets of
    one seed are nested) by plain SGD at the constant step ``lr``, minibatches of ``batch_size``, as the
    reference run (:mod:`adaptsym.reference`), recording ||grad R||^2 every epoch.  ``n_test`` test examples
    are evaluated each epoch too (in each run's history).

    "To convergence" means a fixed budget of ``epochs``: a run that reaches zero risk stays there (the hinge risk
    and its gradient vanish together, so SGD stops moving), and a run that has not is reported with the relative
    fall of its risk over the last 10% of the budget (``risk_drop``, ``still_falling``), so that a frustrated cell
    whose risk has levelled off can be told from one that was not trained long enough.

    Runs go through the run cache: a second call trains nothing, and an interrupted grid resumes.  One progress
    bar runs over the cells.
    """
    widths, n_trains = tuple(int(w) for w in widths), tuple(int(n) for n in n_trains)
    if not widths or not n_trains or min(widths) < 1 or min(n_trains) < 2:
        raise ValueError(f"widths and n_trains must be non-empty lists of positive sizes (n_train >= 2); "
                         f"got widths={widths}, n_trains={n_trains}")
    runs: list[list[Run]] = [[] for _ in widths]
    bar = progress_bar(total=len(widths) * len(n_trains), desc="complexity grid", disable=not progress)
    settings = dict(name=dataset, positive=tuple(positive), n_test=n_test, seed=seed)
    for n_train in n_trains:
        task = load_task(n_train=n_train, device="cpu", **settings)
        for width, row in zip(widths, runs):
            bar.set_postfix(width=width, n_train=n_train)
            config = TrainConfig(model="mlp", widths=layer_widths(task.x_train.shape[1], width, depth),
                                 optimizer="sgd", lr=lr, batch_size=batch_size, epochs=epochs, seed=seed,
                                 snapshot_epochs=(0,), data_key=task.description, record_gradient_norm=True)
            row.append(train_run(config, task.x_train, task.y_train, task.x_test, task.y_test, device=device,
                                 progress=False))
            bar.update()
    bar.close()
    return grid_from_runs(widths, n_trains, depth, runs, settings)


def grid_from_runs(widths: Sequence[int], n_trains: Sequence[int], depth: int, runs: Sequence[Sequence[Run]],
                   task: dict) -> ComplexityGrid:
    """The :class:`ComplexityGrid` of finished runs, ``runs[i][j]`` trained with ``widths[i]`` on ``n_trains[j]`` of
    the task :func:`adaptsym.data.load_task` (``**task``) gives."""
    shape = (len(widths), len(n_trains))
    histories = [[run.history for run in row] for row in runs]
    final = {key: np.array([[h[-1][key] for h in row] for row in histories], dtype=float)
             for key in ("train_loss", "train_accuracy")}
    first_zero = np.empty(shape, dtype=object)
    drop = np.empty(shape)
    for i, j in np.ndindex(shape):
        risk = [entry["train_loss"] for entry in histories[i][j]]
        first_zero[i, j] = first_zero_epoch(np.arange(len(risk)), risk)
        drop[i, j] = risk_drop(risk)
    return ComplexityGrid(tuple(widths), tuple(n_trains), depth, runs[0][0].config.widths[0], dict(task),
                          final_risk=final["train_loss"], final_accuracy=final["train_accuracy"],
                          final_order_parameter=np.array([[order_parameter(h)[-1] for h in row] for row in histories]),
                          first_zero_epoch=first_zero,
                          risk_drop=drop, still_falling=drop > FALLING_DROP, runs=runs)


def phase_monotonicity_violations(grid: ComplexityGrid) -> int:
    """Pairs of cells that contradict complexity matching: a zero-risk cell next to a frustrated cell of a wider
    network on the same data, or of the same network on fewer data (Li §III: a larger network, or simpler data,
    can only help)."""
    plastic = grid.phase()
    wider = np.sum(plastic[:-1, :] & ~plastic[1:, :])
    fewer = np.sum(~plastic[:, :-1] & plastic[:, 1:])
    return int(wider + fewer)


@dataclass(frozen=True)
class BoundaryCell:
    """One cell beside the phase boundary (Li §III): its grid position, its phase (``plastic``: zero final risk), its
    per-epoch history (risk, accuracy, ||∇R||²) and the SLQ quadrature of its final Hessian (``spectrum``: the
    :func:`adaptsym.plasticity.spectral_summary`, None where H = 0, i.e. without margin violators)."""

    width: int
    n_train: int
    plastic: bool
    history: list
    nodes: torch.Tensor
    weights: torch.Tensor
    spectrum: dict | None


def boundary_cells(grid: ComplexityGrid, steps: int, probes: int, seed: int = 0) -> list[BoundaryCell]:
    """The plasticity and the frustrated cell of :meth:`ComplexityGrid.boundary_pair`, each with the spectrum of its
    final risk Hessian (:func:`adaptsym.plasticity.spectrum_quadrature`, float64 model and data).  On a grid of one
    phase, the one cell nearest to where the other phase would be: the widest network on the fewest examples when
    every cell is frustrated, the narrowest on the most when none is."""
    from adaptsym.plasticity import margin_violators, spectral_summary, spectrum_quadrature

    plastic = grid.phase()
    if plastic.all():
        chosen = [(grid.widths[0], grid.n_trains[-1])]
    elif not plastic.any():
        chosen = [(grid.widths[-1], grid.n_trains[0])]
    else:
        chosen = list(grid.boundary_pair())
    cells = []
    for width, n_train in chosen:
        x, y = (t.double() for t in grid.training_data(n_train))
        model = grid.run(width, n_train).model(device="cpu").double()
        nodes, weights = spectrum_quadrature(model, x, y, steps, probes, seed=seed)
        dim = count_parameters(model)
        spectrum = spectral_summary(nodes, weights, dim) if margin_violators(model, x, y).any() else None
        cells.append(BoundaryCell(width, n_train, bool(plastic[grid.widths.index(width), grid.n_trains.index(n_train)]),
                                  grid.run(width, n_train).history, nodes, weights, spectrum))
    return cells


def stationary_frustrated_cells(grid: ComplexityGrid) -> list[dict]:
    """The frustrated cells whose order parameter is exactly 0 at the last epoch: stationary at a non-zero risk
    (Li's frustration phase, §III).  Per cell: width, n_train, risk, the number of margin violators and how many of
    them have T(x) = 0 exactly, i.e. meet no open ReLU path (every basis circuit closed, Li eq. 11), so that they
    give neither gradient nor Hessian."""
    found = []
    for i, j in np.argwhere(~grid.phase() & (grid.final_order_parameter == 0)):
        width, n_train = grid.widths[i], grid.n_trains[j]
        x, y = grid.training_data(n_train)
        with torch.no_grad():
            output = grid.run(width, n_train).model(device="cpu")(x)[:, 0]
        violating = y * output < 1
        found.append(dict(width=width, n_train=n_train, risk=float(grid.final_risk[i, j]),
                          violators=int(violating.sum()), closed=int((violating & (output == 0)).sum())))
    return found


def complexity_claims(grid: ComplexityGrid, cells: Sequence[BoundaryCell]) -> list[dict]:
    """Li §III on a grid, as ``Ledger.record`` keyword arguments: zero risk where the network is large for its data
    and not where it is small; in the frustration phase an order parameter at zero and a Hessian "likely positive
    semidefinite", measured on the frustrated cell of :func:`boundary_cells` (inconclusive without one)."""
    phase = grid.phase()
    corners = bool(phase[-1, 0]) and not bool(phase[0, -1])
    violations = phase_monotonicity_violations(grid)
    settled = not bool(grid.still_falling[0, -1])
    matching = dict(
        name="gradient descent reaches zero risk when the network is large enough for the data (§III)",
        paper="complexity matching: zero risk 'when the potential complexity of a system is larger than the "
              "complexity of a dataset' (§III)",
        measured=int(phase.sum()), agrees=(corners and violations == 0) if settled else None, kind="paper",
        criterion="the widest network on the fewest examples reaches zero risk, the narrowest on the most does not, "
                  "and no neighbouring pair contradicts 'larger networks or fewer data help'",
        detail=f"cells of {phase.size} at zero risk; the widest network on the fewest examples "
               f"{'reaches' if phase[-1, 0] else 'misses'} zero risk, the narrowest on the most "
               f"{'reaches' if phase[0, -1] else 'misses'} it; {violations} neighbouring pairs contradict 'larger "
               "networks or fewer data help'" + ("" if settled else "; the narrowest network's risk on the most "
                                                                     "examples is still falling (inconclusive)"))
    frustrated = next((cell for cell in cells if not cell.plastic), None)
    return [matching, *_frustration_claims(grid, frustrated)]


def _frustration_claims(grid: ComplexityGrid, frustrated: BoundaryCell | None) -> list[dict]:
    """Li §III's two statements on the frustration phase, measured on the cell ``frustrated`` (None: inconclusive)."""
    order = dict(name="in the frustration phase the order parameter is zero (§III)",
                 paper="'in the frustration phase, the order parameter is zero' (§III)", kind="paper",
                 criterion="η||∇R||²/risk <= 0.01, a tenth of Li's ratio in the plasticity phase (Fig. 4b)")
    curvature = dict(name="in the frustration phase the Hessian is likely positive semidefinite (§III)",
                     paper="'the Hessian is likely positive semidefinite' (§III)", kind="paper",
                     criterion="Σλ² below 0 over Σλ² above 0 <= 0.1")
    if frustrated is None:
        none = dict(measured=None, agrees=None, detail="no frustrated cell on this grid (inconclusive)")
        return [dict(order, **none), dict(curvature, **none)]
    i, j = grid.widths.index(frustrated.width), grid.n_trains.index(frustrated.n_train)
    ratio = float(grid.final_order_parameter[i, j] / grid.final_risk[i, j])
    falling = bool(grid.still_falling[i, j])
    energy = 0.0 if frustrated.spectrum is None else frustrated.spectrum["energy_ratio"]
    cell = f"width {frustrated.width}, {frustrated.n_train} examples"
    stuck = (~grid.phase()) & (grid.final_order_parameter == 0)
    return [
        dict(order, measured=ratio, agrees=None if falling else ratio <= 0.01,
             detail=f"η||∇R||² over the risk at the last epoch of the frustrated cell beside the boundary ({cell})"
                    + ("; its risk is still falling (inconclusive)" if falling else "")
                    + f". Elsewhere {int(stuck.sum())} of {int((~grid.phase()).sum())} frustrated cells have an order "
                      f"parameter of exactly 0 (widths {sorted({grid.widths[i] for i, _ in np.argwhere(stuck)})}; "
                      "see stationary_frustrated_cells)"),
        dict(curvature, measured=energy, agrees=energy <= 0.1,
             detail=f"Σλ² below 0 over Σλ² above 0 of the final Hessian of the frustrated cell ({cell}); 0 when "
                    "H = 0.  By structure tr H = 0 here, so a non-zero H cannot be semidefinite"),
    ]
