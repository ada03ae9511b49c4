"""Cached, resumable training runs on the hinge risk (Li eqs. 12-13)."""

import dataclasses

import pytest
import torch

import adaptsym.train as train_module
from adaptsym import stochastic
from adaptsym.models import hinge_loss
from adaptsym.train import Run, TrainConfig, model_from_config, run_key, train_run

CONFIG = TrainConfig(
    model="mlp",
    widths=(5, 16, 1),
    optimizer="sgd",
    lr=0.05,
    momentum=0.9,
    batch_size=16,
    epochs=6,
    lr_schedule="cosine",
    seed=1,
    snapshot_epochs=(0, 3, 6),
    dtype="float64",
    data_key="teacher-5d",
)
ADAM = dataclasses.replace(CONFIG, optimizer="adam", momentum=0.0, lr=0.01, lr_schedule="constant", batch_size=10)
STOCHASTIC = dataclasses.replace(CONFIG, temperature=0.5)


def teacher_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n Gaussian points in 5-D labelled by the sign of a random linear teacher."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g, dtype=torch.float64)
    return x, torch.sign(x @ torch.randn(5, generator=g, dtype=torch.float64))


@pytest.fixture(scope="module")
def data():
    return teacher_data(64, 0)


def train(config, data, root, **kwargs):
    return train_run(config, *data, root=root, device="cpu", progress=False, **kwargs)


