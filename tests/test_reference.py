"""The reference training run of Chapters 4-6: Li's epochs rescaled, trained once and reused, paper profile valid."""

import pytest
import torch
from torch import nn

import adaptsym.reference as reference
import adaptsym.train as train_module
from adaptsym.models import count_parameters
from adaptsym.order import gradient_norm_sq
from adaptsym.reference import PAPER_EPOCHS, reference_run, reference_settings, snapshot_epochs

TINY = {"n_train": 100, "n_test": 50, "hidden": [8, 8, 8, 8], "epochs": 6, "batch_size": 25}


def test_snapshot_epochs_are_li_epochs_rescaled():
    assert snapshot_epochs(300) == PAPER_EPOCHS
    assert snapshot_epochs(150) == (0, 5, 10, 15, 20, 50, 80, 100, 130, 150)
    assert snapshot_epochs(6) == (0, 1, 2, 3, 4, 5, 6)  # 30 -> 0.6 and 40 -> 0.8 both round to 1


def test_reference_run_is_trained_once_then_reused_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path))
    first = reference_run("smoke", TINY, device="cpu", progress=False)
    assert first.run.complete and first.run.path.is_relative_to(tmp_path)
    assert first.epochs == snapshot_epochs(TINY["epochs"])

    def no_training(*args, **kwargs):
        raise AssertionError("a cached reference run was trained again")

    monkeypatch.setattr(train_module._Training, "epoch", no_training)
    second = reference_run("smoke", TINY, device="cpu", progress=False)
    assert second.run.path == first.run.path and second.history == first.history
    other = dict(TINY, seed=1)
    with pytest.raises(AssertionError, match="trained again"):
        reference_run("smoke", other, device="cpu", progress=False)


def test_every_epoch_records_risk_accuracy_and_the_order_parameter(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path))
    ref = reference_run("smoke", TINY, device="cpu", progress=False)
    history = ref.history
    assert [h["epoch"] for h in history] == list(range(TINY["epochs"] + 1))
    assert all({"train_loss", "train_accuracy", "train_grad_norm_sq", "test_accuracy"} <= set(h) for h in history)
    last = ref.epochs[-1]
    expected = gradient_norm_sq(ref.model(last), ref.x_train, ref.y_train)
    assert history[last]["train_grad_norm_sq"] == pytest.approx(expected, rel=1e-5)
    assert len(ref.weights(0)) == 5 and ref.x_train.shape == (TINY["n_train"], 784)
    assert "5 weight layers" in ref.description


def test_settings_reject_unknown_names_and_profiles():
    with pytest.raises(ValueError, match="unknown reference-run setting.*widht.*valid: dataset"):
        reference_settings("quick", {"widht": 3})
    with pytest.raises(ValueError, match="valid profiles"):
        reference_settings("fast")


def test_paper_profile_is_li_12_layer_vgg_and_falls_back_to_padded_fashion_mnist(monkeypatch, capsys):
    settings = reference_settings("paper")

    def no_cifar(*args, **kwargs):
        raise FileNotFoundError("no CIFAR-10 here")

    monkeypatch.setattr(reference, "load_images", no_cifar)
    dataset, line = reference._dataset(settings)
    assert dataset == "fashion-mnist" and "CIFAR-10 not found" in line and "padded to 32x32" in line
    images = reference._inputs(torch.rand(2, 784), dataset, settings)
    assert images.shape == (2, 1, 32, 32) and torch.equal(images[:, :, :2], torch.zeros(2, 1, 2, 32))
    config = reference._train_config(settings, images, "probe")
    net = train_module.model_from_config(config, device="cpu")
    assert sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in net) == 12
    assert 1e7 <= count_parameters(net) <= 1.5e7
    assert all(m.bias is None for m in net if isinstance(m, (nn.Conv2d, nn.Linear)))
    with torch.no_grad():
        assert net(images).shape == (2, 1)
    assert config.snapshot_epochs == PAPER_EPOCHS and config.record_gradient_norm
