"""Chapter 7's measurements on weight ensembles (adaptsym.weight_space), on planted ensembles whose answer is
known: a two-polarity ensemble (each network ±pattern, flipped spins as noise) and independent spins."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from adaptsym import binary, ising
from adaptsym import weight_space as ws
from adaptsym.models import count_weights

WIDTHS = (4, 3, 3, 2)  # LB 12, ITR 9, RB 6, FULL 27 spins
OPTIONS = ws.FitOptions(lr=0.05, momentum=0.9, max_steps=40, patience=5, damping=0.5, bp_max_iter=200)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path / "cache"))


def planted(n_networks=200, draws=4, flip=0.1, polarities=True, seed=0, families=False):
    """``draws`` configurations per network: the network's base configuration with each spin flipped with
    probability ``flip``. With ``polarities`` the base is sigma_g * pattern, sigma_g = ±1 (two families along
    one collective mode); otherwise independent uniform spins. ``families=True`` also returns each
    configuration's sigma_g > 0."""
    rng = np.random.default_rng(seed)
    n = count_weights(WIDTHS)
    sigma = rng.choice([-1, 1], size=n_networks)
    if polarities:
        base = sigma[:, None] * rng.choice([-1, 1], size=n)[None, :]
    else:
        base = rng.choice([-1, 1], size=(n_networks, n))
    noise = np.where(rng.random((n_networks, draws, n)) < flip, -1, 1)
    weights = (base[:, None, :] * noise).reshape(-1, n).astype(np.int8)
    network = np.repeat(np.arange(n_networks), draws)
    accuracy = rng.random(len(weights))
    kept = binary.Configurations(WIDTHS, torch.from_numpy(weights), torch.from_numpy(accuracy),
                                 torch.from_numpy(network))
    return (kept, sigma[network] > 0) if families else kept


def test_scenarios_are_the_papers_three_networks():
    chosen = ws.scenarios(20, 15, 60000, 500)
    assert chosen == {"under": ((20, 15, 15, 10), 60000), "over": ((20, 15, 15, 10), 500),
                      "shallow": ((20, 10), 60000)}
    assert ws.describe_scenarios(chosen)["over"] == "20-15-15-10, 675 weights, 500 training examples"
    assert ws.fit_regions_of("under", ["LB", "RB"]) == ["LB", "RB"] and ws.fit_regions_of("shallow", ["LB"]) == ["FULL"]


def test_a_region_is_decidable_only_with_more_networks_than_spins():
    kept = planted(n_networks=10)
    assert ws.n_groups(kept) == 10
    assert ws.decidable(kept, "RB") and ws.decidable(kept, "ITR") and not ws.decidable(kept, "LB")


def test_mean_hamming_is_the_pairwise_fraction_of_differing_spins():
    a = np.random.default_rng(1).choice([-1, 1], size=(7, 30)).astype(np.int8)
    pairs = [(a[i] != a[j]).mean() for i in range(7) for j in range(i + 1, 7)]
    assert ws.mean_hamming(a) == pytest.approx(np.mean(pairs), abs=1e-15)


def test_even_subset_spreads_indices_over_the_whole_range():
    assert ws.even_subset(10, 4).tolist() == [0, 3, 6, 9]
    assert ws.even_subset(3, 10).tolist() == [0, 1, 2]


def test_noise_convergence_ends_at_half_the_networks():
    ks, curve = ws.noise_convergence(planted(n_networks=40, polarities=False), [8, 16, 64], n_repeats=3, seed=0)
    assert ks == [8, 16, 20] and curve.shape == (3,)
    assert curve[0] > curve[1] > curve[2] > 0  # more networks, closer to the moments of all


def test_a_two_polarity_ensemble_has_a_collective_mode_and_splits_into_its_families():
    kept, truth = planted(families=True)
    model = ws.region_model("under", kept, "LB", OPTIONS, n_repeats=3, seed=0)
    assert model.n_spins == 12 and model.n_groups == 200 and model.decidable
    assert model.has_collective_mode and model.mode[0] > 5 * model.noise_edge
    mixture = ws.polarity_mixture(model, OPTIONS)
    labels = mixture.labels if mixture.labels[0] == truth[0] else ~mixture.labels  # the eigenvector's sign is free
    assert np.array_equal(labels, truth)
    assert sum(mixture.shares) == len(kept.accuracy) and np.allclose(mixture.weights().sum(), 1)
    # two independent-spin polarities already explain a planted ensemble with independent noise
    assert mixture.rmse_independent < 0.5 * model.rmse_independent
    assert "polarities" in ws.mixture_summary(model, mixture)


