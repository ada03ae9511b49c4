"""Hidden-node permutation symmetry of the weight ensembles (Zou & Huang §IV.5, Appendix J, Fig. 10).

Exchanging two hidden units of a layer together with their incoming and outgoing weights (rows of W^l,
the matching columns of W^{l+1}) does not change the network's function (App. J). Zou & Huang take each
configuration to its *generating configuration* sigma_g = P sigma, the hidden units of each layer ranked
by their mean pre-activation over the test inputs of one class, in descending order
(:func:`generating_configurations`); two configurations with the same generating configuration are
permutation-dependent. Their collected configurations are all permutation-independent, so they introduce
the symmetry by hand: M_p of the M configurations, chosen at random, are each paired with a randomly
permuted copy, the copies added to the M, and the *permutation symmetry ratio* is the share of
permutation-dependent configurations, rho = 2 M_p / (M + M_p) (App. J; :func:`permute_hidden_units`).
Fig. 10: the entropy profile of the effective model grows with rho, keeping its shape and its close-by
regime.

The symmetry has something to add only to ranked data: trained from independent random fields, the
ensemble's distribution is already invariant under hidden-unit permutations (every unit's row of W1 is
alike in law). The authors' Fig. 10 data (their repository's ``task/Permutation/data``) are ranked: at
rho = 0 the magnetisations of the rows of W1 fall with the rank of the unit, where those of their
original ensemble are equal. :func:`permutation_ensemble` does the same: rank, then pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from adaptsym import binary, ising, landscape
from adaptsym import weight_space as ws
from adaptsym.device import as_generator
from adaptsym.ensembles import region_samples
from adaptsym.models import count_weights

_CHUNK = 1024  # configurations whose hidden pre-activations are held in memory at once


def _check_configurations(configurations: torch.Tensor, widths: tuple[int, ...]) -> torch.Tensor:
    configurations = torch.as_tensor(configurations)
    if configurations.ndim != 2 or configurations.shape[1] != count_weights(widths):
        raise ValueError(f"configurations of widths {widths} must be (M, {count_weights(widths)}); got shape "
                         f"{tuple(configurations.shape)}")
    return configurations


def _permute_layer(matrices: list[torch.Tensor], layer: int, p: torch.Tensor) -> None:
    """Reorder the units of hidden layer ``layer`` + 1 in place: rows of W^l, columns of W^{l+1} (p: (M, n))."""
    rows, columns = matrices[layer], matrices[layer + 1]
    matrices[layer] = rows.gather(1, p[:, :, None].expand(-1, -1, rows.shape[2]))
    matrices[layer + 1] = columns.gather(2, p[:, None, :].expand(-1, columns.shape[1], -1))


def permute_units(configurations: torch.Tensor, widths: Sequence[int],
                  permutations: Sequence[torch.Tensor]) -> torch.Tensor:
    """Configurations (M, N) (flattened as :func:`adaptsym.binary.flatten_configurations`) with the hidden
    units of each hidden layer l reordered by ``permutations[l - 1]`` (M, widths[l]): new unit i of
    configuration k is its old unit permutations[l - 1][k, i], so row i of W^l becomes old row p[i] and
    column i of W^{l+1} old column p[i] (App. J: sigma -> P sigma). The function is unchanged."""
    widths = binary.check_widths(widths)
    configurations = _check_configurations(configurations, widths)
    hidden = widths[1:-1]
    if len(permutations) != len(hidden) or any(tuple(p.shape) != (len(configurations), n)
                                               for p, n in zip(permutations, hidden)):
        raise ValueError(f"need one permutation (M, width) per hidden layer, widths {hidden} for M = "
                         f"{len(configurations)}; got shapes {[tuple(p.shape) for p in permutations]}")
    matrices = binary.unflatten_configurations(configurations, widths)
    for layer, p in enumerate(permutations):
        _permute_layer(matrices, layer, p)
    return binary.flatten_configurations(matrices)


def random_permutations(n: int, widths: Sequence[int], generator: torch.Generator | int) -> list[torch.Tensor]:
    """``n`` independent uniformly random permutations (n, widths[l]) of each hidden layer's units."""
    generator = as_generator(generator)
    return [torch.rand(n, width, generator=generator).argsort(1) for width in binary.check_widths(widths)[1:-1]]


