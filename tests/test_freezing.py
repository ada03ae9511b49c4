"""Freezing the interior (Zou & Huang §IV.6, Fig. 11)."""

import numpy as np
import pytest
import torch

from adaptsym import binary
from adaptsym.freezing import (
    FreezingExperiment,
    TrainingRun,
    freezing_experiment,
    freezing_is_faster,
    freezing_works,
    frozen_interior,
    interior_layers,
    paired_difference,
)
from small_cases import teacher_classes

pytestmark = pytest.mark.usefixtures("one_thread")  # the networks are tiny (conftest)

DEEP = (20, 15, 15, 10)
RUN = dict(n_networks=3, epochs=3, lr=0.3, seed=4, batch_size=50, n_draws=5, dtype=torch.float64, device="cpu",
           progress=False)


@pytest.fixture(scope="module")
def task():
    return teacher_classes(300, 100)


@pytest.fixture(scope="module")
def experiment(task, tmp_path_factory):
    return freezing_experiment(DEEP, *task, root=tmp_path_factory.mktemp("cache"), **RUN)


def _train(task, frozen):
    return binary.train_ensemble(DEEP, *task, RUN["n_networks"], RUN["epochs"], lr=RUN["lr"], batch_size=50,
                                 seed=RUN["seed"], dtype=torch.float64, device="cpu", progress=False, frozen=frozen)


def test_the_interior_is_every_matrix_between_the_first_and_the_last():
    assert interior_layers(DEEP) == [1] and interior_layers((4, 3, 3, 3, 2)) == [1, 2]
    held = frozen_interior((4, 3, 3, 3, 2), 500, seed=1)
    assert held[0] is None and held[3] is None and [h.shape for h in held[1:3]] == [(500, 3, 3), (500, 3, 3)]
    signs = torch.cat([h.flatten() for h in held[1:3]]).double()
    assert set(signs.unique().tolist()) == {-1.0, 1.0} and abs(signs.mean()) < 4 / np.sqrt(signs.numel())
    assert all(torch.equal(a, b) for a, b in zip(held[1:3], frozen_interior((4, 3, 3, 3, 2), 500, seed=1)[1:3]))


def test_normal_condition_is_plain_training_with_the_same_seed(task, experiment):
    normal = _train(task, None)
    assert np.array_equal(experiment.normal.test_accuracy, normal.test_accuracy.numpy())
    assert np.array_equal(experiment.normal.train_loss, normal.train_loss.numpy())
    final = binary.network_accuracy(normal, task[2], task[3], RUN["n_draws"], RUN["seed"])
    assert np.array_equal(experiment.normal.final_accuracy, final.numpy())


def test_frozen_condition_holds_the_interior_at_its_random_signs(task, experiment):
    held = frozen_interior(DEEP, RUN["n_networks"], RUN["seed"])
    frozen, normal = _train(task, held), _train(task, None)
    assert np.array_equal(experiment.frozen.test_accuracy, frozen.test_accuracy.numpy())
    assert torch.equal(frozen.predictor_weights()[1], held[1].double())  # still exactly ±1 after training
    draws = binary.draw_configurations(frozen, task[2], task[3], 4, 0.0, 0).matrices()[1]
    assert torch.equal(draws, held[1].repeat_interleave(4, 0))
    assert torch.equal(frozen.initial_params[0], normal.initial_params[0])  # twins
    assert not np.array_equal(experiment.frozen.train_loss, experiment.normal.train_loss)


def test_cached_experiment_reads_back_the_same_numbers(task, experiment, tmp_path):
    first = freezing_experiment(DEEP, *task, root=tmp_path, **RUN)
    second = freezing_experiment(DEEP, *task, root=tmp_path, **RUN)
    assert second.normal.wall_time == first.normal.wall_time > 0 and second.frozen.cpu_time == first.frozen.cpu_time > 0
    assert np.array_equal(first.frozen.final_accuracy, experiment.frozen.final_accuracy)
    assert len(list(tmp_path.glob("freezing-*.pt"))) == 1


def _run(curves, final):
    curves = np.asarray(curves, dtype=np.float64)
    return TrainingRun(curves, np.zeros_like(curves), np.asarray(final, dtype=np.float64), 1.0, 1.0)


def test_epochs_to_target_counts_from_one_and_marks_networks_that_never_reach_it():
    run = _run([[0.5, 0.7, 0.8], [0.75, 0.8, 0.9], [0.1, 0.2, 0.3]], [0.8, 0.9, 0.3])
    assert run.epochs_to(0.7).tolist() == [2, 1, 4]
    assert run.final() == pytest.approx((2.0 / 3, np.std([0.8, 0.9, 0.3], ddof=1) / np.sqrt(3)))
    assert paired_difference([1.0, 2.0, 4.0], [0.0, 1.0, 1.0]) == pytest.approx((5 / 3, np.std([1, 1, 3], ddof=1)
                                                                                   / np.sqrt(3)))


def test_verdicts_decide_only_beyond_k_standard_errors():
    normal = _run([[0.6, 0.8, 0.8]] * 4, [0.80, 0.81, 0.79, 0.80])

    def against(final, curve):
        return FreezingExperiment(DEEP, 100, normal, _run([curve] * 4, final), 0.98)

    close = against([0.799, 0.805, 0.787, 0.80], [0.8, 0.8, 0.8])
    assert close.target == pytest.approx(0.98 * 0.8) and freezing_works(close) is True
    assert freezing_is_faster(close) is True  # reaches 0.784 at epoch 1, the normal nets at 2
    far = against([0.70, 0.71, 0.69, 0.70], [0.3, 0.5, 0.7])  # target 0.686: epoch 3, not 2
    assert freezing_works(far) is False and freezing_is_faster(far) is False
    noisy = against([0.80, 0.77, 0.81, 0.76], [0.6, 0.8, 0.8])
    assert freezing_works(noisy) is None and freezing_is_faster(noisy) is None
    assert freezing_works(noisy, tolerance=0.05) is True


def test_bad_arguments_are_rejected(task):
    with pytest.raises(ValueError, match="needs at least two hidden layers"):
        freezing_experiment((20, 15, 10), *task, **RUN)
    with pytest.raises(ValueError, match="n_networks >= 2"):
        freezing_experiment(DEEP, *task, **{**RUN, "n_networks": 1})
    with pytest.raises(ValueError, match="n_draws >= 1"):
        freezing_experiment(DEEP, *task, **{**RUN, "n_draws": 0})
    with pytest.raises(ValueError, match=r"target_fraction must lie in \(0, 1\]; got 1.5"):
        freezing_experiment(DEEP, *task, target_fraction=1.5, **RUN)
