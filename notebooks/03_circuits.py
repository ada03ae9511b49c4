# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Circuits and the feedback-control loop
#
# This chapter follows Li's §II.3.2 (eqs. 10–13 and Fig. 2) and the circuit forms of the gradient and the Hessian
# that §II.5.2 and §II.6.4 build on them (eqs. 16 and 19) {cite}`li2022complexity`.  It checks each circuit identity
# exactly on real data, draws Fig. 2, runs the feedback-control loop and watches which examples feed back, and
# counts the circuits and measures how much they cancel.
#
# Li rewrites the energy of eq. 6 ({doc}`Chapter 1 <01_umwelt>`) — the output $T(x)$ of a bias-free ReLU network —
# as a sum over every input-to-output path of a product of the input, the weights and the gates along it:
#
# $$
# T(x) = \sum_{\boldsymbol i \in I} x_{i_0} \Psi_{\boldsymbol i}, \qquad
# \Psi_{\boldsymbol i} = w^1_{i_0 i_1} h^1_{i_1} w^2_{i_1 i_2} \cdots h^{L-1}_{i_{L-1}} w^L_{i_{L-1} i_L},
# \qquad I = [n_0] \times [n_1] \times \dots \times [n_L].
# $$ (eq-ch3-path-sum)
#
# These are Li's eqs. 10–11; the $\Psi_{\boldsymbol i}$ are the *basis circuits*.  Training is then a
# feedback-control loop: the circuits compute a coarse-grained variable $T$, the hinge risk (eq. 12)
#
# $$
# R = \mathbb E_{(x, y)}\big[\max(0, 1 - y\, T(x))\big]
# = \mathbb E_{(x, y)}\Big[\max\Big(0, 1 - y \sum_{\boldsymbol i \in I} x_{i_0} \Psi_{\boldsymbol i}\Big)\Big]
# $$ (eq-ch3-risk)
#
# compares it with the label, and gradient descent (eq. 13)
#
# $$
# \frac{d\theta}{dt} = -\eta\, \nabla_\theta R
# $$ (eq-ch3-loop)
#
# adjusts every circuit.  The gradient is itself a sum of circuits, each with one weight differentiated out — the
# *first-order perturbations* $\Omega$ — carrying the loss derivative $L'$ (eq. 16): for a weight $w^l_{jk}$ of
# layer $l$,
#
# $$
# \frac{\partial R}{\partial w^l_{jk}} = \mathbb E_{(x, y)}\Big[L'(yT(x))\, y \sum_{\boldsymbol i:\, i_{l-1} = j,\,
# i_l = k} \Omega_{\boldsymbol i}\Big], \qquad
# \Omega_{\boldsymbol i} = \frac{\partial\, x_{i_0} \Psi_{\boldsymbol i}}{\partial w^l_{jk}}
# = x_{i_0} \Psi^{1\sim l-1}_{\boldsymbol i}\, h^{l-1}_{j} h^{l}_{k}\, \Psi^{l+1\sim L}_{\boldsymbol i},
# $$ (eq-ch3-gradient)
#
# where $\Psi^{a\sim b}_{\boldsymbol i}$ is the segment of the circuit from the weights of layer $a$ to those of
# layer $b$, with the gates between them (and $h^0 = h^L = 1$).  Second derivatives are sums of circuits with two
# weights differentiated out, the *second-order perturbations* (eq. 19): for weights of layers $l < l'$,
#
# $$
# \frac{\partial^2 T(x)}{\partial w^l_{jk}\, \partial w^{l'}_{j'k'}}
# = \sum_{\boldsymbol i \text{ through both weights}} x_{i_0} \Psi^{1\sim l-1}_{\boldsymbol i}\,
# \Psi^{l+1\sim l'-1}_{\boldsymbol i}\, \Psi^{l'+1\sim L}_{\boldsymbol i},
# $$ (eq-ch3-hessian)
#
# the gates along the path included; no path passes two weights of one layer, so the within-layer blocks vanish.
# Below, $\Psi$ includes the input factor $x_{i_0}$.
#
# §II.3 reports no experiment, so no profile of this chapter reproduces one: the `paper` profile is not the
# papers' scale but the same computations made larger (more test inputs, a wider network for the identities,
# a longer loop on ten times the data, more random networks and larger widths for the cancellation).

