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
# # 1. The Umwelt formalism
#
# Li's §II.1 builds a deep ReLU network from statistics rather than from architecture
# {cite}`li2022complexity`.  A system that sees data ``x`` maximises the entropy of binary "object" variables
# ``h`` — the *gates* — subject to constraints that couple them to what was already observed (eq. 1).  The
# solution is an exponential family (eqs. 2–3).  Stacking such problems scale by scale and parameterising
# the multipliers hierarchically (eqs. 4–6) gives exactly the energy of a bias-free network,
# ``x^T W_1 dg(h_1) ... W_l dg(h_l)``.  Writing the weights as ``W = Ŵ/T`` and letting the temperature
# ``T → 0`` turns the sampling of each layer's gates into the ReLU rule (eq. 7), and the intractable marginal
# over lower layers into its degenerate, point-mass approximation (eq. 8).
#
# This chapter computes each of those steps exactly on small cases and records what it measured in the
# {doc}`claims ledger </book/claims>`.  Change the parameters below (or run
# `adaptsym run umwelt -p name=value`) to vary any of it.

# %% tags=["parameters"]
profile = "quick"
claims_path = None
maxent_n = 8
maxent_inputs = 3
maxent_contexts = 40
depths = [1, 2, 3, 4, 5, 6]
width = 20
dataset = "fashion-mnist"
positive = [0, 2, 4, 6]
pca_k = 10
n_train = 2000
n_examples = 200
gate_hidden = [32, 32]
train_epochs = 30
temperatures = [3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 3e-5, 1e-5]
tiny_hidden = [4, 4, 4]
seed = 0

# %%
import numpy as np
import matplotlib.pyplot as plt
import torch

from adaptsym import umwelt
from adaptsym.claims import Ledger
from adaptsym.data import load_task
from adaptsym.models import relu_mlp
from adaptsym.plotting import panels, use_book_style
from adaptsym.train import TrainConfig, train_run

use_book_style()
torch.manual_seed(seed)
rng = np.random.default_rng(seed)
ledger = Ledger("1 umwelt", profile, path=claims_path)

# %% [markdown]
# ## 1.1 The enclosed maximum-entropy problem (eqs. 1–3)
#
# At scale 1 the observed variable is the input ``x`` and the gates ``h ∈ {0,1}^n`` are unknown.  Eq. 1
# asks for the law ``μ(h|x)`` of largest entropy whose couplings ``E[x_{i0} h_{i1}]`` equal given values
# ``τ_{i0 i1}``, the expectation running over the gates and over the observed data.  We take
# `maxent_contexts` inputs, draw the constraints ``τ`` from a law ``ν(h|x)`` with no structure at all
# (random Dirichlet rows), and solve eq. 1 by enumerating all ``2^n`` gate states and minimising the convex
# dual ``mean_x log Z(x; λ) − λ·τ`` with a trust-region Newton method.

# %%
contexts = rng.normal(size=(maxent_contexts, maxent_inputs))
features = umwelt.coupling_features(contexts, maxent_n)
teacher = umwelt.random_conditional_law(maxent_contexts, maxent_n, seed=seed)
tau = umwelt.expected_statistics(teacher, features)
scale1 = umwelt.solve_enclosed_maxent(features, tau)
multipliers = scale1.multipliers.reshape(maxent_inputs, maxent_n)
print(f"{2**maxent_n} gate states x {maxent_contexts} inputs, {tau.size} constraints")
print(f"max |E_mu[x h] - tau| = {scale1.constraint_error:.2e}")
print(f"entropy: max-ent solution {scale1.entropy:.4f} nats, the law that generated tau {umwelt.conditional_entropy(teacher):.4f} nats")

# %% [markdown]
# The solution is the exponential family of eqs. 2–3 with multipliers ``λ``, and because the statistics are
# linear in each gate, it factorises: every gate is an independent Bernoulli variable whose logit is
# ``(λ^T x)_i``.  That is eq. 6 at scale 1, with ``W_1 = λ``: the maximum-entropy gate *is* a logistic
# neuron.  We check the factorised form against the enumerated law state by state.

# %%
factorised = umwelt.bernoulli_gate_law(contexts @ multipliers)
form_error = np.abs(factorised - scale1.law).max()
print(f"max |enumerated law - product of Bernoulli(sigma(lambda^T x))| = {form_error:.2e}")

