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
# Li's §II.3 rewrites the energy of eq. 6 — the output ``T(x)`` of a bias-free ReLU network — as a sum over
# every input-to-output path of a product of the input, the weights and the gates along it {cite}`li2022complexity`:
#
# ``T(x) = Σ_i x_{i0} Ψ_i``, with the *basis circuit* ``Ψ_i = w^1_{i0 i1} h^1_{i1} … w^L_{i_{L-1} i_L}`` (eqs. 10–11).
#
# Training is then a feedback-control loop (eq. 13): the circuits compute a coarse-grained variable ``T``,
# the hinge risk (eq. 12) compares it with the label, and the gradient — itself a sum of circuits with one
# weight differentiated out (eq. 16) — adjusts every circuit.  Second derivatives are sums of circuits with
# two weights differentiated out (eq. 19).  This chapter checks each identity exactly on real data, draws
# Fig. 2, runs the loop, and counts circuits.  Below, ``Ψ`` includes the input factor ``x_{i0}``.

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
conv_channels = [3, 3]
conv_image = 7
seed = 0

# %%
import numpy as np
import matplotlib.pyplot as plt
import torch

from adaptsym import circuits, plotting
from adaptsym.claims import Ledger
from adaptsym.data import load_task
from adaptsym.models import relu_mlp, vgg_cnn
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
# ## 3.1 Fig. 2: a network as an assembly of basis circuits
#
# A small network on one real input.  Every edge is a weight (red positive, blue negative, width ∝ |w|), every
# hidden node a gate (filled when open, ``h = 1``).  A basis circuit is a path from an input to the output;
# it contributes only if every gate along it is open.  The highlighted path is the input's largest circuit;
# the output is the sum — the assembly — of all of them.

# %%
small = relu_mlp([pca_k, *diagram_hidden, 1], seed=seed, dtype=torch.float64, device="cpu")
x0 = x_check[0]
assembly = circuits.circuit_assembly(small, x0)
fig = plotting.basis_circuit_figure(assembly)
plt.show()
print(f"{assembly.values.numel()} circuits, {int((assembly.values != 0).sum())} with all gates open; "
      f"sum {assembly.values.sum().item():.6f} vs T(x) {assembly.output:.6f}")

# %% [markdown]
# ## 3.2 The path sum, the gradient and the Hessian entries are circuit sums
#
# On `n_check` test images we compare, in float64:
# the path sum with the forward pass (eqs. 10–11); for *every* weight, the sum of its first-order
# perturbations (eq. 16) with autograd's ``∂T/∂w``; and for `hessian_pairs` random weight pairs (all pairs in
# the smoke profile), the sum of second-order perturbations (eq. 19) with the dense autograd Hessian.

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
ledger.record("path sum equals the output (eqs. 10-11)", "exact identity", errors.path_sum,
              circuits.circuit_identity_holds(errors.path_sum), detail=f"max relative error, {len(x_check)} inputs")
ledger.record("first-order circuits sum to the gradient (eq. 16)", "exact identity", errors.gradient,
              circuits.circuit_identity_holds(errors.gradient), detail=f"{n_weights} weights x {len(x_check)} inputs")
ledger.record("second-order circuits sum to Hessian entries (eq. 19)", "exact identity", errors.hessian,
              circuits.circuit_identity_holds(errors.hessian), detail=f"{len(pairs)} pairs x {len(x_check)} inputs")
ledger.record("within-layer Hessian blocks of T vanish", "no circuit passes two weights of one layer",
              errors.same_layer, errors.same_layer_blocks_vanish())

# %% [markdown]
# ## 3.3 The risk in circuit form and the feedback-control loop (eqs. 12–13)
#
# The hinge risk is ``R = E[max(0, 1 − y Σ_i Ψ_i(x))]`` (eq. 12).  Gradient descent on it (eq. 13) is the
# loop: circuits compute ``T``, the label feeds back through ``−y`` on every example whose margin is below 1,
# and every circuit through a changed weight moves.  We run full-batch gradient descent and look at the
# circuits signed by the label, ``yΨ_i(x)``, at several snapshots.  As the risk falls the margin ``yT(x)`` —
# the sum over circuits — passes 1, yet the circuits themselves stay almost symmetric: about half of the open
# ones still point against the label.  The second panel shows what the loop does to their distribution,
# measured in bins that hold equal mass at initialisation: mass leaves the centre for *both* tails (the
# weights grow), the positive tail gaining a little more.  The mean moves by only a few percent of the
# spread (third panel): the output is a small asymmetry summed over many circuits.

# %%
config = TrainConfig(model="mlp", widths=(pca_k, *loop_hidden, 1), optimizer="sgd", lr=loop_lr,
                     batch_size=None, epochs=loop_epochs, seed=seed, dtype="float64",
                     snapshot_epochs=tuple(loop_snapshots), data_key=task.description)
run = train_run(config, x_train, task.y_train, x_check, y_check)
risk_circuit_form, risk_direct = circuits.risk_both_ways(run.model(), x_check, y_check)
print(f"test hinge risk: circuit form {risk_circuit_form:.12f}, network {risk_direct:.12f}")
risk_error = abs(risk_circuit_form - risk_direct)
ledger.record("hinge risk in circuit form equals the network's (eq. 12)", "exact identity",
              risk_error, circuits.circuit_identity_holds(risk_error))