# %% tags=["parameters"]
profile = "quick"
claims_path = None
dataset = "fashion-mnist"
positive = [0, 2, 4, 6]
pca_k = 8
n_train = 1000
n_check = 20
diagram_hidden = [5, 5]
identity_hidden = [8, 8]
hessian_pairs = 2000
loop_hidden = [16, 16]
loop_epochs = 300
loop_lr = 0.05
loop_snapshots = [0, 5, 20, 60, 150, 300]
sample_width = 1000
sample_depth = 8
n_sampled = 200000
count_width = 100
count_depths = [1, 2, 3, 4, 5, 6, 7, 8]
cancellation_depths = [2, 3, 4, 5, 6]
cancellation_widths = [8, 16, 32, 64, 128]
cancellation_networks = 20
conv_channels = [3, 3]
conv_image = 7
seed = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from adaptsym import circuits, plotting
from adaptsym.claims import Ledger
from adaptsym.data import load_task
from adaptsym.models import relu_mlp, vgg_cnn
from adaptsym.tables import labelled_table, markdown_table
from adaptsym.train import TrainConfig, train_run

plotting.use_book_style()
torch.manual_seed(seed)
rng = np.random.default_rng(seed)
ledger = Ledger("3 circuits", profile, path=claims_path)

# %%
task = load_task(dataset, positive=tuple(positive), n_train=n_train, n_test=n_check, pca_k=pca_k, seed=seed,
                 dtype=torch.float64)
scale = task.x_train.std()
x_train, x_check, y_check = task.x_train / scale, task.x_test / scale, task.y_test
print(task.description)
ledger.dataset = task.description

# %% [markdown]
# ## 3.1 Fig. 2: basis circuits, perturbations, the assembly and the feedback
#
# A small network on one labelled test image, drawn as Li's Fig. 2 and its caption describe it.  Every edge is a
# weight (red positive, blue negative, width $\propto |w|$), every hidden node a gate (filled when open, $h = 1$);
# the inputs are red, the output gate blue.  A basis circuit is a path from an input to the output; it contributes
# only if every gate along it is open.  The green path is the input's largest circuit $\Psi$.  One of its weights is
# drawn curvy and dashed: differentiating the circuit by that weight gives its first-order perturbation
# $\Omega = \partial\Psi/\partial w$, and the perturbations of all circuits through the weight sum to
# $\partial T/\partial w$ (eq. 16).  The output is the assembly $T(x) = \sum_i \Psi_i$ of all circuits.  The label
# closes the loop: the hinge loss compares $y$ with $T(x)$, and its derivative $L'(yT)$ — $-1$ on a margin
# violation, 0 otherwise — sends $L'(yT)\, y \sum \Omega$ back to the weight (eqs. 12–13).
# {numref}`fig-ch3-diagram` draws all of it.

# %% mystnb={"figure": {"name": "fig-ch3-diagram", "caption": "Li's Fig. 2 drawn for a small network on one labelled test image: weights (red positive, blue negative, width proportional to $|w|$), gates (filled when open), the input's largest basis circuit (green), one of its weights differentiated out (dashed purple: the first-order perturbation $\\Omega$), the assembly $T(x)$ at the output, and the feedback of the hinge loss's derivative $L'(yT)$ from the label (orange)."}}
small = relu_mlp([pca_k, *diagram_hidden, 1], seed=seed, dtype=torch.float64, device="cpu")
x0, y0 = x_check[0], y_check[0].item()
assembly = circuits.circuit_assembly(small, x0, y0)
fig = plotting.basis_circuit_figure(assembly)
plt.show()
print(f"{assembly.values.numel()} circuits, {int((assembly.values != 0).sum())} with all gates open; "
      f"sum {assembly.values.sum().item():.6f} vs T(x) {assembly.output:.6f}")
print(f"weight w^{assembly.weight[0]}_{assembly.weight[1:]}: Ω of the green circuit {assembly.perturbation:.4f}, "
      f"{assembly.n_perturbations} perturbations sum to ∂T/∂w = {assembly.gradient:.4f}; "
      f"y = {y0:+.0f}, L'(yT) = {assembly.loss_derivative:.0f}, feedback ∂L/∂w = {assembly.risk_gradient:.4f}")

