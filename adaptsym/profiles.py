"""The book's chapters and their parameter sets per profile: the one place that defines both.

A *profile* names a scale of computation:

- ``smoke``: every chapter well under a minute on a laptop CPU; used by the tests.
- ``quick``: the default; the whole book in under 30 minutes on 2 CPU cores, with figures that show the
  phenomena.
- ``paper``: the papers' scale, meant for one GPU.

Each chapter declares the value of every parameter under every profile.  A chapter's notebook has a
``parameters`` cell holding the ``quick`` values, so a reader who opens it in Jupyter gets the default run;
papermill injects the chosen profile's values (plus any overrides) after that cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from adaptsym.checks import check_choice

PROFILES = ("smoke", "quick", "paper")
DEFAULT_PROFILE = "quick"
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Chapter:
    """One chapter of the book: its number, slug, title, source notebook and parameters per profile."""

    number: int
    slug: str
    title: str
    source: str
    parameters: Mapping[str, Mapping[str, Any]] = field(repr=False)

    @property
    def stem(self) -> str:
        """File stem shared by the source notebook and its executed copies, e.g. ``01_umwelt``."""
        return Path(self.source).stem

    @property
    def source_path(self) -> Path:
        return REPO_ROOT / self.source

    def parameter_names(self) -> list[str]:
        return list(self.parameters[DEFAULT_PROFILE])


def _umwelt_parameters() -> dict[str, dict[str, Any]]:
    quick = {
        "maxent_n": 8,  # gates h in {0,1}^n, enumerated exactly (eq. 1)
        "maxent_inputs": 3,  # dimension of the observed input x in the constraints
        "maxent_contexts": 40,  # number of observed inputs the constraints average over
        "maxent_logit_rms": 3.0,  # RMS gate logit of the in-family teachers whose constraints bind (eqs. 1-3, 4)
        "depths": [1, 2, 3, 4, 5, 6],  # depths for eqs. 4-6 and the parameter counts
        "width": 20,  # layer width for the parameter counts
        "tied_widths": [2, 3, 4, 6],  # gates per scale of the hierarchies whose tied fit (eq. 4) is costed
        "tied_depth": 3,  # scales of those hierarchies (the full tensor at scale s has maxent_inputs * width^s rows)
        "tied_contexts": 400,  # observed inputs of those hierarchies
        "dataset": "fashion-mnist",
        "positive": [0, 2, 4, 6],  # classes labelled +1 (tops); the rest -1
        "pca_k": 10,
        "n_train": 2000,
        "n_examples": 200,  # test inputs on which gate laws are measured
        "gate_hidden": [32, 32],  # hidden widths of the network for eq. 7
        "train_epochs": 30,
        "temperatures": [3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 3e-5, 1e-5],
        "tiny_hidden": [4, 4, 4],  # hidden widths of the network whose marginals are summed exactly (eq. 8)
        "seed": 0,
    }
    smoke = dict(quick, maxent_n=4, maxent_inputs=2, maxent_contexts=10, depths=[1, 2, 3], tied_widths=[2, 3],
                 tied_depth=2, tied_contexts=100, n_train=300, n_examples=20, train_epochs=2,
                 temperatures=[1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5], tiny_hidden=[3, 3, 3])
    # §II.1 reports no experiment, so this is not the papers' scale: the same exact computations at the largest
    # sizes they stay affordable (2^12 gate states in the primal and dual solves, hierarchies up to 6 gates x 4
    # scales, exact marginals over 2^18 joint gate states) and the eq. 7 network trained on all of Fashion-MNIST.
    paper = dict(quick, maxent_n=12, maxent_inputs=4, maxent_contexts=100, tied_widths=[2, 3, 4, 5, 6], tied_depth=4,
                 tied_contexts=2000, n_train=60000, n_examples=2000, gate_hidden=[256, 256], train_epochs=100,
                 tiny_hidden=[6, 6, 6])
    return {"smoke": smoke, "quick": quick, "paper": paper}


def _stochastic_parameters() -> dict[str, dict[str, Any]]:
    quick = {
        "dataset": "fashion-mnist",
        "positive": [0, 2, 4, 6],  # classes labelled +1 (tops); the rest -1
        "pca_k": 10,
        "n_train": 2000,
        "n_test": 500,
        "hidden": [32, 32],  # hidden widths of the network sampled and trained
        "temperatures": [3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 1e-5, 1e-6, 1e-8],
        "n_samples": 200,  # stochastic networks drawn per input and temperature
        "n_draws": 5,  # E-steps per temperature for the gradient gap
        "em_depths": [1, 2, 3, 4],  # numbers of hidden layers of the random networks in the EM identity
        "train_temperatures": [1.0, 0.3, 0.1, 0.03],  # temperatures of stochastic training (besides T = 0)
        "train_epochs": 10,  # few enough that hot E-steps still show in the ReLU risk
        "train_seeds": 4,  # runs per temperature, for the seed-to-seed spread of the final risk
        "lr": 0.05,
        "batch_size": 100,
        "em_hidden": [5, 5],  # hidden widths of the network whose 2^10 joint gate states are enumerated (§II.2)
        "em_n": 300,  # training inputs on which log mu_L(y|x) and its bounds are computed exactly
        "em_temperatures": [2.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01],
        "em_low_temperature": 0.1,  # Li's "degenerated low temperature setting": T at or below this
        "em_steps": 400,  # full-batch gradient steps of the hinge and logistic M-steps
        "em_lr": 0.2,
        "em_every": 20,  # steps between exact evaluations of log mu_L(y|x)
        "fe_inputs": 4,  # inputs whose gate layers' fields test eq. 9 against random laws and a numerical minimiser
        "fe_random": 200,  # random laws per field vector and temperature
        "teacher_dim": 5,  # synthetic environment of §II.3: x ~ N(0, I), mu(y=+1|x) = sigmoid(scale * teacher(x))
        "teacher_hidden": [8],
        "teacher_scale": 1.0,  # label noise: S(y|x) is about 0.51 nats at scale 1
        "teacher_n": [100, 5000],  # training-sample sizes of the students
        "teacher_population": 10000,  # fresh inputs on which risks are averaged exactly over y
        "student_hidden": [32],
        "teacher_steps": 1500,  # full-batch Adam steps on the logistic risk
        "teacher_lr": 0.01,
        "teacher_every": 50,
        "seed": 0,
    }
    smoke = dict(quick, n_train=300, n_test=100, temperatures=[1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-6, 1e-8],
                 n_samples=20, n_draws=2, em_depths=[1, 3], train_temperatures=[1.0, 0.03], train_epochs=20,
                 train_seeds=4, em_hidden=[3, 3], em_n=100, em_temperatures=[2.0, 0.5, 0.1, 0.01], em_steps=60,
                 em_every=20, fe_inputs=2, fe_random=50, teacher_n=[50, 2000], teacher_population=2000,
                 teacher_steps=300)
    # §II.2-3 report no experiment at scale, so this is not the papers' scale: it is the quick run made larger (the
    # full training set, wider networks, more samples and seeds, 2^12 enumerated gate states), meant for one GPU.
    paper = dict(quick, n_train=60000, n_test=2000, hidden=[256, 256], n_samples=1000, n_draws=20,
                 train_epochs=30, train_seeds=10, em_hidden=[6, 6], em_n=2000, em_steps=2000, em_every=50,
                 fe_inputs=20, teacher_n=[100, 1000, 20000], teacher_population=50000, teacher_steps=5000)
    return {"smoke": smoke, "quick": quick, "paper": paper}


def _circuits_parameters() -> dict[str, dict[str, Any]]:
    quick = {
        "dataset": "fashion-mnist",
        "positive": [0, 2, 4, 6],  # classes labelled +1 (tops); the rest -1
        "pca_k": 8,
        "n_train": 1000,
        "n_check": 20,  # test inputs on which the identities are checked
        "diagram_hidden": [5, 5],  # the network drawn as Fig. 2
        "identity_hidden": [8, 8],  # the network whose gradient and Hessian are checked
        "hessian_pairs": 2000,  # weight pairs checked per input (all pairs if fewer)
        "loop_hidden": [16, 16],  # the network trained by the feedback-control loop (eq. 13)
        "loop_epochs": 300,  # full-batch gradient steps
        "loop_lr": 0.05,
        "loop_snapshots": [0, 5, 20, 60, 150, 300],
        "sample_width": 1000,  # a network with width^(depth-1) * pca_k circuits, sampled
        "sample_depth": 8,
        "n_sampled": 200000,
        "count_width": 100,
        "count_depths": [1, 2, 3, 4, 5, 6, 7, 8],
        "cancellation_depths": [2, 3, 4, 5, 6],  # weight layers of the random networks whose circuits' cancellation
        "cancellation_widths": [8, 16, 32, 64, 128],  # Σ|Ψ|/|ΣΨ| is measured (exactly, by factorised sums)
        "cancellation_networks": 20,  # random networks per (depth, width), each on the n_check test inputs
        "conv_channels": [3, 3],  # tiny bias-free CNN unrolled into an MLP
        "conv_image": 7,
        "seed": 0,
    }
    smoke = dict(quick, n_train=300, n_check=4, identity_hidden=[4, 4], hessian_pairs=10**6, loop_epochs=20,
                 loop_snapshots=[0, 5, 20], sample_width=200, n_sampled=20000, cancellation_depths=[2, 4, 6],
                 cancellation_widths=[8, 32, 128], cancellation_networks=16, conv_channels=[2, 2], conv_image=5)
    # §II.3 reports no experiment, so this is not the papers' scale: the same computations made larger (more test
    # inputs, a wider identity network, a longer loop on more data, more and wider random networks).
    paper = dict(quick, n_train=10000, n_check=100, identity_hidden=[16, 16], hessian_pairs=20000,
                 loop_hidden=[32, 32], loop_epochs=2000, loop_snapshots=[0, 10, 50, 200, 1000, 2000],
                 n_sampled=10**7, cancellation_depths=[2, 3, 4, 5, 6, 8, 10],
                 cancellation_widths=[8, 16, 32, 64, 128, 256, 512], cancellation_networks=100)
    return {"smoke": smoke, "quick": quick, "paper": paper}


def _ising_parameters() -> dict[str, dict[str, Any]]:
    quick = {
        "dataset": "fashion-mnist",  # the paper's Fig. 16 data set; the paper profile uses MNIST
        "pca_k": 20,
        "hidden": 15,  # deep scenarios: pca_k-hidden-hidden-10 (675 weights); shallow: pca_k-10
        "n_train": None,  # training images of the under-parameterised and shallow scenarios (None: all)
        "n_train_over": 500,  # the over-parameterised scenario: fewer examples than weights
        "n_test": 2000,  # test images that measure (and threshold) accuracies
        "n_networks": 512,  # networks trained per scenario
        "epochs": {"under": 2, "over": 100, "shallow": 2},
        "lr": 0.3,
        "draws_per_network": 16,  # binary networks drawn from each network's fields
        "threshold_quantile": 0.2,  # keep draws at or above this quantile of their test accuracy
        "best_only": False,  # True: only each network's most accurate draw (the paper's one configuration per network)
        "fit_regions": ["LB", "ITR", "RB"],  # regions of the deep nets fitted (the shallow net: FULL)
        "fit_lr": 0.002,
        "fit_momentum": 0.9,
        "fit_steps": 300,
        "fit_patience": 10,
        "bp_damping": 0.5,
        "bp_max_iter": 100,
        "pl_scenarios": ["under"],
        "pl_samples": 2048,  # configurations the pseudolikelihood sees (every row of a network is near-identical)
        "pl_l1": 0.01,
        "pl_max_iter": 300,
        "mc_samples": 4000,
        "mc_chains": 200,
        "mc_burn_in": 500,
        "mc_thin": 5,
        "n_triplets": 20000,
        "subset_samples": 8192,  # configurations (spread over the networks) in Figs. 3c and 12
        "criterion_k": 2.0,  # predicted: |data - model| <= k combined standard errors
        "single_methods": ["bp", "pl", "pl+mc"],  # single models of each region judged under Monte Carlo (+ "bp+lr")
        "pt_chains": 16,  # parallel tempering: chains, temperatures per chain, lowest inverse temperature
        "pt_temperatures": 4,
        "pt_beta_min": 0.5,
        "mc_fit_lr": 0.0005,  # Monte Carlo Boltzmann learning after the pseudolikelihood: first step size
        "mc_fit_steps": 200,
        "mc_fit_window": 50,  # steps per block whose averaged model is evaluated against the floor
        "mc_fit_burn_in": 100,  # tempering rounds before records, and records per chain
        "mc_fit_records": 300,
        "floor_repeats": 20,  # random halves of the networks behind the noise floor and its standard error
        "convergence_sizes": [8, 16, 32, 64, 128, 256],  # networks in the subsets of the convergence curve
        "convergence_repeats": 5,
        "tsne_points": 300,
        "depth_widths": [2, 5, 10, 15, 30],  # appendix G
        "depth_n_train": None,
        "depth_epochs": 2,
        "depth_networks": 8,
        "dd_widths": [1, 2, 4, 8, 16, 32, 64, 128],  # appendix F
        "dd_n_train": 500,
        "dd_epochs": 150,
        "dd_batch_size": 100,
        "dd_networks": 4,
        "dd_lr_real": 0.01,
        "split_bootstrap": 200,  # Gaussian resamples of the bimodality test that decides a split into polarities
        "zh_data": None,  # Zou & Huang's published data folder (None: $ADAPTSYM_ZH_DATA or ../shared/zou-huang)
        "zh_scenarios": ["under-para", "over-para", "shallow", "fashion"],
        "zh_bp_max_iter": 1000,
        "zh_bootstrap": 200,  # Gaussian resamples of the bimodality test
        "seed": 0,
    }
    # smoke: enough networks and steps for the LB/RB polarity mode to rise above the noise edge, so that
    # the two-polarity fits of the chapter run too; a smaller network (8-6-6-10: LB 48, ITR 36, RB 60 spins) so
    # that every region of the deep nets has fewer spins than the 64 networks and the claims are decided
    smoke = dict(quick, pca_k=8, hidden=6, n_train=2000, n_test=500, n_networks=64, epochs={"under": 3, "over": 10, "shallow": 2},
                 draws_per_network=4, fit_steps=20, fit_patience=5, bp_max_iter=50, pl_samples=64, pl_max_iter=20,
                 mc_samples=400, mc_chains=20, mc_burn_in=50, mc_thin=2, n_triplets=500,
                 convergence_sizes=[2, 4, 8], convergence_repeats=2, tsne_points=16, depth_widths=[2, 15],
                 depth_n_train=1000, depth_epochs=1, depth_networks=2, dd_widths=[2, 8], dd_n_train=200,
                 dd_epochs=5, dd_networks=2, split_bootstrap=100, zh_scenarios=["under-para"], zh_bp_max_iter=300,
                 zh_bootstrap=100, pt_chains=8, pt_temperatures=2, mc_fit_lr=0.002, mc_fit_steps=20, mc_fit_window=10,
                 mc_fit_burn_in=20, mc_fit_records=50, floor_repeats=5)
    # paper: the paper's protocol, one configuration (the best of 20 draws) per independently trained network, of
    # which threshold_quantile = 0.2 drops a fifth: 16000 independent configurations (the paper's 2e6 would need
    # 100x the networks; the count of networks, not of draws, is what resolves the moments)
    paper = dict(quick, dataset="mnist", n_test=None, n_networks=20000, epochs={"under": 20, "over": 600, "shallow": 20},
                 draws_per_network=20, best_only=True, single_methods=["bp", "bp+lr", "pl", "pl+mc"], pt_chains=32,
                 mc_fit_steps=800, mc_fit_records=600, fit_regions=["LB", "ITR", "RB", "FULL"], fit_steps=500, bp_max_iter=1000,
                 pl_scenarios=["under", "over"], pl_samples=20000, pl_max_iter=500, mc_samples=20000,
                 mc_burn_in=2000, mc_thin=10, n_triplets=50000, subset_samples=100000, convergence_sizes=[100, 300, 1000, 3000, 10000],
                 convergence_repeats=2, tsne_points=1000, depth_widths=[1, 2, 5, 10, 15, 20, 30, 50],
                 depth_n_train=None, depth_epochs=50, depth_networks=10,
                 dd_widths=[1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128], dd_n_train=1000, dd_epochs=1000,
                 dd_networks=10)
    return {"smoke": smoke, "quick": quick, "paper": paper}


def _reference_runs() -> dict[str, dict[str, Any]]:
    """The reference training run of Chapters 4-6 per profile (Li §I.1.3; built by :mod:`adaptsym.reference`).

    ``quick`` is a deep bias-free MLP (5 weight layers) on binary Fashion-MNIST pixels that reaches zero training
    hinge risk within the book's budget; ``paper`` is Li's 12-layer bias-free VGG (11 convolutions + 1 linear,
    ~1.2e7 weights) on binary CIFAR-10, for one GPU.  Plain SGD at a constant step, as the order parameter
    eta ||grad R||^2 of Fig. 4b assumes one step size.
    """
    quick = {
        "dataset": "fashion-mnist",
        "positive": [0, 2, 4, 6],  # tops (+1) against the rest (-1); CIFAR-10 uses vehicles against animals
        "n_train": 4000,
        "n_test": 1000,
        "model": "mlp",
        "hidden": [128, 128, 128, 128],
        "channels": [],  # CNN only
        "convs_per_block": 1,  # CNN only
        "image_size": 28,  # CNN only: images are zero-padded to this size
        "epochs": 150,
        "lr": 0.05,
        "momentum": 0.0,
        "batch_size": 100,
        "seed": 0,
        "dtype": "float32",
    }
    smoke = dict(quick, n_train=500, n_test=200, hidden=[32, 32, 32, 32], epochs=20, batch_size=50)
    paper = dict(quick, dataset="cifar10", n_train=None, n_test=2000, model="cnn", hidden=[],
                 channels=[64, 128, 256, 512, 512], convs_per_block=[2, 2, 2, 2, 3], image_size=32, epochs=300,
                 lr=0.01, momentum=0.9, batch_size=128)
    return {"smoke": smoke, "quick": quick, "paper": paper}


REFERENCE_RUNS = _reference_runs()

def _symmetry_parameters() -> dict[str, dict[str, Any]]:
    quick = {
        "reference": {},  # overrides of the reference run's settings (profiles.REFERENCE_RUNS)
        "n_boot": 100,  # bootstrap replicates behind every error bar
        "max_samples": 50000,  # weights per layer the statistics use (a seeded subsample beyond that)
        "circuit_samples": 1000000,  # circuits (and perturbations) sampled per seed for Fig. 3b; ~3% are open
        "circuit_seeds": [0, 1, 2, 3, 4],
        "gate_inputs": 2000,  # training inputs over which gate states are correlated
        "eq20_depths": [2, 3, 4, 5, 6, 8, 10],
        "eq20_widths": [16, 32, 64, 128],
        "eq20_networks": 2000,  # random initialisations per (depth, width)
        "eq20_mu": 0.5,  # sqrt(n)^(1-mu) weights per layer have a broken (shifted) law
        "eq20_shift": 1.0,  # the shift, in units of the layer's weight standard deviation
        "seed": 0,
    }
    smoke = dict(quick, n_boot=20, max_samples=5000, circuit_samples=100000, circuit_seeds=[0, 1], gate_inputs=300,
                 eq20_depths=[2, 4, 6], eq20_widths=[16, 64], eq20_networks=400)
    paper = dict(quick, n_boot=200, max_samples=200000, circuit_samples=10000000, circuit_seeds=list(range(10)),
                 gate_inputs=10000, eq20_depths=[2, 3, 4, 5, 6, 8, 10, 12, 16], eq20_widths=[16, 64, 256, 1024],
                 eq20_networks=10000)
    return {"smoke": smoke, "quick": quick, "paper": paper}


def _order_parameters() -> dict[str, dict[str, Any]]:
    quick = {
        "reference": {},  # overrides of the reference run's settings (profiles.REFERENCE_RUNS)
        "n_boot": 100,
        "max_samples": 50000,  # gradient entries the symmetry statistics use per snapshot
        "identity_widths": [[4, 3, 1], [4, 3, 3, 1], [3, 3, 3, 3, 1], [3, 2, 3, 2, 3, 1]],  # eqs. 15-16 checked
        "identity_examples": 12,
        "sk_spins": 128,
        "sk_samples": 8,  # disorder samples (the equilibration check needs several)
        "sk_temperatures": [0.3, 0.34, 0.386, 0.438, 0.498, 0.565, 0.641, 0.727, 0.825, 0.936, 1.063, 1.206, 1.369, 1.553, 1.762, 2.0],  # spinglass.geometric_temperatures(0.3, 2, 16)
        "sk_sweeps": 2048,
        "seed": 0,
    }
    smoke = dict(quick, n_boot=20, max_samples=5000, identity_widths=[[3, 2, 1], [3, 2, 2, 1]], identity_examples=6,
                 sk_spins=32, sk_samples=4, sk_temperatures=[0.4, 0.7, 1.0, 1.5, 2.0], sk_sweeps=256)
    paper = dict(quick, n_boot=200, max_samples=200000, sk_spins=512, sk_samples=16, sk_sweeps=16384)
    return {"smoke": smoke, "quick": quick, "paper": paper}


def _plasticity_parameters() -> dict[str, dict[str, Any]]:
    quick = {
        "reference": {},  # overrides of the reference run's settings (profiles.REFERENCE_RUNS)
        "n_pairs": 1000,  # random cross-layer Hessian entries followed through training (Figs. 6-7)
        "n_boot": 1000,  # bootstrap replicates of the entries
        "resample_size": 100,  # examples per replicate: the reference run's minibatch
        "slq_steps": 40,  # Lanczos steps per probe (Fig. 8a)
        "slq_probes": 4,
        "structure_examples": 100,  # examples of the small network whose dense Hessian shows the structure
        "grid_widths": [2, 4, 8, 16, 32, 64],  # complexity matching (Li §III)
        "grid_n_trains": [100, 400, 1600],
        "grid_depth": 5,
        "grid_epochs": 200,
        "grid_lr": 0.05,
        "grid_batch_size": 100,
        "seed": 0,
    }
    smoke = dict(quick, n_pairs=200, n_boot=200, slq_steps=12, slq_probes=2, structure_examples=40,
                 grid_widths=[2, 32], grid_n_trains=[20, 200], grid_epochs=30, grid_batch_size=10)
    paper = dict(quick, n_pairs=2000, n_boot=2000, resample_size=128, slq_steps=80, slq_probes=8,
                 grid_widths=[2, 4, 8, 16, 32, 64, 128, 256], grid_n_trains=[250, 1000, 4000, 16000], grid_epochs=300,
                 grid_batch_size=128, grid_lr=0.05)
    return {"smoke": smoke, "quick": quick, "paper": paper}


def _landscape_parameters() -> dict[str, dict[str, Any]]:
    ising = _ising_parameters()
    # Chapter 7's ensembles and pseudolikelihood fits: the same values, so that its cached ensembles and fits are
    # reused, not retrained
    shared = ["dataset", "pca_k", "hidden", "n_train", "n_train_over", "n_test", "n_networks", "epochs", "lr",
              "draws_per_network", "threshold_quantile", "best_only", "fit_regions", "fit_lr", "fit_momentum",
              "fit_steps", "fit_patience", "pl_samples", "pl_l1", "pl_max_iter", "pt_chains", "pt_temperatures",
              "pt_beta_min", "mc_fit_lr", "mc_fit_steps", "mc_fit_window", "mc_fit_burn_in", "mc_fit_records",
              "floor_repeats", "split_bootstrap"]
    # Chapter 7's BP settings of its Boltzmann fits, part of the single model's cache key (this chapter's own
    # bp_damping and bp_max_iter are those of its landscape sweeps)
    renamed = {"fit_bp_damping": "bp_damping", "fit_bp_max_iter": "bp_max_iter"}
    own = {
        "landscape_regions": ["ITR", "RB"],  # deep nets' regions swept by BP (the shallow net: FULL)
        "reference_quantiles": {"low": 0.05},  # references at these quantiles of the candidates' energies
        "reference_candidates": 2048,  # kept configurations (spread over the networks) the references are chosen from
        "x_max": 3.0,  # the coupling field x is swept from -x_max to x_max and back (Fig. 5)
        "x_step": 0.05,
        "bp_damping": 0.3,  # our pseudolikelihood models need damped BP
        "bp_tol": 1e-4,  # largest change of a cavity magnetisation at the fixed point
        "bp_max_iter": 50,  # per point of a sweep: BP fails for much of our shallow and over RB models, at this cost
        "zero_max_iter": 1000,  # BP at x = 0 (the entropy of each model), from independent spins
        "iso_regions": [],  # our (scenario, region) models whose iso-energy curve is computed (Fig. 7)
        "zh_iso_regions": [["under-para", "ITR"]],  # the authors' models whose iso-energy curve is computed
        "iso_step": 0.25,  # the iso-energy curve's grid of x
        "iso_beta_max": 6.0,  # β is searched in [-iso_beta_max, iso_beta_max]
        "tap_starts": 50,  # random starts of the TAP iteration per model (Fig. 8)
        "tap_max_iter": 1000,
        "tap_resolution": 1e-4,  # TAP free energies per weight closer than this are one peak
        "mc_sweeps": 2000,  # Metropolis sweeps from the reference (Fig. 9)
        "mc_record_every": 20,
        "hc_betas": 11,  # inverse temperatures 0..1 of the heat-capacity integration (App. H)
        "hc_samples": 1000,
        "hc_chains": 50,
        "hc_burn_in": 100,
        "zh_data": None,  # Zou & Huang's published data folder (None: $ADAPTSYM_ZH_DATA or ../shared/zou-huang)
        "zh_scenarios": ["under-para", "shallow"],
        "zh_bp_damping": 0.0,  # their models are BP fixed points: undamped BP converges
        "zh_bp_max_iter": 300,
        "zh_candidates": 2000,  # Monte Carlo samples of their models as reference candidates (no published configurations)
        "freeze_n_train": 20000,  # Fig. 11: training images (None: all), networks per condition, epochs,
        "freeze_networks": 32,  # binary draws per network for its final accuracy, and the share of the final
        "freeze_epochs": 20,  # accuracy that defines the training-time target
        "freeze_draws": 20,
        "freeze_target": 0.98,
        "perm_region": "RB",  # Fig. 10: the region refitted on permutation-paired ensembles, their ratios rho, and
        "perm_ratios": [0.0, 1.0],  # the test images' class whose mean pre-activations rank the hidden units (App. J)
        "perm_class": 1,
        "seed": 0,
    }

    def inherited(profile: str) -> dict[str, Any]:
        return {name: ising[profile][name] for name in shared} | {new: ising[profile][old] for new, old in renamed.items()}

    quick = inherited("quick") | own
    smoke = inherited("smoke") | dict(
        own, landscape_regions=["LB", "ITR", "RB"], x_step=0.1, zero_max_iter=300, iso_regions=[["under", "ITR"]],
        zh_iso_regions=[], iso_step=0.5, tap_starts=20, mc_sweeps=200, mc_record_every=10, hc_betas=6, hc_samples=400,
        hc_chains=20, hc_burn_in=50, zh_scenarios=["shallow"], zh_candidates=400, freeze_n_train=None,
        freeze_networks=4, freeze_epochs=5, freeze_draws=4)
    paper = inherited("paper") | dict(
        own, landscape_regions=["LB", "ITR", "RB", "FULL"], reference_quantiles={"low": 0.05, "medium": 0.5, "high": 0.95},
        bp_tol=1e-6, bp_max_iter=1000, zero_max_iter=5000, iso_regions=[["under", "ITR"], ["under", "FULL"]],
        zh_iso_regions=[["under-para", "ITR"], ["under-para", "LB"], ["under-para", "RB"]], iso_step=0.05,
        iso_beta_max=10.0, tap_starts=1000, tap_max_iter=5000, mc_sweeps=20000, mc_record_every=100, hc_betas=41,
        hc_samples=20000, hc_chains=100, hc_burn_in=2000, zh_scenarios=["under-para", "over-para", "shallow", "fashion"],
        zh_bp_max_iter=1000, freeze_n_train=None, freeze_networks=128, freeze_epochs=50, perm_region="ITR",
        perm_ratios=[0.0, 0.3, 0.6, 0.9])
    return {"smoke": smoke, "quick": quick, "paper": paper}


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(1, "umwelt", "The Umwelt formalism", "notebooks/01_umwelt.py", _umwelt_parameters()),
    Chapter(2, "stochastic", "The stochastic definition of DNNs", "notebooks/02_stochastic.py",
            _stochastic_parameters()),
    Chapter(3, "circuits", "Circuits and the feedback-control loop", "notebooks/03_circuits.py",
            _circuits_parameters()),
    Chapter(4, "symmetry", "Circuit symmetry", "notebooks/04_symmetry.py", _symmetry_parameters()),
    Chapter(5, "order", "The plasticity order parameter", "notebooks/05_order.py", _order_parameters()),
    Chapter(6, "plasticity", "The plasticity phase", "notebooks/06_plasticity.py", _plasticity_parameters()),
    Chapter(7, "ising", "Binary networks and the data-driven Ising model", "notebooks/07_ising.py",
            _ising_parameters()),
    Chapter(8, "landscape", "The entropy landscape", "notebooks/08_landscape.py", _landscape_parameters()),
)


def chapter(key: str | int) -> Chapter:
    """Find a chapter by number (``1``, ``"1"``, ``"01"``) or slug (``"umwelt"``)."""
    for ch in CHAPTERS:
        if str(key) in (ch.slug, ch.stem) or (str(key).isdigit() and int(key) == ch.number):
            return ch
    valid = ", ".join(f"{ch.number} ({ch.slug})" for ch in CHAPTERS)
    raise ValueError(f"unknown chapter {key!r}; valid chapters: {valid}")


def resolve_parameters(ch: Chapter, profile: str = DEFAULT_PROFILE,
                       overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameter values of ``ch`` under ``profile`` with ``overrides`` applied; unknown names are rejected."""
    check_choice(profile, PROFILES, "profile")
    values = dict(ch.parameters[profile])
    unknown = sorted(set(overrides or {}) - set(values))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for chapter {ch.slug}; "
                         f"valid parameters: {', '.join(values)}")
    values.update(overrides or {})
    return values


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``name=value`` from the command line; the value is read as YAML (numbers, lists, strings)."""
    import yaml

    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise ValueError(f"parameter override {text!r} is not of the form name=value")
    return name.strip(), yaml.safe_load(raw)
