import numpy as np
import pytest

from adaptsym import region_structure as rs
from adaptsym.weight_space import Bimodality


def grouped_fields(n_rows, n_columns, by, noise, seed=0, spacing=0.1):
    """Fields with one well-separated value per column (or row) plus Gaussian noise, row-major."""
    rng = np.random.default_rng(seed)
    levels = spacing * np.arange(n_columns if by == "column" else n_rows)
    matrix = levels[None, :] if by == "column" else levels[:, None]
    return (matrix + noise * rng.normal(size=(n_rows, n_columns))).ravel()


def test_resolved_groups_give_one_peak_per_unit():
    groups = rs.field_groups(grouped_fields(15, 20, "column", noise=0.005), 15, 20, "column")
    assert groups.n_groups == 20 and groups.n_peaks == 20
    assert groups.within == pytest.approx(0.005, rel=0.15) and groups.spacing == pytest.approx(0.1, rel=0.02)
    assert groups.share > 0.99 > groups.null_share
    assert rs.peaks_match_units(groups) is True and rs.grouped_by_unit(groups)


def test_rows_are_the_groups_of_the_readout():
    groups = rs.field_groups(grouped_fields(10, 15, "row", noise=0.005), 10, 15, "row")
    assert groups.n_groups == 10 and groups.n_peaks == 10 and rs.peaks_match_units(groups) is True
    assert rs.field_groups(grouped_fields(10, 15, "row", noise=0.005), 10, 15, "column").share < 0.1


def test_noise_wider_than_the_spacing_leaves_the_peak_count_undecided():
    groups = rs.field_groups(grouped_fields(15, 20, "column", noise=0.2), 15, 20, "column")
    assert groups.within > groups.spacing / 2 and rs.peaks_match_units(groups) is None


def test_unstructured_fields_are_not_grouped_and_a_wrong_count_disagrees():
    rng = np.random.default_rng(1)
    unstructured = rs.field_groups(rng.normal(size=300), 15, 20, "column")
    assert not rs.grouped_by_unit(unstructured)
    levels = 0.1 * np.concatenate([np.arange(14), np.arange(6)])  # 20 inputs, six sharing a level with another
    merged = rs.field_groups((levels[None, :] + 0.001 * rng.normal(size=(15, 20))).ravel(), 15, 20, "column")
    assert merged.within < merged.spacing / 2 and merged.n_peaks == 14 and rs.peaks_match_units(merged) is False


def test_density_peaks_counts_separated_modes():
    values = np.concatenate([np.full(50, -1.0), np.full(50, 1.0)]) + 0.01 * np.random.default_rng(2).normal(size=100)
    assert rs.density_peaks(values, 0.05) == 2 and rs.density_peaks(values, 3.0) == 1
    with pytest.raises(ValueError, match="positive"):
        rs.density_peaks(values, 0.0)


def test_field_groups_rejects_bad_shapes_and_groupings():
    with pytest.raises(ValueError, match="do not fill"):
        rs.field_groups(np.zeros(10), 3, 4, "row")
    with pytest.raises(ValueError, match="by"):
        rs.field_groups(np.zeros(12), 3, 4, "diagonal")


def test_independent_polarities_agree_by_chance_and_locked_ones_do_not():
    rng = np.random.default_rng(3)
    a = rng.choice([-1.0, 1.0], 500)
    independent = rs.polarity_concordance(a, rng.choice([-1.0, 1.0], 500))
    assert 0.4 < independent.fraction < 0.6 and rs.layers_weakly_interact(independent) is True
    flip = np.where(rng.random(500) < 0.03, -1.0, 1.0)
    locked = rs.polarity_concordance(a, -a * flip)  # opposite mode signs: agreement counted up to the sign
    assert locked.fraction > 0.95 and locked.p_value < 1e-50 and rs.layers_weakly_interact(locked) is False
    assert rs.layers_weakly_interact(None) is None
    with pytest.raises(ValueError, match="one projection per network"):
        rs.polarity_concordance(a, a[:10])


def test_mean_abs_and_the_boundary_units():
    assert rs.mean_abs([-0.4, 0.2]) == pytest.approx(0.3)
    assert rs.boundary_units("LB", (20, 15, 15, 10)) == (15, 20, "column")  # W1 (hidden, inputs): one group per input
    assert rs.boundary_units("RB", (20, 15, 15, 10)) == (10, 15, "row")  # W3 (outputs, hidden): one per output
    with pytest.raises(ValueError, match="region"):
        rs.boundary_units("ITR", (20, 15, 15, 10))


def test_one_component_means_not_bimodal():
    assert rs.one_component(Bimodality(-3.0, 0.5, 100)) and rs.one_component(Bimodality(5.0, 0.2, 100))
    assert not rs.one_component(Bimodality(30.0, 1 / 101, 100))


def test_layer_concordances_compare_the_polarities_of_split_scenarios_only():
    from types import SimpleNamespace

    rng = np.random.default_rng(4)
    signs = rng.choice([-1.0, 1.0], 40)
    groups = np.repeat(np.arange(40), 3)  # three draws per network

    def region(polarity):  # every draw of a network is its polarity times a fixed pattern, plus noise
        pattern = np.ones(6) / np.sqrt(6)
        samples = np.sign(polarity[groups, None] * pattern + 0.1 * rng.normal(size=(120, 6)))
        return SimpleNamespace(samples=samples, groups=groups, mode=(3.0, pattern))

    models = {("under", "LB"): region(signs), ("under", "RB"): region(-signs),
              ("over", "LB"): region(signs), ("over", "RB"): region(signs)}
    found = rs.layer_concordances(models, {("under", "LB"), ("under", "RB"), ("over", "LB")})
    assert found["under"].agreeing == 40 and found["under"].fraction == 1.0 and found["over"] is None


def test_field_groups_are_recorded_as_the_papers_count_and_our_grouping():
    from adaptsym.claims import Ledger

    ledger = Ledger("7 ising", "smoke")
    rs.record_field_groups(ledger, rs.field_groups(grouped_fields(10, 15, "row", noise=0.005), 10, 15, "row"), "RB",
                           "planted")
    (peaks, grouped) = ledger.claims
    assert peaks.kind == "paper" and peaks.measured == 10 and peaks.verdict == "agrees" and "outputs" in peaks.name
    assert grouped.kind == "ours" and grouped.verdict == "agrees" and grouped.measured > 0.99