fig, (ax_tau, ax_law) = panels(2)
ax_tau.plot(tau, umwelt.expected_statistics(scale1.law, features), ".", ms=4)
ax_tau.plot([tau.min(), tau.max()], [tau.min(), tau.max()], "k-", lw=0.6)
ax_tau.set(xlabel="constraint τ", ylabel="E_μ[x h] of the solution", title="eq. 1: constraints met")
order = np.argsort(teacher[0])[::-1]
ax_law.semilogy(teacher[0][order], ".", ms=3, label="ν (generated τ)")
ax_law.semilogy(scale1.law[0][order], ".", ms=3, label="μ (maximum entropy)")
ax_law.set(xlabel="gate state (sorted by ν)", ylabel="probability", title="one input: ν vs μ")
ax_law.legend()
plt.show()

ledger.record("max-ent constraints met (eq. 1)", "constraints hold exactly",
              scale1.constraint_error, scale1.converged and scale1.constraint_error <= 1e-8,
              detail=f"n={maxent_n}, {maxent_contexts} inputs")
ledger.record("max-ent solution is the exponential family of eqs. 2-3", "exponential-family form",
              form_error, form_error <= 1e-10, detail="max deviation from product of Bernoulli gates")
ledger.record("max-ent entropy >= entropy of any law meeting the constraints", "maximum entropy",
              scale1.entropy - umwelt.conditional_entropy(teacher),
              scale1.entropy >= umwelt.conditional_entropy(teacher), detail="entropy gap (nats)")

# %% [markdown]
# ## 1.2 The next scale and the hierarchical parameterisation (eqs. 4–6)
#
# At scale 2 the gates of scale 1 are observed too: we draw ``h_1`` from the solution above and solve eq. 1
# for fresh gates ``h_2`` with statistics ``x_{i0} h^1_{i1} h^2_{i2}``.  The multipliers now form a tensor
# ``λ^2_{i0 i1 i2}`` with ``n_0 n_1 n_2`` entries.