def assert_same_weights(a: dict, b: dict):
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_training_decreases_the_hinge_loss_and_records_history(data, tmp_path):
    x_test, y_test = teacher_data(32, 7)
    run = train_run(CONFIG, *data, x_test, y_test, root=tmp_path, device="cpu", progress=False)
    assert run.complete and run.path.parent == tmp_path and run.path.name.startswith("mlp-")
    history = run.history
    assert [h["epoch"] for h in history] == list(range(7))
    assert history[0]["lr"] is None and history[1]["lr"] == CONFIG.lr
    assert history[-1]["lr"] < CONFIG.lr  # cosine schedule
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert history[-1]["train_accuracy"] > history[0]["train_accuracy"]
    assert {"test_loss", "test_accuracy"} <= history[-1].keys()
    assert not [p for p in run.path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_history_matches_a_direct_evaluation_of_the_final_model(data, tmp_path):
    run = train(CONFIG, data, tmp_path)
    x, y = data
    with torch.no_grad():
        t = run.model(device="cpu")(x)[:, 0]
    assert run.history[-1]["train_loss"] == pytest.approx(torch.clamp(1 - y * t, min=0).mean().item(), rel=1e-12)
    assert run.history[-1]["train_accuracy"] == (torch.sign(t) == y).double().mean().item()


def test_finished_run_is_reused_without_training(data, tmp_path, monkeypatch):
    first = train(CONFIG, data, tmp_path)
    stamp = (first.path / "checkpoint.pt").stat().st_mtime_ns

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was retrained")

    monkeypatch.setattr(train_module, "_train_epoch", no_training)
    second = train(CONFIG, data, tmp_path)
    assert second.path == first.path and second.history == first.history
    assert (second.path / "checkpoint.pt").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("config", [CONFIG, ADAM, STOCHASTIC], ids=["sgd-momentum-cosine", "adam", "stochastic"])
def test_resume_after_stop_is_bit_identical(config, data, tmp_path):
    stopped = train(config, data, tmp_path / "a", stop_after_epoch=3)
    assert not stopped.complete and len(stopped.history) == 4 and stopped.snapshot_epochs == (0, 3)
    resumed = train(config, data, tmp_path / "a")
    straight = train(config, data, tmp_path / "b")
    assert resumed.complete and resumed.path.name == straight.path.name
    assert_same_weights(resumed.model(device="cpu").state_dict(), straight.model(device="cpu").state_dict())
    assert resumed.history == straight.history


def test_keyboard_interrupt_mid_epoch_loses_only_that_epoch(data, tmp_path, monkeypatch):
    real_epoch, calls = train_module._train_epoch, []

    def interrupted_in_epoch_4(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        real_epoch(*args)

    monkeypatch.setattr(train_module, "_train_epoch", interrupted_in_epoch_4)
    with pytest.raises(KeyboardInterrupt):
        train(CONFIG, data, tmp_path / "a")
    interrupted = Run(next((tmp_path / "a").iterdir()))
    assert not interrupted.complete and [h["epoch"] for h in interrupted.history] == [0, 1, 2, 3]
    monkeypatch.setattr(train_module, "_train_epoch", real_epoch)
    resumed, straight = train(CONFIG, data, tmp_path / "a"), train(CONFIG, data, tmp_path / "b")
    assert_same_weights(resumed.model(device="cpu").state_dict(), straight.model(device="cpu").state_dict())
    assert resumed.history == straight.history


def test_snapshots_at_requested_epochs(data, tmp_path):
    run = train(CONFIG, data, tmp_path)
    assert run.snapshot_epochs == (0, 3, 6)
    assert_same_weights(run.snapshot(0), model_from_config(CONFIG, "cpu").state_dict())
    assert_same_weights(run.snapshot(6), run.model(device="cpu").state_dict())
    assert_same_weights(run.model(3, device="cpu").state_dict(), run.snapshot(3))
    assert not any(torch.equal(run.snapshot(0)[k], run.snapshot(3)[k]) for k in run.snapshot(0))
    with pytest.raises(FileNotFoundError, match=r"saved epochs: \(0, 3, 6\)"):
        run.snapshot(2)


def test_run_directory_depends_on_config_and_data(data, tmp_path):
    base = train(CONFIG, data, tmp_path).path
    other_lr = train(dataclasses.replace(CONFIG, lr=0.04, epochs=1, snapshot_epochs=()), data, tmp_path).path
    x, y = data
    x_changed = x.clone()
    x_changed[0, 0] += 1e-9
    other_data = train(CONFIG, (x_changed, y), tmp_path).path
    same = train(dataclasses.replace(CONFIG), (x.clone(), y.clone()), tmp_path).path
    assert len({base, other_lr, other_data}) == 3 and same == base


def test_temperature_is_part_of_the_run_key():
    assert run_key(STOCHASTIC, "fp") != run_key(CONFIG, "fp")


def test_stochastic_training_is_generalised_em_evaluated_on_the_relu_network(data, tmp_path):
    """One epoch by hand: E-step (gates sampled at T with the run's gate generator), then an SGD step along
    the M-step gradient with those gates fixed; the history evaluates the deterministic ReLU network."""
    config = dataclasses.replace(STOCHASTIC, momentum=0.0, lr_schedule="constant", epochs=1, snapshot_epochs=())
    run = train(config, data, tmp_path)
    x, y = data
    model = model_from_config(config, "cpu")
    shuffler, gate_sampler = (torch.Generator().manual_seed(config.seed) for _ in range(2))
    losses = []
    for batch in torch.randperm(len(x), generator=shuffler).split(config.batch_size):
        gates = stochastic.e_step(model, x[batch], config.temperature, gate_sampler)
        gradient = stochastic.m_step_gradient(model, x[batch], y[batch], gates)
        losses.append(hinge_loss(stochastic.gated_forward(model, x[batch], gates), y[batch]).item() * len(batch))
        with torch.no_grad():
            for weight, g in zip(model.parameters(), gradient):
                weight -= config.lr * g
    trained = run.model(device="cpu").state_dict()
    assert all((trained[k] - v).abs().max() <= 1e-12 for k, v in model.state_dict().items())
    first, last = run.history
    assert first["train_stochastic_loss"] is None
    assert last["train_stochastic_loss"] == pytest.approx(sum(losses) / len(x), rel=1e-12)
    with torch.no_grad():
        relu_loss = hinge_loss(model(x), y).item()
    assert last["train_loss"] == pytest.approx(relu_loss, rel=1e-12)
    assert last["train_loss"] != last["train_stochastic_loss"]
    deterministic = train(dataclasses.replace(config, temperature=0.0), data, tmp_path)
    assert "train_stochastic_loss" not in deterministic.history[-1]
    assert not torch.equal(deterministic.model(device="cpu")[0].weight, model[0].weight)


@pytest.mark.parametrize("temperature", [0.0, 0.3])
def test_cnn_runs(temperature, tmp_path):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(12, 1, 4, 4, generator=g)
    y = torch.sign(x.sum((1, 2, 3)))
    config = TrainConfig(model="cnn", in_channels=1, channels=(2,), image_size=4, epochs=2, snapshot_epochs=(2,),
                         temperature=temperature)
    run = train(config, (x, y), tmp_path)
    assert run.path.name.startswith("cnn-") and run.model(device="cpu")(x).shape == (12, 1)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(model="resnet"), r"model='resnet' is not one of \('mlp', 'cnn'\)"),
        (dict(optimizer="rmsprop"), "optimizer"),
        (dict(lr_schedule="step"), "lr_schedule"),
        (dict(dtype="float16"), "dtype"),
        (dict(widths=(5, 16, 2)), r"widths=\(d_in, \.\.\., 1\)"),
        (dict(channels=(3,)), "no channels"),
        (dict(model="cnn"), "model='cnn' needs"),
        (dict(epochs=0), "positive"),
        (dict(batch_size=0), "positive"),
        (dict(optimizer="adam"), "momentum"),
        (dict(snapshot_epochs=(7,)), r"snapshot_epochs must lie in \[0, epochs=6\]"),
        (dict(temperature=-0.1), "temperature must be a finite number >= 0"),
        (dict(temperature=float("nan")), "temperature must be a finite number >= 0"),
    ],
)
def test_config_rejects_bad_settings(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CONFIG, **changes)


def test_config_normalises_sequences_and_is_hashable():
    config = dataclasses.replace(CONFIG, widths=[5, 16, 1], snapshot_epochs=[0, 3, 6])
    assert config == CONFIG and hash(config) == hash(CONFIG)


def test_bad_data_is_rejected(data, tmp_path):
    x, y = data
    with pytest.raises(ValueError, match=r"shape \(N, 5\).*flatten"):
        train(CONFIG, (x[:, :4], y), tmp_path)
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        train(CONFIG, (x, (y + 1) / 2), tmp_path)
    with pytest.raises(ValueError, match="labels of shape"):
        train_run(CONFIG, x, y, x, None, root=tmp_path, device="cpu", progress=False)
    with pytest.raises(ValueError, match="stop_after_epoch"):
        train(CONFIG, data, tmp_path, stop_after_epoch=-1)


def test_corrupt_checkpoint_names_the_fix(data, tmp_path):
    run = train(CONFIG, data, tmp_path, stop_after_epoch=1)
    (run.path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="delete .* and train the run again"):
        train(CONFIG, data, tmp_path)


def test_run_needs_a_run_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a training run directory"):
        Run(tmp_path)