def test_independent_spins_have_no_collective_mode_and_are_not_split():
    model = ws.region_model("under", planted(polarities=False), "LB", OPTIONS, n_repeats=3, seed=0)
    assert not model.has_collective_mode and ws.polarity_mixture(model, OPTIONS) is None
    assert model.rmse_fitted <= model.rmse_independent
    bp, rmse = ws.bp_reconstruction(model, OPTIONS)
    assert rmse == pytest.approx(ising.moment_rmse(*model.moments, *bp), rel=1e-12)


@pytest.mark.parametrize("rmse, noise, independent, decided, verdict", [
    (0.01, 0.02, 0.05, True, True), (0.03, 0.02, 0.05, True, False),
    (0.01, 0.02, 0.015, True, None), (0.01, 0.02, 0.05, False, None)])
def test_reproduces_moments_needs_a_decidable_region_with_correlations_to_reproduce(rmse, noise, independent,
                                                                                      decided, verdict):
    assert ws.reproduces_moments(rmse, noise, independent, decided) is verdict


def test_polarity_flip_negates_the_boundary_matrices_only():
    mu = [torch.full((2, 3), 0.5), torch.full((2, 2), 0.25), torch.full((1, 2), -1.0)]
    flipped = ws.polarity_flip(mu)
    assert torch.equal(flipped[0], -mu[0]) and flipped[1] is mu[1] and torch.equal(flipped[2], -mu[2])
    assert all(torch.equal(a, b) for a, b in zip(ws.polarity_flip(flipped), mu))


def test_mode_structure_scores():
    row = np.array([1.0, -2.0, 0.5])
    assert ws.mode_row_cosine(np.tile(row, 4), 4, 3) == pytest.approx(1.0, abs=1e-15)
    assert ws.mode_row_cosine(np.eye(3).ravel(), 3, 3) == pytest.approx(0.0, abs=1e-15)
    assert ws.mode_row_coherence(np.abs(np.tile(row, 2)), 2, 3) == pytest.approx(1.0, abs=1e-15)
    assert ws.mode_row_coherence(np.array([1.0, -1.0, 2.0, -2.0]), 2, 2) == 0.0


def test_missed_pairs_count_the_connected_correlations_a_model_misses():
    m, C = np.zeros(3), np.eye(3)
    assert ws.missed_pairs((m, C), (m, C)) == (0.0, 0.0)
    C_model = C.copy()
    C_model[0, 1] = C_model[1, 0] = 0.5
    assert ws.missed_pairs((m, C), (m, C_model), threshold=0.2) == (pytest.approx(1 / 3), 0.5)


def test_coupling_spread_fractions_and_correlation_levels():
    J = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, -3.0], [0.0, -3.0, 0.0]])
    h = np.array([0.5, -0.5, 1.0])
    couplings = np.array([1.0, 0.0, -3.0])
    assert ws.coupling_spread(J, h) == pytest.approx((couplings.std(), 4 / 3, 2 / 3), rel=1e-15)
    assert ws.zero_coupling_fraction(J) == pytest.approx(1 / 3)
    assert ws.spread_rows({"ITR": ws.coupling_spread(J, h)})[0][:2] == ["ITR", "1.6997"]
    spins = np.random.default_rng(2).choice([-1, 1], size=(400, 60)).astype(np.int8)
    r = np.corrcoef(spins.T.astype(float))
    assert ws.mean_abs_correlation(spins) == pytest.approx(np.abs(r[np.triu_indices(60, 1)]).mean(), rel=1e-12)
    # sampling noise alone: |r| of independent spins averages sqrt(2 / (pi G))
    assert ws.mean_abs_correlation(spins) == pytest.approx(ws.independent_correlation_level(400), rel=0.05)


