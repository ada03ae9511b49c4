"""The on-disk cache of ensembles, configurations and Ising fits (adaptsym.ensembles)."""

import numpy as np
import pytest
import torch

from adaptsym import binary, ensembles, ising
from adaptsym.ensembles import EnsembleSpec
from small_cases import teacher_classes

DEEP = (20, 15, 15, 10)


@pytest.fixture(scope="module")
def task():
    return teacher_classes(200, 100)


def counting(monkeypatch, module, name):
    """Wrap ``module.name`` so that calls are counted; returns the list of calls."""
    calls, original = [], getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def spec(**changes):
    base = dict(widths=DEEP, n_networks=2, epochs=2, batch_size=50, seed=1, dtype="float64")
    return EnsembleSpec(**{**base, **changes})


def test_second_call_loads_the_ensemble_instead_of_training(tmp_path, monkeypatch, task):
    calls = counting(monkeypatch, binary, "train_ensemble")
    first = ensembles.trained_ensemble(spec(), *task, root=tmp_path, device="cpu", progress=False)
    again = ensembles.trained_ensemble(spec(), *task, root=tmp_path, device="cpu", progress=False)
    assert len(calls) == 1 and len(list(tmp_path.glob("ensemble-*.pt"))) == 1
    direct = binary.train_ensemble(DEEP, *task, n_networks=2, epochs=2, batch_size=50, seed=1,
                                   dtype=torch.float64, device="cpu", progress=False)
    for loaded in (first, again):
        assert loaded.widths == DEEP and loaded.seeds == direct.seeds and loaded.weights == "binary"
        assert all(torch.equal(a, b) for a, b in zip(loaded.params, direct.params))
        assert all(torch.equal(a, b) for a, b in zip(loaded.initial_params, direct.initial_params))
        assert torch.equal(loaded.test_accuracy, direct.test_accuracy)


def test_other_config_or_data_is_another_key(tmp_path, monkeypatch, task):
    calls = counting(monkeypatch, binary, "train_ensemble")
    x_train, y_train, x_test, y_test = task
    ensembles.trained_ensemble(spec(), *task, root=tmp_path, device="cpu", progress=False)
    other_seed = ensembles.trained_ensemble(spec(seed=2), *task, root=tmp_path, device="cpu", progress=False)
    ensembles.trained_ensemble(spec(), x_train[:100], y_train[:100], x_test, y_test, root=tmp_path, device="cpu",
                               progress=False)
    real = ensembles.trained_ensemble(spec(weights="real", lr=0.01), *task, root=tmp_path, device="cpu",
                                      progress=False)
    assert len(calls) == 4 and len(list(tmp_path.glob("ensemble-*.pt"))) == 4
    assert other_seed.seeds == binary.network_seeds(2, 2) and real.weights == "real"
    key = {"a": 1, "b": [1, 2]}
    assert ensembles.cache_key("x", key) == ensembles.cache_key("x", {"b": [1, 2], "a": 1})
    assert ensembles.cache_key("x", key) != ensembles.cache_key("x", {"a": 2, "b": [1, 2]})
    assert ensembles.cache_key("x", key) != ensembles.cache_key("y", key)


def test_configurations_are_cached_and_keyed_by_the_fields(tmp_path, monkeypatch, task):
    _, _, x_test, y_test = task
    ensemble = ensembles.trained_ensemble(spec(), *task, root=tmp_path, device="cpu", progress=False)
    calls = counting(monkeypatch, binary, "draw_configurations")
    first = ensembles.drawn_configurations(ensemble, x_test, y_test, 6, seed=3, root=tmp_path)
    again = ensembles.drawn_configurations(ensemble, x_test, y_test, 6, seed=3, root=tmp_path)
    direct = binary.draw_configurations(ensemble, x_test, y_test, 6, 0.0, 3)
    assert len(calls) == 2  # the first cached call and the direct one
    for loaded in (first, again):
        assert loaded.widths == DEEP
        assert torch.equal(loaded.weights, direct.weights) and torch.equal(loaded.accuracy, direct.accuracy)
        assert torch.equal(loaded.network, direct.network)
    other = ensembles.trained_ensemble(spec(seed=5), *task, root=tmp_path, device="cpu", progress=False)
    ensembles.drawn_configurations(other, x_test, y_test, 6, seed=3, root=tmp_path)
    ensembles.drawn_configurations(ensemble, x_test, y_test, 6, seed=4, root=tmp_path)
    best = ensembles.drawn_configurations(ensemble, x_test, y_test, 6, seed=3, best_only=True, root=tmp_path)
    assert len(calls) == 5 and len(list(tmp_path.glob("configurations-*.pt"))) == 4
    assert torch.equal(best.weights, binary.draw_configurations(ensemble, x_test, y_test, 6, 0.0, 3, True).weights)