# %% [markdown]
# ## 3.2 The path sum, the gradient and the Hessian entries are circuit sums
#
# On `n_check` test images we compare, in float64: the path sum {eq}`eq-ch3-path-sum` with the forward pass; for
# *every* weight, the sum of its first-order perturbations (the circuit sum of {eq}`eq-ch3-gradient`, without the
# loss factor) with autograd's $\partial T/\partial w$; and for `hessian_pairs` random weight pairs (all pairs in the
# smoke profile), the sum of second-order perturbations {eq}`eq-ch3-hessian` with the dense autograd Hessian.  These
# are identities: the checks guard the code.

# %%
net = relu_mlp([pca_k, *identity_hidden, 1], seed=seed + 1, dtype=torch.float64, device="cpu")
widths = circuits.layer_widths(net)
n_weights = circuits.count_weights(widths)
pairs = circuits.hessian_check_pairs(n_weights, hessian_pairs, rng)
errors = circuits.circuit_identity_errors(net, x_check, pairs)

print(f"network {widths}: {circuits.count_circuits(widths[:-1])} circuits, {n_weights} weights")
print(f"path sum:      max relative error {errors.path_sum:.1e}")
print(f"gradient:      max |sum of eq.-16 circuits - autograd| {errors.gradient:.1e} over {n_weights} weights")
print(f"Hessian:       max |sum of eq.-19 circuits - autograd| {errors.hessian:.1e} over {len(pairs)} pairs")
print(f"same-layer Hessian blocks: max |entry| {errors.same_layer:.1e} (no path passes two weights of one layer)")

# %%
exact = dict(kind="identity", criterion="max error < 1e-12 (float64)")
ledger.record("path sum equals the output (eqs. 10-11)", "exact identity (eqs. 10-11)", errors.path_sum,
              circuits.circuit_identity_holds(errors.path_sum), detail=f"max relative error, {len(x_check)} inputs",
              **exact)
ledger.record("first-order circuits sum to the gradient (eq. 16)", "exact identity (eq. 16)", errors.gradient,
              circuits.circuit_identity_holds(errors.gradient), detail=f"{n_weights} weights x {len(x_check)} inputs",
              **exact)
ledger.record("second-order circuits sum to Hessian entries (eq. 19)", "exact identity (eq. 19)", errors.hessian,
              circuits.circuit_identity_holds(errors.hessian), detail=f"{len(pairs)} pairs x {len(x_check)} inputs",
              **exact)
ledger.record("within-layer Hessian blocks of T vanish", "no circuit passes two weights of one layer (eq. 19)",
              errors.same_layer, errors.same_layer_blocks_vanish(), kind="identity",
              criterion="max |entry| of the blocks == 0 exactly")

# %% [markdown]
# ## 3.3 The risk in circuit form and the feedback-control loop (eqs. 12–13, 16)
#
# The hinge risk {eq}`eq-ch3-risk` is $R = \mathbb E[\max(0, 1 - y \sum_i \Psi_i(x))]$.  Gradient descent on it
# {eq}`eq-ch3-loop` is the loop: circuits compute $T$, the label feeds back, and every circuit through a changed
# weight moves.  We run full-batch gradient descent and check, on the trained network, the risk in circuit form and
# its gradient at the level Li writes it, {eq}`eq-ch3-gradient`, with $L'(m) = -1$ for $m < 1$ and $0$ otherwise,
# against autograd of the hinge risk.  Only the examples with margin $yT < 1$ enter the sum.

# %%
config = TrainConfig(model="mlp", widths=(pca_k, *loop_hidden, 1), optimizer="sgd", lr=loop_lr,
                     batch_size=None, epochs=loop_epochs, seed=seed, dtype="float64",
                     snapshot_epochs=tuple(loop_snapshots), data_key=task.description)
run = train_run(config, x_train, task.y_train, x_check, y_check)
risk_circuit_form, risk_direct = circuits.risk_both_ways(run.model(), x_check, y_check)
print(f"test hinge risk: circuit form {risk_circuit_form:.12f}, network {risk_direct:.12f}")
risk_error = abs(risk_circuit_form - risk_direct)
ledger.record("hinge risk in circuit form equals the network's (eq. 12)", "exact identity (eq. 12)",
              risk_error, circuits.circuit_identity_holds(risk_error), **exact)

# %%
gradient_check = circuits.risk_gradient_check(run.model(), x_check, y_check)
print(f"∇R: max |E[L' y ΣΩ] - autograd| = {gradient_check.error:.1e} (max |∂R/∂w| {gradient_check.scale:.3f}); "
      f"{gradient_check.n_violations} of {gradient_check.n_examples} examples have yT < 1")