@pytest.mark.parametrize("values, decided, verdict", [
    ({"ITR": 0.1, "LB": 0.2, "RB": 0.3}, True, True), ({"ITR": 0.25, "LB": 0.2, "RB": 0.3}, True, False),
    ({"ITR": 0.1, "LB": 0.2, "RB": 0.3}, False, None)])
def test_least_of_regions(values, decided, verdict):
    assert ws.least_of_regions(values, "ITR", ["LB", "RB"], decided) is verdict


def test_energy_accuracy_puts_each_configuration_under_the_model_of_its_polarity():
    kept = planted(n_networks=40)
    model = ws.region_model("under", kept, "RB", OPTIONS, n_repeats=3, seed=0)
    mixture = ws.polarity_mixture(model, OPTIONS)
    rows, accuracy = ws.even_subset(len(kept.accuracy), 50), kept.accuracy.numpy()
    drawn = [ising.sample_exact(f.J, f.h, 100, seed=0) for f in mixture.fits]
    sides = ws.energy_accuracy(model, mixture, drawn, accuracy, rows)
    assert [s.label for s in sides] == ["polarity 1", "polarity 2"]
    assert sum(len(s.energies) for s in sides) == len(rows)
    first = mixture.labels[rows]
    assert np.allclose(sides[0].energies, ising.energy_density(model.samples[rows][first], *mixture.fits[0]))
    assert np.array_equal(sides[1].accuracy, accuracy[rows][~first])
    assert sides[1].typical == pytest.approx(ising.energy_density(drawn[1], *mixture.fits[1]).mean(), rel=1e-15)
    single, = ws.energy_accuracy(model, None, drawn[:1], accuracy, rows)
    assert np.allclose(single.energies, ising.energy_density(model.samples[rows], *model.fit))


def test_mixture_moments_of_monte_carlo_samples_are_the_pooled_moments():
    rng = np.random.default_rng(3)
    parts = [rng.choice([-1, 1], size=(n, 5)).astype(np.int8) for n in (30, 90)]
    weights = np.array([30, 90]) / 120
    pooled = ising.sample_moments(np.concatenate(parts))
    mixed = ws.monte_carlo_moments(parts, weights)
    assert np.allclose(mixed[0], pooled[0], atol=1e-14) and np.allclose(mixed[1], pooled[1], atol=1e-14)
    triplets = ising.random_triplets(5, 10, 0)
    chains = [np.arange(len(part)) % 10 for part in parts]  # ten chains per component
    value, error = ws.model_three_point(parts, chains, weights, triplets)
    assert np.allclose(value, ising.three_point_correlations(np.concatenate(parts), triplets), atol=1e-14)
    single = ws.model_three_point(parts[:1], chains[:1], None, triplets)
    assert np.array_equal(single[0], ising.three_point_correlations(parts[0], triplets))
    assert error.shape == (10,) and np.all(error > 0)


def test_three_point_test_credits_the_true_model_and_not_the_independent_one():
    rng = np.random.default_rng(4)
    n = 6
    J = np.triu(rng.normal(0, 0.6, (n, n)), 1)
    J, h = J + J.T, rng.normal(0.4, 0.2, n)
    data = ising.sample_exact(J, h, 20000, seed=1)
    true_model = ising.sample_exact(J, h, 20000, seed=2)
    independent = np.where(rng.random((20000, n)) < (1 + data.mean(0)) / 2, 1, -1).astype(np.int8)
    chains = {name: [np.arange(20000) % 40] for name in ("true", "independent spins")}  # exact draws: 40 blocks
    test = ws.three_point_test(data, np.arange(20000) % 40, {"true": [true_model], "independent spins": [independent]},
                               chains, {}, 20, 2.0, seed=0)
    assert test.fractions["true"] >= 0.8 and test.nontrivial_share > 0.3
    assert test.nontrivial_fractions["true"] > test.nontrivial_fractions["independent spins"]
    assert set(test.predictions) == {"true", "independent spins"}
    assert len(test.row("LB", ["true", "mixture"])) == len(ws.three_point_columns(["true", "mixture"]))
    assert test.row("LB", ["true", "mixture"])[3] == "-"  # the mixture was not tested