def _stable_descending(order: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """``order`` (M, n) re-sorted stably by descending ``key`` (M, n) (one value per unit, in unit order)."""
    return order.gather(1, torch.argsort(key.gather(1, order), dim=1, descending=True, stable=True))


def _rank_units(incoming: torch.Tensor, outgoing: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """The order (M, n) of a hidden layer's units by descending ``values`` (M, n), their mean pre-activations.
    Units with identical incoming weights (rows of ``incoming``, (M, n, in)) tie exactly: they are given the
    same value and ordered by their outgoing weights (columns of ``outgoing``, (M, out, n)), lexicographically
    descending, so the ranking does not depend on the order the units came in."""
    same = (incoming[:, :, None, :] == incoming[:, None, :, :]).all(-1)
    values = values.gather(1, same.int().argmax(-1))  # the value of the first unit with the same row
    order = torch.arange(values.shape[1]).expand_as(values)
    for k in reversed(range(outgoing.shape[1])):
        order = _stable_descending(order, outgoing[:, k, :])
    return _stable_descending(order, values)


def generating_configurations(configurations: torch.Tensor, widths: Sequence[int], x: torch.Tensor) -> torch.Tensor:
    """The generating configuration of each configuration (App. J): the hidden units of every hidden layer
    ranked by their mean pre-activation over the inputs ``x`` (n, d_in), in descending order. ``x`` is the
    test inputs of one class (the paper's inputs of one digit; their code uses the digit 1). Units with
    identical incoming weights tie; they are ordered by their outgoing weights, the layers ranked from the
    last hidden one back, so that every permutation of a configuration has the same generating
    configuration (:func:`_rank_units`)."""
    widths = binary.check_widths(widths)
    configurations = _check_configurations(configurations, widths)
    x = x.to(torch.float64)
    ranked = []
    for chunk in configurations.split(_CHUNK):
        matrices = binary.unflatten_configurations(chunk, widths)
        values = [binary.binary_forward(matrices[:layer + 1], x).mean(-2) for layer in range(len(widths) - 2)]
        for layer in reversed(range(len(widths) - 2)):
            _permute_layer(matrices, layer, _rank_units(matrices[layer], matrices[layer + 1], values[layer]))
        ranked.append(binary.flatten_configurations(matrices))
    return torch.cat(ranked) if ranked else configurations


@dataclass(frozen=True)
class Paired:
    """Configurations after :func:`permute_hidden_units`: the ``n_originals`` originals, then the permuted
    copies; ``source`` the row of the original each row is or copies, ``groups`` the group label of each row
    (an original keeps its own, the copies of a group get a new one)."""

    weights: torch.Tensor
    source: torch.Tensor
    groups: torch.Tensor
    n_originals: int

    @property
    def ratio(self) -> float:
        """The permutation symmetry ratio rho = 2 M_p / (M + M_p) of App. J, M_p the copies."""
        return 2 * (len(self.source) - self.n_originals) / len(self.source)


def copies_for(ratio: float, n: int) -> int:
    """M_p = round(rho / (2 - rho) M): the copies that make rho the share of permutation-dependent
    configurations among the M + M_p (App. J)."""
    if not 0 <= ratio <= 1:
        raise ValueError(f"the permutation symmetry ratio must lie in [0, 1]; got {ratio}")
    return round(ratio / (2 - ratio) * n)


def permute_hidden_units(configurations: torch.Tensor, widths: Sequence[int], fraction: float, seed: int,
                         groups: torch.Tensor | None = None) -> Paired:
    """App. J's construction with permutation symmetry ratio rho = ``fraction``: M_p = :func:`copies_for`
    (rho, G) of the G groups of configurations (``groups``, one label per row, e.g. the network each was
    drawn from; default: each configuration alone), chosen at random, get a copy with the hidden units of
    every hidden layer independently and uniformly permuted (one permutation per group), appended after the
    originals. rho = 0 returns the configurations unchanged; rho = 1 pairs every group."""
    widths = binary.check_widths(widths)
    configurations = _check_configurations(configurations, widths)
    labels = torch.arange(len(configurations)) if groups is None else torch.as_tensor(groups)
    if not len(configurations) or labels.shape != (len(configurations),):
        raise ValueError(f"need configurations and one group label per configuration ({len(configurations)}); "
                         f"got shape {tuple(labels.shape)}")
    _, index = torch.unique(labels, return_inverse=True)
    n_groups = int(index.max()) + 1
    n_copies = copies_for(fraction, n_groups)
    generator = as_generator(seed)
    position = torch.full((n_groups,), -1)
    position[torch.randperm(n_groups, generator=generator)[:n_copies].sort().values] = torch.arange(n_copies)
    permutations = random_permutations(n_copies, widths, generator)
    rows = torch.nonzero(position[index] >= 0).flatten()
    copies = permute_units(configurations[rows], widths, [p[position[index[rows]]] for p in permutations])
    new_labels = labels.max() + 1 + position[index[rows]]
    return Paired(torch.cat([configurations, copies]), torch.cat([torch.arange(len(configurations)), rows]),
                  torch.cat([labels, new_labels.to(labels.dtype)]), len(configurations))


@dataclass(frozen=True)
class PermutationEnsemble:
    """A Fig. 10 ensemble: the generating configurations of an ensemble's configurations with a share
    ``ratio`` of them paired by permuted copies (each network's copy a new network), and for each row the
    ``origin`` network it was drawn from (a copy's origin is its source's)."""

    configurations: binary.Configurations
    origin: torch.Tensor
    ratio: float


def permutation_ensemble(configurations: binary.Configurations, x: torch.Tensor, fraction: float,
                         seed: int) -> PermutationEnsemble:
    """App. J on Chapter 7's configurations: rank every configuration (:func:`generating_configurations` on
    the inputs ``x``), then pair a share ``fraction`` of the *networks* (all draws of a chosen network get
    the same permutation) with permuted copies (:func:`permute_hidden_units`)."""
    ranked = generating_configurations(configurations.weights, configurations.widths, x)
    paired = permute_hidden_units(ranked, configurations.widths, fraction, seed, configurations.network)
    kept = binary.Configurations(configurations.widths, paired.weights, configurations.accuracy[paired.source],
                                 paired.groups)
    return PermutationEnsemble(kept, configurations.network[paired.source], paired.ratio)


def permutation_models(configurations: binary.Configurations, x: torch.Tensor, fractions: Sequence[float],
                       region: str, seed: int, n_samples: int, l1: float,
                       max_iter: int) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Fig. 10's effective models: for each permutation symmetry ratio, the pseudolikelihood model (J, h)
    (appendix E; cached, :func:`adaptsym.ensembles.fitted_pseudolikelihood`) of ``region`` of the
    :func:`permutation_ensemble`, fitted on ``n_samples`` of its configurations spread evenly over them."""
    return {fraction: ws.pseudolikelihood_models(permutation_ensemble(configurations, x, fraction, seed).configurations,
                                                 [region], n_samples, l1, max_iter)[region]
            for fraction in fractions}


def entropy_profiles(models: dict[float, tuple[np.ndarray, np.ndarray]], refs,
                     xs) -> dict[tuple[float, int], landscape.Landscape]:
    """Fig. 10: the entropy landscape (:func:`adaptsym.landscape.entropy_landscape`) of each ratio's model
    around each reference of ``refs`` (R, N) (±1 configurations of the region), swept over ``xs``;
    (ratio, reference index) -> Landscape."""
    refs = np.atleast_2d(np.asarray(refs))
    return {(fraction, k): landscape.entropy_landscape(J, h, ref, xs)
            for fraction, (J, h) in models.items() for k, ref in enumerate(refs)}


@dataclass(frozen=True)
class PolarityCheck:
    """Chapter 7's two-polarity test on one region of an ensemble: the leading eigenvalue of its correlation
    matrix against the noise edge of its number of networks, and the bimodality of the networks' mean
    projections on the leading eigenvector (:func:`adaptsym.weight_space.bimodality`)."""

    eigenvalue: float
    noise_edge: float
    bimodality: ws.Bimodality

    @property
    def bimodal(self) -> bool:
        """A mode beyond the noise edge along which the networks are bimodal (:func:`adaptsym.weight_space.is_bimodal`)."""
        return self.eigenvalue > self.noise_edge and ws.is_bimodal(self.bimodality)


def polarity_check(configurations: binary.Configurations, region: str, groups, n_bootstrap: int,
                   seed: int) -> PolarityCheck:
    """:class:`PolarityCheck` of ``region``, one projection per group of ``groups`` (one label per row): pass
    a :class:`PermutationEnsemble`'s ``origin`` so that a network and its permuted copy count once, as
    the same network (the rule of :func:`adaptsym.weight_space.polarity_test`, which counts networks)."""
    samples, groups = region_samples(configurations, region), np.asarray(groups)
    value, vector = ising.leading_mode(samples)
    edge = ising.noise_edge(samples.shape[1], len(np.unique(groups)))
    projections = ising.group_mean_projection(samples, groups, vector)
    return PolarityCheck(value, edge, ws.bimodality(projections, n_bootstrap, seed))


ENTROPY_GROWTH_CRITERION = "s at x = 0 (no coupling to the reference) increases with the ratio for every reference"


def entropy_grows_with_ratio(profiles: dict[tuple[float, int], landscape.Landscape], at: float = 0.0) -> bool:
    """Verdict of "increasing the permutation symmetry fraction leads to an enlarged entropy profile" (§IV.5,
    Fig. 10): for every reference, the entropy at the coupling field nearest ``at`` increases strictly with
    the ratio (profiles as :func:`entropy_profiles` returns them)."""
    refs = {k for _, k in profiles}
    entropies = {k: [found.s[found.nearest(at)] for (_, ref), found in sorted(profiles.items())
                     if ref == k] for k in refs}
    return bool(all(np.all(np.diff(values) > 0) for values in entropies.values()))