ledger.record("the risk gradient is E[L'(yT) y ΣΩ] (eqs. 13, 16)", "exact identity (eqs. 13, 16)",
              gradient_check.error, circuits.circuit_identity_holds(gradient_check.error),
              detail=f"{gradient_check.n_violations} of {gradient_check.n_examples} examples violate the margin",
              **exact)

# %% [markdown]
# We look at the circuits signed by the label, $y\Psi_i(x)$, at several snapshots.  As the risk falls the margin
# $yT(x)$ — the sum over circuits — grows, yet the circuits themselves stay almost symmetric: about half of the open
# ones still point against the label.  The second panel shows what the loop does to their distribution, measured in
# bins that hold equal mass at initialisation: mass leaves the centre for *both* tails (the weights grow), the
# positive tail gaining a little more.  The mean moves by only a few percent of the spread (third panel): the
# output is a small asymmetry summed over many circuits ({numref}`fig-ch3-loop`).

# %% mystnb={"figure": {"name": "fig-ch3-loop", "caption": "The feedback-control loop (eq. 13) seen through the circuits signed by the label, $y\\Psi_i(x)$, on test inputs. From left: train and test hinge risk (dots: the snapshots); the change of the distribution of $y\\Psi$ since step 0, in bins of equal mass at step 0; its mean over its standard deviation; and the assembly, the mean margin $yT(x)$, beside the fraction of open circuits with $y\\Psi > 0$."}}
loop = circuits.feedback_loop(run, loop_snapshots, x_check, y_check)
fig = plotting.feedback_loop_figure(loop)
plt.show()

# %%
display(markdown_table(["step", "train risk", "mean yT", "mean yΨ over open circuits", "fraction of circuits open"],
                       [[epoch, f"{risk:.4f}", f"{margin:+.3f}", f"{mean:+.2e}", f"{share:.2f}"]
                        for epoch, risk, margin, mean, share in zip(loop.epochs, loop.train_risk, loop.mean_margin,
                                                                    loop.open_mean, loop.open_fraction)]))

# %%
ledger.record("gradient descent on the circuit risk lowers the hinge risk (eq. 13)",
              "the loop minimises the risk (§II.3, eq. 13)", loop.risk_ratio(), loop.lowers_risk(), kind="paper",
              criterion="train risk at the last snapshot < at the first",
              detail=f"train risk ratio step {loop_snapshots[-1]}/step {loop_snapshots[0]}")
ledger.record("the loop shifts signed circuit values positive",
              "circuit symmetries break towards the label to decrease errors (§II.4, Fig. 3)",
              loop.margin_increase(), loop.aligns_with_label(), kind="paper",
              criterion="mean margin yT = Σ yΨ on test inputs rises from the first snapshot to the last",
              detail="increase of the mean margin yT = Σ yΨ on test inputs")

# %% [markdown]
# ### Which examples feed back
#
# Only an example with margin $yT(x) < 1$ has $L' \neq 0$ and reaches the weights; Li calls the examples of nonzero
# error the *informational perturbations* that the loop absorbs (§I; §II.5.2; the caption of Fig. 8b: "the loss
# measures the gradually decrease of the informational perturbations induced by examples in the training set").
# The risk $R = \mathbb E[(1 - yT)_+]$ is the fraction of violating examples times their mean violation, so it can
# fall while every example still violates; the fraction measures the feedback itself.  At each snapshot, on the
# training set ({numref}`fig-ch3-feedback`):

# %% mystnb={"figure": {"name": "fig-ch3-feedback", "caption": "Which training examples feed back. Left: the hinge risk and the fraction of examples with margin $yT < 1$, whose loss derivative is non-zero, at each snapshot; right: the cumulative distribution of the margins $yT(x)$ at each snapshot, with the hinge's kink at 1."}}
perturbations = circuits.informational_perturbations(run, loop_snapshots, x_train, task.y_train)
fig = plotting.informational_perturbation_figure(perturbations)
plt.show()

# %%
display(labelled_table({"train risk": perturbations.risk, "fraction with yT < 1": perturbations.fraction},
                       [str(e) for e in perturbations.epochs], corner="step", fmt="{:.4f}"))