@pytest.mark.parametrize("fraction, share, decided, verdict", [
    (0.6, 0.05, True, True), (0.4, 0.05, True, False), (0.9, 0.005, True, None), (0.6, 0.05, False, None)])
def test_predicts_three_point_asks_for_half_of_the_nontrivial_triplets(fraction, share, decided, verdict):
    assert ws.predicts_three_point(fraction, share, decided) is verdict


def test_monte_carlo_rows_cycle_through_the_chains():
    sampler = ws.MonteCarlo(12, 4, 0, 1, 0)
    assert list(sampler.chains(np.zeros((6, 3)))) == [0, 1, 2, 3, 0, 1]


@pytest.fixture(scope="module")
def tiny_task():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(280, 6, generator=g)
    y = (x @ torch.randn(6, 10, generator=g)).argmax(1)
    return SimpleNamespace(x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:])


def test_trained_scenarios_keep_a_quantile_of_their_draws_and_map_them(tiny_task):
    chosen = {"under": ((6, 4, 4, 10), 200), "shallow": ((6, 10), 200)}
    ensembles = ws.train_scenarios(chosen, tiny_task, n_networks=6, epochs={"under": 1, "shallow": 1}, lr=0.3, seed=0)
    assert ensembles["shallow"].widths == (6, 10) and ensembles["under"].n_networks == 6
    kept = ws.kept_configurations(ensembles["under"], tiny_task.x_test, tiny_task.y_test, 5, 0.2, seed=0)
    assert kept.n_drawn == 30 and 24 <= len(kept.configurations.accuracy) <= 30
    assert bool((kept.configurations.accuracy >= kept.threshold).all()) and 0 < kept.mean_abs_mu < 1
    best = ws.kept_configurations(ensembles["under"], tiny_task.x_test, tiny_task.y_test, 5, 0.2, seed=0, best_only=True)
    networks = best.configurations.network
    assert best.n_drawn == 6 and networks.unique().numel() == len(networks) >= 4  # one per network, the paper's count
    assert float(best.configurations.accuracy.min()) >= float(kept.configurations.accuracy.min())
    found = ws.configuration_map(ensembles["under"], kept.configurations, 4, seed=0)
    assert found.n_initial == 4 and found.embedding.shape == (8, 2) and 0 < found.explained <= 1
    assert found.learned_projection.shape == (4,) and 0.3 < found.hamming_initial < 0.7
    mean_field, flipped = ws.flip_accuracies(ensembles["under"], tiny_task.x_test, tiny_task.y_test)
    assert 0 <= mean_field <= 1 and 0 <= flipped <= 1


def test_bimodality_tells_two_modes_from_one():
    rng = np.random.default_rng(5)
    two = np.concatenate([rng.normal(-3, 1, 50), rng.normal(3, 1, 50)])
    found = ws.bimodality(two, n_bootstrap=100, seed=0)
    assert found.delta_bic > 10 and found.p_value == pytest.approx(1 / 101) and ws.is_bimodal(found)
    one = ws.bimodality(rng.normal(0, 1, 100), n_bootstrap=100, seed=0)
    assert one.delta_bic < 0 and one.p_value > 0.05 and not ws.is_bimodal(one)
    skewed = ws.Bimodality(delta_bic=-8.8, p_value=0.005, n_bootstrap=200)  # non-Gaussian, yet BIC prefers one mode
    assert not ws.is_bimodal(skewed)


def test_a_region_is_split_only_when_its_networks_are_bimodal_along_the_mode():
    two = ws.region_model("under", planted(), "LB", OPTIONS, n_repeats=3, seed=0)
    test = ws.polarity_test(two, n_bootstrap=100, seed=0)
    assert ws.is_bimodal(test) and "two polarities: split" in ws.split_reason(two, test)
    flat = ws.region_model("under", planted(polarities=False), "LB", OPTIONS, n_repeats=3, seed=0)
    assert ws.polarity_test(flat, n_bootstrap=100, seed=0) is None
    assert "no collective mode" in ws.split_reason(flat, None)
