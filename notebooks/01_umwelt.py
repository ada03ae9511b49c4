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

from adaptsym import plotting, umwelt
from adaptsym.claims import Ledger
from adaptsym.data import load_task
from adaptsym.models import relu_mlp
from adaptsym.train import TrainConfig, train_run

plotting.use_book_style()
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
scale1 = umwelt.enclosed_maxent(contexts, maxent_n, seed=seed)
print(f"{2**maxent_n} gate states x {maxent_contexts} inputs, {scale1.tau.size} constraints")
print(f"max |E_mu[x h] - tau| = {scale1.solution.constraint_error:.2e}")
print(f"entropy: max-ent solution {scale1.solution.entropy:.4f} nats, "
      f"the law that generated tau {scale1.teacher_entropy:.4f} nats")

# %% [markdown]
# The solution is the exponential family of eqs. 2–3 with multipliers ``λ``, and because the statistics are
# linear in each gate, it factorises: every gate is an independent Bernoulli variable whose logit is
# ``(λ^T x)_i``.  That is eq. 6 at scale 1, with ``W_1 = λ``: the maximum-entropy gate *is* a logistic
# neuron.  We check the factorised form against the enumerated law state by state.

# %%
print(f"max |enumerated law - product of Bernoulli(sigma(lambda^T x))| = {scale1.form_error:.2e}")
fig = plotting.maxent_figure(scale1)
plt.show()

ledger.record("max-ent constraints met (eq. 1)", "constraints hold exactly",
              scale1.solution.constraint_error, scale1.constraints_met(),
              detail=f"n={maxent_n}, {maxent_contexts} inputs")
ledger.record("max-ent solution is the exponential family of eqs. 2-3", "exponential-family form",
              scale1.form_error, scale1.is_exponential_family(), detail="max deviation from product of Bernoulli gates")
ledger.record("max-ent entropy >= entropy of any law meeting the constraints", "maximum entropy",
              scale1.entropy_gap, scale1.entropy_is_maximal(), detail="entropy gap (nats)")

# %% [markdown]
# ## 1.2 The next scale and the hierarchical parameterisation (eqs. 4–6)
#
# At scale 2 the gates of scale 1 are observed too: we draw ``h_1`` from the solution above and solve eq. 1
# for fresh gates ``h_2`` with statistics ``x_{i0} h^1_{i1} h^2_{i2}``.  The multipliers now form a tensor
# ``λ^2_{i0 i1 i2}`` with ``n_0 n_1 n_2`` entries.

# %%
contexts2 = umwelt.next_scale_contexts(contexts, scale1.solution.law, rng)
scale2 = umwelt.enclosed_maxent(contexts2, max(2, maxent_n // 2), seed=seed + 1)
print(f"scale 2: {scale2.tau.size} multipliers, max constraint error {scale2.solution.constraint_error:.2e}")
ledger.record("scale-2 max-ent constraints met", "constraints hold exactly", scale2.solution.constraint_error,
              scale2.constraints_met())

# %% [markdown]
# Li's hierarchical parameterisation (eq. 4) replaces each full tensor by a product of matrices,
# ``λ^s_i = Π_{s'} w^{s'}_{i_{s'-1} i_{s'}}``, reusing the lower scales' factors.  The exponent of eq. 5 (a
# sum over every index tuple) then collapses to the matrix product of eq. 6.  We check that identity on
# random weights and gates for every depth, and count parameters: the full tensors grow as ``n^{L+1}``, the
# hierarchical ones as ``L n^2``.

# %%
identity_errors = umwelt.exponent_identity_errors(depths, maxent_inputs, min(width, 6), rng)
print("relative |eq. 5 - eq. 6| per depth:", ", ".join(f"{e:.1e}" for e in identity_errors))

growth = umwelt.parameter_growth(width, depths)
print(f"{'depth':>5} {'full tensors (eq. 2)':>22} {'hierarchical (eq. 4)':>22}")
for d, f, h in zip(growth.depths, growth.full, growth.hierarchical):
    print(f"{d:>5} {f:>22,} {h:>22,}")
fig = plotting.depth_growth_figure(depths, {"full multiplier tensors (eq. 2)": growth.full,
                                            "hierarchical weights (eq. 4)": growth.hierarchical},
                                   ylabel="number of parameters", title=f"width {width}")
plt.show()

ledger.record("eq. 5 (tensor sum) equals eq. 6 (matrix product)", "identity", max(identity_errors),
              umwelt.exponent_forms_agree(identity_errors), detail=f"depths {depths}")
ledger.record(f"parameters at depth {depths[-1]}, width {width}: full / hierarchical",
              "exponential vs linear growth in depth", growth.ratio, growth.hierarchical_is_smaller())

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
convergence = umwelt.gate_law_convergence(networks, x_eval, temperatures)
fig = plotting.gate_law_figure(convergence)
plt.show()
for name, tv in convergence.distance.items():
    print(f"{name}: mean TV at T={temperatures[0]}: {tv[0].round(3)}; at T={temperatures[-1]}: {tv[-1]}")

# %% [markdown]
# The distance is one minus the probability that *every* gate of the layer takes its ReLU value, so it is
# at most ``Σ_i exp(−|z_i|/T)``: a gate stays uncertain while its pre-activation lies within about ``T`` of
# zero.  For a finite set of inputs the fall therefore turns exponential once ``T`` is below the smallest
# ``|z_i|`` — the gates' margin, printed below; averaged over a continuous input law it would be linear in
# ``T``, since pre-activations have a finite density at zero.

# %%
for name, margins in convergence.margins.items():
    print(f"{name}: smallest |z| per layer over the {len(x_eval)} inputs: {np.round(margins, 5)}")

# %%
ledger.record("gate law -> ReLU pattern as T -> 0 (eq. 7)", "TV distance falls to 0",
              convergence.coldest(), convergence.reaches_relu(),
              detail=f"largest mean TV at T={temperatures[-1]}; monotone in T: {convergence.monotone()}",
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
marginals = umwelt.marginal_comparison(tiny, x_eval, temperatures)
fig = plotting.marginal_figure(marginals, title=f"hidden widths {tiny_hidden}")
plt.show()
print(f"largest TV(exact, degenerate) over T and layers >= 2: {marginals.worst_deeper():.3f} "
      f"at T={marginals.worst_temperature()}")
print(f"at T={temperatures[-1]}: {marginals.to_degenerate[-1]}")

ledger.record("exact marginal -> degenerate ReLU marginal as T -> 0 (eq. 8)",
              "degenerate approximation exact in the T -> 0 limit", marginals.coldest(),
              marginals.exact_when_cold(), detail=f"largest TV at T={temperatures[-1]}; "
              f"largest over all T: {marginals.worst_deeper():.3f}", dataset=task.description)
ledger.record("first gate layer: exact and degenerate laws coincide", "no layer below to sum over",
              marginals.first_layer_gap(), marginals.first_layer_exact(), dataset=task.description)

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