ledger.record("margin violations (informational perturbations) fall as the risk falls",
              "the loop absorbs the informational perturbations, examples of nonzero risk (§I, Fig. 8b)",
              perturbations.fraction[-1], perturbations.falls_with_risk(), kind="paper",
              criterion="risk falls; fraction with yT < 1 never rises between snapshots and ends lower",
              detail=f"fraction at steps {perturbations.epochs}: {np.round(perturbations.fraction, 3).tolist()}")

# %% [markdown]
# The fraction does not fall with the risk at first.  At initialisation the He-initialised network's outputs are of
# order one and of random sign: about half of the training examples lie beyond the margin by chance, the other half
# are misclassified with large violations.  The first steps shrink the outputs — the quickest way to cut large
# violations — and pull many of the satisfied examples back under the margin: while the risk falls by a third,
# the fraction of examples that feed back *rises* (0.53 to 0.61 at step 5 in the quick run; a finer look, with a
# snapshot at every step, puts its peak near 0.67 at step 8).  Only then, as the outputs grow again in the label's
# direction, do the informational perturbations fall with the risk, to 0.145 at step 300.  The claim is recorded
# as disagreeing: the loop absorbs the perturbations as Li describes only after this transient, not from
# initialisation.  (The same transient appears with 300 and with 10 000 training examples, the sizes of the smoke
# and paper profiles.)
#
# ## 3.4 How many circuits?
#
# A network of depth $L$ and width $n$ has $n_0 n^{L-1}$ circuits per output but only about $L n^2$ weights
# ({numref}`fig-ch3-counts`): circuits share weights, and that sharing is what the symmetry arguments of
# {doc}`Chapter 4 <04_symmetry>` and {doc}`Chapter 6 <06_plasticity>` count on.  Enumeration
# stops being possible long before networks are large, so circuits can also be *sampled* uniformly — draw each
# index of the path independently — and the output estimated without bias as the number of paths times their mean
# value.

# %% mystnb={"figure": {"name": "fig-ch3-counts", "caption": "Basis circuits per output and weights of a network of constant width against its depth: the circuits grow exponentially, the weights linearly."}}
counts, params = circuits.depth_counts(count_width, count_depths)
fig = plotting.depth_growth_figure(count_depths, {"basis circuits n^L": counts, "weights": params}, ylabel="count",
                                   title=f"width {count_width}")
plt.show()
print(f"depth {count_depths[-1]}, width {count_width}: {counts[-1]:.3e} circuits, {params[-1]:,} weights")
ledger.record(f"circuits vs weights at depth {count_depths[-1]}, width {count_width}",
              "exact counts: n^L circuits (eq. 11), weights linear in L", counts[-1] / params[-1],
              circuits.circuits_outnumber_weights(counts, params), detail="ratio circuits / weights",
              kind="identity", criterion="circuits > weights at the deepest network")

# %%
big = relu_mlp([pca_k] + [sample_width] * (sample_depth - 1) + [1], seed=seed, dtype=torch.float64, device="cpu")
sampled = circuits.estimate_path_sum(big, x0, n_sampled, torch.Generator().manual_seed(seed))
big_sums = circuits.cancellation(big, x0[None])
relative_error = sampled.standard_error / abs(sampled.exact)
print(f"{sampled.n_paths:.3e} circuits; {n_sampled} sampled: estimate {sampled.estimate:.4f} "
      f"± {sampled.standard_error:.4f}, exact {sampled.exact:.4f} (z = {sampled.z_score:+.2f}); "
      f"open circuits in the sample: {sampled.open_fraction:.3f}")
print(f"standard error / |T(x)| = {relative_error:.3g}; from the exact sums √((N ΣΨ² − T²)/n) / |T| = "
      f"{big_sums.sampling_standard_error(sampled.n_paths, n_sampled)[0] / abs(sampled.exact):.3g}")
ledger.record("uniformly sampled circuits estimate T(x) without bias", "(method; not in the paper)",
              sampled.z_score, sampled.unbiasedness(), kind="ours",
              criterion="|z| < 4; decidable only if 4 standard errors < |T(x)| (else no bias of T's size can fail it)",
              detail=f"z-score; standard error = {relative_error:.1e} |T(x)|, so the test cannot fail")