# %%
loop = circuits.feedback_loop(run, loop_snapshots, x_check, y_check)
fig = plotting.feedback_loop_figure(loop)
plt.show()
for epoch, risk, margin, mean, share in zip(loop.epochs, loop.train_risk, loop.mean_margin, loop.open_mean,
                                            loop.open_fraction):
    print(f"step {epoch:>4}: train risk {risk:.4f}, mean yT {margin:+.3f}, "
          f"mean yΨ over open circuits {mean:+.2e}, open circuits {share:.2f}")

ledger.record("gradient descent on the circuit risk lowers the hinge risk (eq. 13)", "the loop reduces the risk",
              loop.risk_ratio(), loop.lowers_risk(),
              detail=f"train risk ratio step {loop_snapshots[-1]}/step {loop_snapshots[0]}")
ledger.record("the loop shifts signed circuit values positive", "circuits align with the label",
              loop.margin_increase(), loop.aligns_with_label(),
              detail="increase of the mean margin yT = Σ yΨ on test inputs")

# %% [markdown]
# ## 3.4 How many circuits?
#
# A network of depth ``L`` and width ``n`` has ``n_0 n^{L-1}`` circuits per output but only about ``L n^2``
# weights: circuits share weights, and that sharing is what the next chapters' symmetry arguments count on.
# Enumeration stops being possible long before networks are large, so circuits can also be *sampled*
# uniformly — draw each index of the path independently — and the output estimated without bias as the
# number of paths times their mean value.

# %%
counts, params = circuits.depth_counts(count_width, count_depths)
fig = plotting.depth_growth_figure(count_depths, {"basis circuits n^L": counts, "weights": params}, ylabel="count",
                                   title=f"width {count_width}")
plt.show()
print(f"depth {count_depths[-1]}, width {count_width}: {counts[-1]:.3e} circuits, {params[-1]:,} weights")
ledger.record(f"circuits vs weights at depth {count_depths[-1]}, width {count_width}",
              "circuits grow as n^L, weights linearly in L", counts[-1] / params[-1],
              circuits.circuits_outnumber_weights(counts, params), detail="ratio circuits / weights")

# %%
big = relu_mlp([pca_k] + [sample_width] * (sample_depth - 1) + [1], seed=seed, dtype=torch.float64, device="cpu")
sampled = circuits.estimate_path_sum(big, x0, n_sampled, torch.Generator().manual_seed(seed))
print(f"{sampled.n_paths:.3e} circuits; {n_sampled} sampled: estimate {sampled.estimate:.4f} "
      f"± {sampled.standard_error:.4f}, exact {sampled.exact:.4f} (z = {sampled.z_score:+.2f}); "
      f"open circuits in the sample: {sampled.open_fraction:.3f}")
ledger.record("uniformly sampled circuits estimate T(x) without bias", "(method; not in the paper)",
              sampled.z_score, sampled.unbiased(), detail=f"z-score of the estimate, {sampled.n_paths:.1e} paths")

# %% [markdown]
# The estimate is unbiased but its standard error is many times the output itself: almost every sampled path
# crosses a closed gate, and the few open ones carry values of both signs that are individually far larger
# than their sum.  The output of a wide network is a delicate cancellation among an astronomical number of
# circuits of both signs — the statistical picture that Li's symmetry arguments (Chapter 4 onwards) start
# from.

# %%
print(f"standard error / |T(x)| = {sampled.standard_error / abs(sampled.exact):.3g}")

# %% [markdown]
# ## 3.5 Convolutional networks are circuits too
#
# Li's setting includes bias-free CNNs: a convolution is a sparse linear map with shared weights, so a CNN
# without pooling unrolls into a bias-free ReLU MLP with the same output, and its path sum holds.  (Max
# pooling is an input-dependent selection — a gate of another form — and is not unrolled here.)  A tiny
# two-layer convolutional network on the same images, downsampled to `conv_image`×`conv_image` pixels:

# %%
raw = load_task(dataset, positive=tuple(positive), n_train=10, n_test=n_check, seed=seed, dtype=torch.float64)
images = torch.nn.functional.adaptive_avg_pool2d(raw.x_test.reshape(-1, 1, 28, 28), conv_image)
cnn = vgg_cnn(1, conv_channels, conv_image, pooling=False, seed=seed, dtype=torch.float64, device="cpu")
unrolled = circuits.unroll_conv(cnn, (1, conv_image, conv_image), device="cpu")
conv_error = circuits.cnn_path_sum_error(cnn, unrolled, images)
print(f"unrolled CNN widths {circuits.layer_widths(unrolled)}: "
      f"{circuits.count_circuits(circuits.layer_widths(unrolled)[:-1]):,} circuits; "
      f"max relative |path sum - CNN output| = {conv_error:.1e}")
ledger.record("a bias-free CNN's output is its path sum", "CNNs are sparse weight-shared MLPs (§II.7)",
              conv_error, circuits.circuit_identity_holds(conv_error),
              detail=f"{len(images)} images at {conv_image}x{conv_image}")

# %%
for claim in ledger.claims:
    print(f"{claim.verdict:>12}  {claim.name}")
