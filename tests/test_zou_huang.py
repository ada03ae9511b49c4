"""Zou & Huang's published data (adaptsym.zou_huang): the loaders on written folders, their refusals of malformed
files, and the diagnostics on a planted model; the published numbers themselves where the data are present."""

import numpy as np
import pytest

from adaptsym import ising
from adaptsym import zou_huang as zh

N_SHALLOW = 200


def write_shallow(root, m, C, J, h):
    moments, model = root / "data_moments" / "shallow", root / "Ising_model" / "shallow"
    moments.mkdir(parents=True)
    model.mkdir(parents=True)
    np.savetxt(moments / "mi_data.txt", m)
    np.savetxt(moments / "Ca_data.txt", C)
    np.savetxt(model / "J_FULL.txt", J)
    np.savetxt(model / "h_FULL.txt", h)


@pytest.fixture
def planted(tmp_path):
    """A shallow-scenario folder whose data moments are the BP moments of a weakly coupled model."""
    rng = np.random.default_rng(0)
    J = np.triu(rng.normal(0, 0.01, (N_SHALLOW, N_SHALLOW)), 1)
    J, h = J + J.T, rng.normal(0, 0.3, N_SHALLOW)
    m, C, converged = ising.bp_moments(J, h, max_iter=500, tol=1e-12)
    assert converged
    write_shallow(tmp_path, m, C, J, h)
    return tmp_path, (m, C), (J, h)


def test_the_folder_comes_from_the_argument_the_environment_or_the_shared_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(zh.DATA_ENV, raising=False)
    monkeypatch.setattr(zh, "REPO_ROOT", tmp_path / "repo")
    assert zh.data_root() is None
    with pytest.raises(FileNotFoundError, match="Zou & Huang's data are not on this machine: clone"):
        zh.load_moments("shallow")
    with pytest.raises(FileNotFoundError, match="ZouWenXuan/Liquid-like-deep-learning"):
        zh.data_root(tmp_path / "absent")
    monkeypatch.setenv(zh.DATA_ENV, str(tmp_path))
    assert zh.data_root() == tmp_path
    (tmp_path / "shared" / "zou-huang").mkdir(parents=True)
    monkeypatch.delenv(zh.DATA_ENV)
    assert zh.data_root() == tmp_path / "shared" / "zou-huang"


def test_moments_and_models_load_as_written(planted):
    root, (m, C), (J, h) = planted
    loaded_m, loaded_C = zh.load_moments("shallow", root)
    assert np.allclose(loaded_m, m, atol=1e-15) and np.allclose(loaded_C, C, atol=1e-15)
    loaded_J, loaded_h = zh.load_model("shallow", "FULL", root)
    assert np.allclose(loaded_J, J, atol=1e-15) and np.allclose(loaded_h, h, atol=1e-15)
    assert zh.n_spins("under-para") == 675 and zh.region_slice("under-para", "ITR") == slice(300, 525)


@pytest.mark.parametrize("spoil, message", [
    (lambda m, C, J: (m[:-1], C, J), r"mi_data.txt has shape \(199,\), expected \(200,\)"),
    (lambda m, C, J: (np.where(np.arange(m.size) == 3, np.nan, m), C, J), "NaN or infinite"),
    (lambda m, C, J: (m * 0 + 1.5, C, J), "magnetisations of ±1 spins"),
    (lambda m, C, J: (m, C + np.triu(np.full_like(C, 0.01), 1), J), "symmetric, in \\[-1, 1\\], with unit diagonal"),
    (lambda m, C, J: (m, C, J + np.triu(np.ones_like(J), 1)), "couplings must be symmetric")])
def test_malformed_files_are_refused_with_their_name(tmp_path, planted, spoil, message):
    _, (m, C), (J, h) = planted
    bad = tmp_path / "bad"
    write_shallow(bad, *spoil(m, C, J)[:2], spoil(m, C, J)[2], h)
    with pytest.raises(ValueError, match=message):
        zh.load_moments("shallow", bad)
        zh.load_model("shallow", "FULL", bad)