# %% [markdown]
# The estimator is unbiased by construction, but this check of it cannot fail: its standard error is many orders of
# magnitude larger than the output itself, so any estimate of the right order of magnitude lies within a fraction
# of a standard error of $T(x)$.  The claim is therefore recorded as inconclusive.  The standard error follows from
# exact sums over all circuits (next section): uniform sampling of $n$ out of $N$ paths has standard error
# $\sqrt{(N \sum\Psi^2 - T^2)/n}$.  The sample's own estimate of it is off from this exact value by a factor of about
# two in the quick run: the few open circuits a sample meets have heavy-tailed values, and their sample variance is
# itself unreliable.  What the sampling exposes is the premise behind it: the output of a wide network is a
# delicate cancellation among an astronomical number of circuits of both signs.
#
# ## 3.5 How much do the circuits cancel?
#
# The cancellation ratio $\sum_i |\Psi_i| / |\sum_i \Psi_i|$ over the open circuits of an input measures it.  No
# enumeration is needed: a circuit's absolute value (and square) is the product of its factors' absolute values
# (squares), so $\sum_i |\Psi_i| = |x|^\top |W^1| H^1 \cdots |W^L|$ and $\sum_i \Psi_i^2$ factorise like the forward
# pass, exactly, for any number of paths; the open circuits number $n_0 \prod_l (\text{open gates of layer } l)$.
# First, these factorised sums against enumeration on the network of §3.2:

# %%
factorised_error = circuits.cancellation_difference(net, x_check)
print(f"max relative |factorised - enumerated| over T, Σ|Ψ|, ΣΨ² and the open count: {factorised_error:.1e}")
ledger.record("Σ|Ψ|, ΣΨ² and the open count factorise like the forward pass", "exact identity (eq. 11)",
              factorised_error, circuits.circuit_identity_holds(factorised_error), **exact)
print(f"the sampled network of §3.4: {big_sums.n_open[0]:.3e} open circuits, ratio Σ|Ψ|/|ΣΨ| = "
      f"{big_sums.ratio[0]:.3e}, effective number (Σ|Ψ|)²/ΣΨ² = {big_sums.effective_count[0]:.3e}")

# %% [markdown]
# If $T$ were a sum of $N$ independent terms of random sign and one size, $|\sum\Psi| \sim \sqrt N\, |\Psi|$ and the
# ratio would grow like $\sqrt N$.  We measure it over `cancellation_networks` random (He-initialised) networks of
# each depth $L$ (weight layers) in `cancellation_depths` and hidden width in `cancellation_widths`, on the
# `n_check` test inputs, and fit the exponent $\alpha$ of ratio $\propto N^\alpha$ across the (depth, width) cells
# on their geometric means, with a standard error from resampling each cell's networks
# ({numref}`fig-ch3-cancellation`).  But the circuits are not of one size: a circuit is a product of $L$ weights, and
# its magnitude spreads more with depth.  The count that enters a random-sign sum of unequal terms is the effective
# number $N_{\rm eff} = (\sum|\Psi|)^2 / \sum\Psi^2 \le N$, and the same fit is made against it.

# %% mystnb={"figure": {"name": "fig-ch3-cancellation", "caption": "How much the circuits of random networks cancel. The ratio $\\sum|\\Psi| / |\\sum\\Psi|$ (geometric mean over networks, one point per depth $L$ and width) against the number of open circuits (left) and their effective number (middle), with the fitted power law (solid) and slope 1/2 (dotted); right: the output over its random-sign scale, $T/\\sqrt{\\sum\\Psi^2}$, against a standard normal."}}
scaling = circuits.cancellation_scaling(pca_k, cancellation_depths, cancellation_widths, cancellation_networks,
                                        x_check, seed=seed)
fig = plotting.cancellation_figure(scaling)
plt.show()
(alpha, alpha_error), (alpha_eff, alpha_eff_error) = scaling.exponent("open"), scaling.exponent("effective")
print(f"ratio ∝ N_open^α: α = {alpha:.3f} ± {alpha_error:.3f};  ratio ∝ N_eff^α: α = {alpha_eff:.3f} ± "
      f"{alpha_eff_error:.3f};  mean of T²/ΣΨ² = {np.nanmean(scaling.normalised_output ** 2):.3f}")
