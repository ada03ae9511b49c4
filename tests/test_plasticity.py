"""Chapter 6's measurements (adaptsym.plasticity) against exact computation: dense Hessians in float64, known spectra,
synthetic entries of known means, and the snapshot cache."""

import math

import numpy as np
import pytest
import torch

import adaptsym.plasticity as plasticity
from adaptsym import hessian
from adaptsym.plasticity import HessianSnapshot, spectral_summary

TINY = {"n_train": 120, "n_test": 50, "hidden": [6, 6, 6, 6], "epochs": 6, "batch_size": 30}


def snapshot(**fields):
    """A HessianSnapshot with defaults for the fields a test does not set."""
    base = dict(epoch=0, risk=0.5, violators=10, examples=20, dim=6, resample_size=5, replicates=None,
                per_example_z=None, coupling=None, nodes=None, weights=None, zero_hvp_norm=None)
    return HessianSnapshot(**{**base, **fields})


def diagonal_quadrature(eigenvalues, probes=2):
    values = torch.tensor(eigenvalues, dtype=torch.float64)
    return hessian.slq(lambda v: values * v, len(values), len(values), probes, progress=False)


# --- the spectrum ----------------------------------------------------------------------------------------------

def test_spectral_summary_of_a_known_spectrum_is_exact():
    eigenvalues = np.array([-3.0, -1.0, 0.0, 0.0, 0.5, 2.0])
    nodes, weights = diagonal_quadrature(eigenvalues)  # Rademacher probes: v'A^j v / N = tr(A^j) / N exactly
    found = spectral_summary(nodes, weights, dim=6)
    m2, m3 = (eigenvalues ** 2).mean(), (eigenvalues ** 3).mean()
    assert found["width"] == pytest.approx(math.sqrt(m2), rel=1e-12)
    assert found["trace_ratio"] == pytest.approx(eigenvalues.mean() / math.sqrt(m2), abs=1e-12)
    assert found["skewness"] == pytest.approx((eigenvalues ** 3).sum() / (eigenvalues ** 2).sum() ** 1.5, rel=1e-10)
    assert found["skewness"] == pytest.approx(m3 / (m2 ** 1.5 * math.sqrt(6)), rel=1e-10)
    assert found["energy_ratio"] == pytest.approx(10 / 4.25, rel=1e-12)
    assert (found["ritz_min"], found["ritz_max"]) == pytest.approx((-3, 2), abs=1e-12)
    assert found["negative_mass"] == pytest.approx(2 / 6, abs=1e-12)
    assert found["positive_mass"] == pytest.approx(2 / 6, abs=1e-12)
    assert found["skewness_se"] == pytest.approx(0, abs=1e-12)  # both probes give the same exact moments


def test_a_symmetric_spectrum_has_zero_skewness_and_balanced_energy():
    found = spectral_summary(*diagonal_quadrature([-2.0, -1.0, 0.0, 1.0, 2.0]), dim=5)
    assert found["skewness"] == pytest.approx(0, abs=1e-12) and found["energy_ratio"] == pytest.approx(1, rel=1e-12)
    one_outlier = spectral_summary(*diagonal_quadrature([5.0, 0.0, 0.0, 0.0]), dim=4)
    assert one_outlier["skewness"] == pytest.approx(1, rel=1e-12)
    assert one_outlier["energy_ratio"] == pytest.approx(0, abs=1e-12)


def test_spectrum_quadrature_reproduces_the_dense_hessian_moments(trained_mlp):
    model, x, y = trained_mlp
    dense = hessian.risk_hessian(model, x, y)
    dim = len(dense)
    nodes, weights = plasticity.spectrum_quadrature(model, x, y, steps=6, probes=3, seed=2)
    generator = torch.Generator().manual_seed(2)  # the probes slq draws from the same seed
    for probe in range(3):
        v = (2 * torch.randint(2, (dim,), generator=generator) - 1).double()
        for j in range(1, 2 * 6):
            exact = v @ torch.linalg.matrix_power(dense, j) @ v / dim
            found = (weights[probe] * nodes[probe] ** j).sum()
            # float32 products: agreement to single precision of the largest term
            assert abs(found - exact) <= 2e-5 * torch.linalg.matrix_norm(dense, 2) ** j, (probe, j)