# %%
state_index = np.array([rng.choice(2**maxent_n, p=p) for p in scale1.law])
h1 = umwelt.gate_states(maxent_n)[state_index]
contexts2 = np.einsum("ma,mi->mai", contexts, h1).reshape(maxent_contexts, -1)
n2 = max(2, maxent_n // 2)
features2 = umwelt.coupling_features(contexts2, n2)
tau2 = umwelt.expected_statistics(umwelt.random_conditional_law(maxent_contexts, n2, seed=seed + 1), features2)
scale2 = umwelt.solve_enclosed_maxent(features2, tau2)
print(f"scale 2: {tau2.size} multipliers, max constraint error {scale2.constraint_error:.2e}")

# %% [markdown]
# Li's hierarchical parameterisation (eq. 4) replaces each full tensor by a product of matrices,
# ``λ^s_i = Π_{s'} w^{s'}_{i_{s'-1} i_{s'}}``, reusing the lower scales' factors.  The exponent of eq. 5 (a
# sum over every index tuple) then collapses to the matrix product of eq. 6.  We check that identity on
# random weights and gates for every depth, and count parameters: the full tensors grow as ``n^{L+1}``, the
# hierarchical ones as ``L n^2``.

# %%
identity_errors = []
for depth in depths:
    sizes = [maxent_inputs] + [min(width, 6)] * depth
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    gates = [rng.integers(0, 2, size=b).astype(float) for b in sizes[1:]]
    x = rng.normal(size=sizes[0])
    tensor_form = umwelt.exponent_tensor_form(x, gates, weights)
    matrix_form = umwelt.exponent_matrix_form(x, gates, weights)
    identity_errors.append(abs(tensor_form - matrix_form) / max(1.0, abs(tensor_form)))
print("relative |eq. 5 - eq. 6| per depth:", ", ".join(f"{e:.1e}" for e in identity_errors))

full = [umwelt.full_tensor_parameter_count([width] * (d + 1)) for d in depths]
hier = [umwelt.hierarchical_parameter_count([width] * (d + 1)) for d in depths]
print(f"{'depth':>5} {'full tensors (eq. 2)':>22} {'hierarchical (eq. 4)':>22}")
for d, f, h in zip(depths, full, hier):
    print(f"{d:>5} {f:>22,} {h:>22,}")
fig, (ax,) = panels(1, width=4.5)
ax.semilogy(depths, full, "o-", label="full multiplier tensors (eq. 2)")
ax.semilogy(depths, hier, "s-", label="hierarchical weights (eq. 4)")
ax.set(xlabel="depth L", ylabel="number of parameters", title=f"width {width}")
ax.legend()
plt.show()

ledger.record("scale-2 max-ent constraints met", "constraints hold exactly", scale2.constraint_error,
              scale2.converged)
ledger.record("eq. 5 (tensor sum) equals eq. 6 (matrix product)", "identity", max(identity_errors),
              max(identity_errors) <= 1e-12, detail=f"depths {depths}")
ledger.record(f"parameters at depth {depths[-1]}, width {width}: full / hierarchical",
              "exponential vs linear growth in depth", full[-1] / hier[-1], full[-1] > hier[-1])

# %% [markdown]
# ## 1.3 Temperature: from sampled gates to ReLU (eq. 7)
#
# Given the gates below, eq. 6 makes the gates of layer ``l`` independent Bernoulli variables with logits
# ``z_l / T``, where ``z_l = W_l x_{l-1}`` is the pre-activation.  As ``T → 0`` each gate becomes the
# indicator ``z > 0``: the ReLU gate of eq. 7.  We measure the total-variation distance between the gate law
# at temperature ``T`` and the ReLU pattern on real data, for a bias-free ReLU network at initialisation and
# after training it with the hinge loss.  Inputs are PCA components scaled to unit variance, the
# ``Θ(1)`` normalisation of Li's §II.7.

# %%
task = load_task(dataset, positive=tuple(positive), n_train=n_train, n_test=n_examples, pca_k=pca_k,
                 seed=seed, dtype=torch.float64)
scale = task.x_train.std()
x_train, x_eval = task.x_train / scale, task.x_test / scale
print(task.description)

config = TrainConfig(model="mlp", widths=(pca_k, *gate_hidden, 1), optimizer="sgd", lr=0.05, momentum=0.9,
                     batch_size=100, epochs=train_epochs, seed=seed, dtype="float64",
                     snapshot_epochs=(0, train_epochs), data_key=task.description)
run = train_run(config, x_train, task.y_train, x_eval, task.y_test)
final = run.history[-1]
print(f"trained {train_epochs} epochs: train hinge risk {final['train_loss']:.3f}, "
      f"test accuracy {final['test_accuracy']:.3f}  (run cached in {run.path})")
networks = {"initialisation": run.model(0), "trained": run.model()}

# %%
with torch.no_grad():
    tv_relu = {name: np.array([[d.mean().item() for d in umwelt.relu_gate_distance(net, x_eval, t)]
                               for t in temperatures]) for name, net in networks.items()}
fig, axes = panels(2)
for ax, (name, tv) in zip(axes, tv_relu.items()):
    for layer in range(tv.shape[1]):
        ax.loglog(temperatures, np.maximum(tv[:, layer], 1e-300), "o-", ms=3, label=f"layer {layer + 1}")
    ax.set(xlabel="temperature T", ylabel="TV(gate law at T, ReLU gates)", title=name, ylim=(1e-8, 1.5))
    ax.legend()
plt.show()
for name, tv in tv_relu.items():
    print(f"{name}: mean TV at T={temperatures[0]}: {tv[0].round(3)}; at T={temperatures[-1]}: {tv[-1]}")

# %% [markdown]
# The distance is one minus the probability that *every* gate of the layer takes its ReLU value, so it is
# at most ``Σ_i exp(−|z_i|/T)``: a gate stays uncertain while its pre-activation lies within about ``T`` of
# zero.  For a finite set of inputs the fall therefore turns exponential once ``T`` is below the smallest
# ``|z_i|`` — the gates' margin, printed below; averaged over a continuous input law it would be linear in
# ``T``, since pre-activations have a finite density at zero.

# %%
with torch.no_grad():
    for name, net in networks.items():
        margins = [z.abs().min().item() for z in umwelt.relu_pre_activations(net, x_eval)]
        print(f"{name}: smallest |z| per layer over the {len(x_eval)} inputs: {np.round(margins, 5)}")

# %%
coldest = max(tv[-1].max() for tv in tv_relu.values())
monotone = all(np.all(np.diff(tv, axis=0) <= 1e-15) for tv in tv_relu.values())
ledger.record("gate law -> ReLU pattern as T -> 0 (eq. 7)", "TV distance falls to 0",
              coldest, bool(monotone and coldest < 1e-2),
              detail=f"largest mean TV at T={temperatures[-1]}; monotone in T: {monotone}",
              dataset=task.description)

# %% [markdown]
# ## 1.4 The exact marginal versus its degenerate approximation (eq. 8)
#
# The exact law of layer ``l`` given only ``x`` sums over every state of the layers below,
# ``μ_l(h_l|x) = Σ_{h_{l-1}} μ_l(h_l|h_{l-1}, …) μ_{l-1}(h_{l-1}|…)``: ``2^{n_1+…+n_{l-1}}`` terms.  For a tiny
# network we do that sum exactly and compare it with the degenerate approximation that ReLU computes, which
# replaces every lower layer by its ReLU pattern (eq. 8).  The first layer has nothing below it, so its
# two laws coincide; the deeper layers show the approximation error.

# %%
tiny = relu_mlp([pca_k, *tiny_hidden, 1], seed=seed, dtype=torch.float64, device="cpu")
with torch.no_grad():
    curves = []
    for t in temperatures:
        exact = umwelt.exact_gate_marginals(tiny, x_eval, t)
        degenerate = umwelt.degenerate_gate_marginals(tiny, x_eval, t)
        relu = umwelt.relu_gate_marginals(tiny, x_eval)
        curves.append([[umwelt.total_variation(e, d).mean().item(), umwelt.total_variation(e, r).mean().item()]
                       for e, d, r in zip(exact, degenerate, relu)])
curves = np.array(curves)  # (temperature, layer, [vs degenerate, vs ReLU])
fig, axes = panels(2)
for layer in range(curves.shape[1]):
    axes[0].loglog(temperatures, np.maximum(curves[:, layer, 0], 1e-300), "o-", ms=3, label=f"layer {layer + 1}")
    axes[1].loglog(temperatures, np.maximum(curves[:, layer, 1], 1e-300), "o-", ms=3, label=f"layer {layer + 1}")
axes[0].set(xlabel="temperature T", ylabel="TV(exact, degenerate eq. 8)", ylim=(1e-8, 1.5),
            title=f"hidden widths {tiny_hidden}")
axes[1].set(xlabel="temperature T", ylabel="TV(exact, ReLU point mass)", ylim=(1e-8, 1.5))
for ax in axes:
    ax.legend()
plt.show()
worst = curves[:, 1:, 0].max()
print(f"largest TV(exact, degenerate) over T and layers >= 2: {worst:.3f} "
      f"at T={temperatures[int(curves[:, 1:, 0].max(axis=1).argmax())]}")
print(f"at T={temperatures[-1]}: {curves[-1, :, 0]}")

ledger.record("exact marginal -> degenerate ReLU marginal as T -> 0 (eq. 8)",
              "degenerate approximation exact in the T -> 0 limit", curves[-1, :, 0].max(),
              bool(curves[-1, :, 0].max() < 1e-2), detail=f"largest TV at T={temperatures[-1]}; "
              f"largest over all T: {worst:.3f}", dataset=task.description)
ledger.record("first gate layer: exact and degenerate laws coincide", "no layer below to sum over",
              curves[:, 0, 0].max(), bool(curves[:, 0, 0].max() <= 1e-12), dataset=task.description)

# %% [markdown]
# ## What this chapter measured
#
# The maximum-entropy gates of eq. 1 are logistic neurons; stacking them with hierarchically parameterised
# multipliers is a bias-free network whose parameters grow linearly rather than exponentially with depth; and
# in the cold limit both the gate law and the exact marginal collapse onto the ReLU network.  At intermediate
# temperatures the degenerate approximation is not exact: the table below lists every claim with the
# profile and data set it came from.

# %%
for claim in ledger.claims:
    print(f"{claim.verdict:>12}  {claim.name}")