random_sign = dict(kind="ours", criterion="|α − 1/2| < 2 SE (decidable if 2 SE ≤ 0.025)")
ledger.record("the cancellation ratio grows like √(open circuits)", "random-sign scaling; not in the paper",
              alpha, scaling.grows_like_sqrt("open"), detail=f"α ± {alpha_error:.3f}", **random_sign)
ledger.record("the cancellation ratio grows like √(effective number of circuits)",
              "random-sign scaling; not in the paper", alpha_eff, scaling.grows_like_sqrt("effective"),
              detail=f"α ± {alpha_eff_error:.3f}", **random_sign)

# %% [markdown]
# Against the number of open circuits the ratio grows more slowly than $\sqrt N$: the fitted exponent is many
# standard errors below 1/2 (0.45 in the quick run), and each depth's points fall further below the $\sqrt N$ line
# the deeper the network.  That claim disagrees.  Against the effective number the exponent is 1/2 within its
# error, and $T/\sqrt{\sum\Psi^2}$ is distributed like a standard normal with mean square near 1 (third panel): the
# output is exactly as small as a sum of independent random-sign terms would be.  What the plain count misses is
# that the terms are far from equal.  A circuit is a product of $L$ random weights, and each Gaussian factor
# multiplies $N_{\rm eff}/N$ by about $(\mathbb E|w|)^2/\mathbb E w^2 = 2/\pi$, so the effective number falls
# behind the count by a factor that grows with depth.  For the sampled network of §3.4 the numbers above say the
# same: the ratio is close to $\sqrt{N_{\rm eff}}$, an order of magnitude below $\sqrt{N}$.  The premise of the
# sampled estimate — a tiny output from an astronomical number of circuits of both signs — is thus measured
# exactly: the circuits cancel like random signs, down to the square root of their effective number.
#
# ## 3.6 Convolutional networks are circuits too
#
# Li's setting includes bias-free CNNs: a convolution is a sparse linear map with shared weights, so a CNN without
# pooling unrolls into a bias-free ReLU MLP with the same output, and its path sum holds.  (Max pooling is an
# input-dependent selection — a gate of another form — and is not unrolled here.)  A tiny two-layer convolutional
# network on the same images, downsampled to `conv_image`×`conv_image` pixels:

# %%
raw = load_task(dataset, positive=tuple(positive), n_train=10, n_test=n_check, seed=seed, dtype=torch.float64)
images = torch.nn.functional.adaptive_avg_pool2d(raw.x_test.reshape(-1, 1, 28, 28), conv_image)
cnn = vgg_cnn(1, conv_channels, conv_image, pooling=False, seed=seed, dtype=torch.float64, device="cpu")
unrolled = circuits.unroll_conv(cnn, (1, conv_image, conv_image), device="cpu")
conv_error = circuits.cnn_path_sum_error(cnn, unrolled, images)
print(f"unrolled CNN widths {circuits.layer_widths(unrolled)}: "
      f"{circuits.count_circuits(circuits.layer_widths(unrolled)[:-1]):,} circuits; "
      f"max relative |path sum - CNN output| = {conv_error:.1e}")
ledger.record("a bias-free CNN's output is its path sum", "exact identity: CNNs are sparse weight-shared MLPs (§II.7)",
              conv_error, circuits.circuit_identity_holds(conv_error), kind="identity",
              criterion="max relative error < 1e-12 (float64)", detail=f"{len(images)} images at {conv_image}x{conv_image}")

# %% [markdown]
# ## What this chapter measured against the paper
#
# Every circuit identity of the section holds to rounding in float64: the path sum is the output, the first- and
# second-order perturbations sum to the gradient and the Hessian entries, the risk and its gradient have the circuit
# form Li writes, and a bias-free CNN is a path sum too.  The feedback-control loop does what §II.3 and §II.4 say: it
# lowers the hinge risk and shifts the circuits signed by the label towards positive values, though the circuits
# stay almost symmetric.  That the margin violations — Li's informational perturbations — fall as the risk falls
# disagrees: early in training their share rises while the risk falls, and only afterwards falls with it.  Of our own
# checks, the uniformly sampled estimate of $T(x)$ is inconclusive, because its standard error dwarfs the output;
# the cancellation ratio grows more slowly than the square root of the number of open circuits (disagrees) but like
# the square root of their effective number (agrees): the circuits cancel like independent random signs of unequal
# sizes.  These are the verdicts of the quick profile; the table below lists those of the run shown here, each with
# the test it had to pass.

# %%
ledger.table()