def test_fits_are_cached(tmp_path, monkeypatch):
    samples = np.random.default_rng(0).choice([-1, 1], size=(400, 6)).astype(np.int8)
    boltzmann_calls = counting(monkeypatch, ising, "fit_boltzmann")
    pl_calls = counting(monkeypatch, ising, "fit_pseudolikelihood")
    fits = [ensembles.fitted_boltzmann(samples, root=tmp_path, progress=False, lr=0.2, max_steps=20, patience=3)
            for _ in range(2)]
    direct = ising.fit_boltzmann(*ising.sample_moments(samples), lr=0.2, max_steps=20, patience=3, progress=False)
    assert len(boltzmann_calls) == 2
    for fit in fits:
        np.testing.assert_array_equal(fit.J, direct.J)
        np.testing.assert_array_equal(fit.h, direct.h)
        np.testing.assert_array_equal(fit.rmse_history, direct.rmse_history)
        assert (fit.converged, fit.bp_converged, fit.best_step) == (direct.converged, direct.bp_converged,
                                                                      direct.best_step)
    ensembles.fitted_boltzmann(samples, root=tmp_path, progress=False, lr=0.1, max_steps=20, patience=3)
    ensembles.fitted_boltzmann(samples[:300], root=tmp_path, progress=False, lr=0.2, max_steps=20, patience=3)
    assert len(boltzmann_calls) == 4
    J, h = ensembles.fitted_pseudolikelihood(samples, root=tmp_path, progress=False, l2=1e-3)
    J_again, h_again = ensembles.fitted_pseudolikelihood(samples, root=tmp_path, progress=False, l2=1e-3)
    assert len(pl_calls) == 1
    np.testing.assert_array_equal(J, J_again)
    np.testing.assert_array_equal(h, h_again)
    expected_J, expected_h = ising.fit_pseudolikelihood(samples, l2=1e-3, progress=False)
    np.testing.assert_array_equal(J, expected_J)
    np.testing.assert_array_equal(h, expected_h)


def test_damaged_cache_file_names_the_file(tmp_path):
    ensembles.cached("thing", {"a": 1}, lambda: {"x": torch.ones(3)}, root=tmp_path)
    (path,) = tmp_path.glob("thing-*.pt")
    path.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=f"{path.name} is unreadable.*delete it"):
        ensembles.cached("thing", {"a": 1}, lambda: {"x": torch.ones(3)}, root=tmp_path)


def test_region_samples(task):
    weights = torch.arange(2 * 675).remainder(2).mul(2).sub(1).to(torch.int8).view(2, 675)
    configs = binary.Configurations(DEEP, weights, torch.ones(2), torch.zeros(2, dtype=torch.int64))
    for region, (start, stop) in {"LB": (0, 300), "ITR": (300, 525), "RB": (525, 675), "FULL": (0, 675)}.items():
        np.testing.assert_array_equal(ensembles.region_samples(configs, region), weights[:, start:stop].numpy())
    with pytest.raises(ValueError, match="valid regions: LB, ITR, RB, FULL"):
        ensembles.region_samples(configs, "MIDDLE")
    shallow = binary.Configurations((20, 10), weights[:, :200], torch.ones(2), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="region ITR is empty"):
        ensembles.region_samples(shallow, "ITR")
    with pytest.raises(ValueError, match="dtype must be"):
        EnsembleSpec(widths=DEEP, n_networks=1, epochs=1, dtype="float16")