def test_spectrum_quadrature_is_a_unit_mass_at_zero_without_violators(trained_mlp):
    model, x, _ = trained_mlp
    with torch.no_grad():
        y = torch.sign(model(x)[:, 0])
        scale = 2 / (y * model(x)[:, 0]).min()
    x = x * scale  # positively homogeneous network: every margin becomes >= 2
    nodes, weights = plasticity.spectrum_quadrature(model, x, y, steps=4, probes=2)
    assert torch.all(nodes == 0) and torch.equal(weights[:, 0], torch.ones(2, dtype=weights.dtype))


# --- Hessian entries through a snapshot ---------------------------------------------------------------------

def test_hessian_snapshot_measures_the_dense_hessian_entries(trained_mlp):
    model, x, y = trained_mlp
    pairs = hessian.random_cross_layer_pairs(model, 12, seed=1)
    found = plasticity.hessian_snapshot(model, x, y, 7, pairs, n_boot=4000, resample_size=len(x), slq_steps=5,
                                        slq_probes=2)
    with torch.no_grad():
        active = (y * model(x)[:, 0] < 1).double()
    per_example = torch.stack([-y[k] * active[k] * hessian.output_hessian(model, x[k])[pairs[:, 0], pairs[:, 1]]
                               for k in range(len(x))])
    assert (found.epoch, found.violators, found.examples) == (7, int(active.sum()), len(x))
    assert found.risk == pytest.approx(float(hessian.hinge_loss(model(x), y).detach()), rel=1e-12)
    z = per_example.mean(0).abs() / per_example.std(0)
    defined = torch.isfinite(z)
    assert torch.allclose(found.per_example_z[defined], z[defined], rtol=1e-10)
    dense = hessian.risk_hessian(model, x, y)[pairs[:, 0], pairs[:, 1]]
    error = per_example.std(0) / math.sqrt(len(x)) / math.sqrt(4000)  # Monte Carlo error of the replicates' mean
    assert torch.all((found.replicates.mean(0) - dense).abs() <= 5 * error + 1e-15)
    assert found.coupling["n_effective"] == found.violators and found.zero_hvp_norm is None


def test_a_snapshot_without_violators_has_h_zero_measured(trained_mlp):
    model, x, _ = trained_mlp
    with torch.no_grad():
        y = torch.sign(model(x)[:, 0])
        x = x * 2 / (y * model(x)[:, 0]).min()
    found = plasticity.hessian_snapshot(model, x, y, 3, torch.tensor([[0, 100]]), n_boot=10, resample_size=5,
                                        slq_steps=3, slq_probes=1)
    assert found.zero and found.risk == 0 and found.zero_hvp_norm == 0
    assert found.replicates is None and found.nodes is None


def test_small_share_counts_entries_whose_mean_is_small_against_their_spread():
    generator = torch.Generator().manual_seed(0)
    means = torch.tensor([0.0, 0.0, 0.0, 1.0, 2.0, -1.0, 0.0, 0.5])  # in units of the replicates' std
    replicates = torch.randn(4000, 8, generator=generator, dtype=torch.float64) + means
    share, error = snapshot(replicates=replicates).small_share()
    assert share == 4 / 8  # |mean|/std of the zero-mean entries is ~N(0, 1/4000): far below 0.15
    assert 0 <= error < 0.05


def test_largest_resample_size_is_where_95_percent_of_bootstrap_means_fall_below_the_threshold():
    generator = torch.Generator().manual_seed(1)
    m, entries_count = 5000, 300
    shifts = torch.rand(entries_count, generator=generator, dtype=torch.float64) * 0.01
    entries = torch.randn(m, entries_count, generator=generator, dtype=torch.float64) + shifts
    z = entries.mean(0).abs() / entries.std(0)
    k = snapshot(per_example_z=z).largest_resample_size()
    assert 10 < k < 100  # large enough that rounding k barely moves the threshold
    replicates = hessian.bootstrap_entries(entries, 4000, seed=3, resample_size=round(k))
    assert snapshot(replicates=replicates).small_share()[0] == pytest.approx(0.95, abs=0.03)