def test_a_missing_or_unreadable_file_is_named(tmp_path, planted):
    root, _, _ = planted
    (root / "Ising_model" / "shallow" / "h_FULL.txt").unlink()
    with pytest.raises(FileNotFoundError, match="h_FULL.txt"):
        zh.load_model("shallow", "FULL", root)
    (root / "data_moments" / "shallow" / "mi_data.txt").write_text("a b c\n")
    with pytest.raises(ValueError, match="not a table of numbers"):
        zh.load_moments("shallow", root)


def test_configurations_have_the_accuracy_first_then_675_spins(tmp_path):
    rng = np.random.default_rng(1)
    spins = rng.choice([-1.0, 1.0], size=(4, 675))
    folder = tmp_path / "configurations"
    folder.mkdir()
    np.save(folder / "under-para-100.npy", np.column_stack([[0.8, 0.81, 0.82, 0.83], spins]))
    loaded, accuracy = zh.load_configurations(tmp_path)
    assert loaded.dtype == np.int8 and np.array_equal(loaded, spins) and accuracy.tolist() == [0.8, 0.81, 0.82, 0.83]
    np.save(folder / "under-para-100.npy", np.column_stack([spins, np.full(4, 0.8)]))  # accuracy last: refused
    with pytest.raises(ValueError, match="first column must be an accuracy"):
        zh.load_configurations(tmp_path)
    np.save(folder / "under-para-100.npy", spins)
    with pytest.raises(ValueError, match=r"expected \(configurations, 676\)"):
        zh.load_configurations(tmp_path)


def test_diagnostics_of_a_model_that_produced_its_data(planted):
    root, (m, C), _ = planted
    found = zh.published_regions(["shallow"], root)[("shallow", "FULL")]
    assert found.rmse_model < 1e-8 < found.rmse_independent and zh.model_beats_independent(found)
    assert found.bp_converged and found.flip_overlap == pytest.approx(1.0, abs=1e-6)  # one state: BP comes back
    assert found.noise_edge == pytest.approx((1 + np.sqrt(N_SHALLOW / 2e6)) ** 2)
    headers, rows = zh.published_table({("shallow", "FULL"): found})
    assert len(rows[0]) == len(headers) and rows[0][:2] == ["shallow", "FULL"]
    note = zh.published_note({("shallow", "FULL"): found}, "shallow", "FULL")
    assert note.startswith("; their published shallow FULL model") and f"{found.rmse_independent:.3f}" in note
    assert zh.published_note({("shallow", "FULL"): found}, "under", "LB") == ""  # not published here: nothing to say


@pytest.mark.parametrize("a, collective", [(0.0, False), (0.05, True)])
def test_a_row_common_correlation_is_a_collective_mode(tmp_path, a, collective):
    v = np.where(np.arange(N_SHALLOW) % 2 == 0, 1.0, -1.0)
    C = (1 - a) * np.eye(N_SHALLOW) + a * np.outer(v, v)  # correlation coefficients with eigenvalue 1 - a + a N
    write_shallow(tmp_path, np.zeros(N_SHALLOW), C, np.zeros((N_SHALLOW, N_SHALLOW)), np.zeros(N_SHALLOW))
    found = zh.published_region("shallow", "FULL", tmp_path)
    assert found.mode[0] == pytest.approx(1 - a + a * N_SHALLOW, rel=1e-12)
    assert zh.has_collective_mode(found) is collective
    assert abs(found.mode[1] @ v) / np.sqrt(N_SHALLOW) == pytest.approx(1.0, abs=1e-9) or not collective


@pytest.mark.skipif(zh.data_root() is None, reason="Zou & Huang's published data are not on this machine")
def test_the_published_lb_model_misses_its_own_data_and_the_configurations_have_two_polarities():
    from adaptsym import weight_space as ws

    lb = zh.published_region("under-para", "LB", bp_max_iter=300)
    assert lb.mode[0] == pytest.approx(11.56, abs=0.01) and lb.noise_edge == pytest.approx(1.025, abs=1e-3)
    assert lb.rmse_model == pytest.approx(0.057, abs=1e-3) and lb.rmse_independent == pytest.approx(0.0505, abs=1e-3)
    assert not zh.model_beats_independent(lb)
    assert ws.mode_row_cosine(lb.mode[1], 15, 20) > 0.999  # the same 20-weight pattern in every hidden unit's row
    assert ws.is_bimodal(ws.bimodality(zh.configuration_projection(lb), n_bootstrap=100, seed=0))