def test_coupling_exponent_of_li_numbers():
    assert plasticity.coupling_exponent(3.39e-4, 8.68e12) == pytest.approx(0.732, abs=1e-3)
    assert plasticity.coupling_exponent(1 / math.sqrt(1e10), 1e10) == pytest.approx(0.5, abs=1e-12)


# --- claims ------------------------------------------------------------------------------------------------------

def spectral_snapshot(eigenvalues, epoch, risk):
    nodes, weights = diagonal_quadrature(eigenvalues)
    return snapshot(epoch=epoch, risk=risk, dim=len(eigenvalues), nodes=nodes, weights=weights)


def claims_by_name(claims):
    return {claim["name"].split(" (")[0]: claim for claim in claims}


def test_spectrum_claims_follow_their_criteria():
    symmetric = [spectral_snapshot([-s, -s / 2, 0, s / 2, s], e, r)
                 for e, s, r in ((0, 4.0, 1.0), (1, 3.0, 0.5), (2, 2.0, 0.3), (3, 1.5, 0.2), (4, 1.0, 0.1),
                                 (5, 0.5, 0.05))]
    zero = snapshot(epoch=6, risk=0.0, violators=0, zero_hvp_norm=0.0)
    found = claims_by_name(plasticity.spectrum_claims(symmetric + [zero]))
    assert found["the Hessian spectrum is symmetric about zero through training"]["agrees"] is True
    assert found["every stationary point is a saddle: eigenvalues of both signs"]["measured"] == 6
    assert found["a lower risk concentrates the eigenvalues towards zero"]["agrees"] is True
    assert found["H = 0 once every margin exceeds 1"]["agrees"] is True
    skewed = symmetric[:-1] + [spectral_snapshot([-0.5, 0, 0, 0, 30.0], 5, 0.05)]
    found = claims_by_name(plasticity.spectrum_claims(skewed))
    assert found["the Hessian spectrum is symmetric about zero through training"]["agrees"] is False
    assert found["a lower risk concentrates the eigenvalues towards zero"]["agrees"] is False  # widest at lowest risk
    assert found["H = 0 once every margin exceeds 1"]["agrees"] is None  # no zero-risk snapshot: inconclusive


def test_structure_on_small_network_shows_the_structural_zeros():
    images = torch.randn(40, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    labels = torch.where(images.mean((1, 2, 3)) > 0, 1.0, -1.0).double()
    check = plasticity.structure_on_small_network(images, labels, hidden=(4, 4), pool=2, steps=10)
    assert check["weights"] == 16 * 4 + 4 * 4 + 4
    assert check["max_diagonal"] == check["max_within_layer"] == 0 and check["max_entry"] > 0
    assert plasticity.structure_claim(check)["agrees"] is True


# --- through a reference run, cached -------------------------------------------------------------------------

def test_hessian_snapshots_of_a_reference_run_are_computed_once(tmp_path, monkeypatch):
    from adaptsym.reference import reference_run

    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path))
    ref = reference_run("smoke", TINY, device="cpu", progress=False)
    settings = dict(n_pairs=30, n_boot=50, resample_size=10, slq_steps=4, slq_probes=2)
    first = plasticity.hessian_snapshots(ref, epochs=[0, TINY["epochs"]], progress=False, **settings)
    assert [s.epoch for s in first] == [0, TINY["epochs"]] and not first[0].zero and not first[1].zero

    def no_recompute(*args, **kwargs):
        raise AssertionError("a cached snapshot was computed again")

    monkeypatch.setattr(plasticity, "hessian_snapshot", no_recompute)
    again = plasticity.hessian_snapshots(ref, epochs=[0, TINY["epochs"]], progress=False, **settings)
    assert torch.equal(again[0].replicates, first[0].replicates) and torch.equal(again[1].nodes, first[1].nodes)
    with pytest.raises(AssertionError, match="computed again"):
        plasticity.hessian_snapshots(ref, epochs=[0], progress=False, **dict(settings, n_boot=51))
