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
# # 2. The stochastic definition of DNNs
#
# Li's §II.2 reads a deep ReLU network as a multilayer probabilistic graphical model, a hybrid of a Markov
# random field and a Bayesian network {cite}`li2022complexity`.  The hierarchical parameterisation of
# chapter 1 (eqs. 4–6) makes the law of the gates ``H_l`` of layer ``l``, given everything below, the
# exponential family ``μ_l(h_l | O_{l-1}) ∝ exp(x^T W_1 dg(h_1) … W_l dg(h_l))``: independent Bernoulli gates
# whose logits are the pre-activations ``z_l = W_l x_{l-1}``.  Writing ``W = Ŵ/T``, the temperature ``T``
# measures the noise of the inference; we keep the network's own weights for the activations and put ``T``
# in the gate law only, ``P(H_l = 1) = σ(z_l / T)`` with ``x_l = h_l ⊙ z_l``, as in chapter 1.  The weights
# themselves are random variables, drawn at initialisation from a symmetric prior.
#
# Two statements of the section are checked here.  First, ReLU is the degenerate, zero-temperature case of
# this network: sampling each layer's gates given the sampled layers below (the Monte Carlo approximation of
# the intractable marginal written before eq. 7) turns into the ReLU rule of eq. 7, and the network into the
# ReLU network computing the logit of eq. 8.  Second, training is a *generalised EM algorithm* ({cite}`bishop2006pattern`,
# §9.4, Li's ref. 96): the forward pass infers the gates with the
# weights fixed (E-step), and gradient descent then changes all weights with the gates fixed (M-step).  We
# then train the stochastic network itself, at several temperatures, next to the deterministic one.

# %% tags=["parameters"]
profile = "quick"
claims_path = None
dataset = "fashion-mnist"
positive = [0, 2, 4, 6]
pca_k = 10
n_train = 2000
n_test = 500
hidden = [32, 32]
temperatures = [3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 1e-5, 1e-6, 1e-8]
n_samples = 200
n_draws = 5
em_depths = [1, 2, 3, 4]
train_temperatures = [1.0, 0.3, 0.1, 0.03]
train_epochs = 30
lr = 0.05
batch_size = 100
seed = 0

# %%
import dataclasses

import numpy as np
import matplotlib.pyplot as plt
import torch
from scipy.stats import spearmanr

from adaptsym import stochastic
from adaptsym.claims import Ledger
from adaptsym.data import load_task
from adaptsym.device import resolve_device
from adaptsym.models import relu_mlp
from adaptsym.plotting import panels, use_book_style
from adaptsym.train import TrainConfig, train_run

use_book_style()
device = resolve_device("auto")
ledger = Ledger("2 stochastic", profile, path=claims_path)


def generator(offset=0):
    """A fresh gate generator on the compute device, so every section's draws are reproducible on their own."""
    return torch.Generator(device).manual_seed(seed + offset)


# %% [markdown]
# ## 2.1 Sampling the stochastic network
#
# The data are those of chapter 1: a binary Fashion-MNIST task (tops against the rest) on PCA components
# scaled to unit variance.  We take the network at initialisation, with the weights drawn from the symmetric
# prior, and the same architecture after training it deterministically with the hinge risk (eq. 12).  One
# sample of the stochastic network draws ``H_1`` given ``x``, then ``H_2`` given ``x`` and ``h_1``, and so on,
# and outputs ``T(x) = x^T W_1 dg(h_1) … W_L``; many samples are drawn at once for every input.

# %%
task = load_task(dataset, positive=tuple(positive), n_train=n_train, n_test=n_test, pca_k=pca_k, seed=seed,
                 dtype=torch.float64, device=device)
scale = task.x_train.std()
x_train, x_test, y_train, y_test = task.x_train / scale, task.x_test / scale, task.y_train, task.y_test
print(task.description)

base = TrainConfig(model="mlp", widths=(pca_k, *hidden, 1), optimizer="sgd", lr=lr, momentum=0.9,
                   batch_size=batch_size, epochs=train_epochs, seed=seed, dtype="float64",
                   snapshot_epochs=(0, train_epochs), data_key=task.description)
deterministic = train_run(base, x_train, y_train, x_test, y_test, device=device)
networks = {"initialisation": deterministic.model(0, device=device), "trained": deterministic.model(device=device)}
print(f"deterministic run: test accuracy {deterministic.history[-1]['test_accuracy']:.3f} "
      f"after {train_epochs} epochs  (cached in {deterministic.path})")

# %%
shown_temperatures, shown_inputs = [1.0, 0.1, 0.01], 3
net = networks["initialisation"]
with torch.no_grad():
    relu_out = net(x_test[:shown_inputs])[:, 0].cpu().numpy()
    shown = {t: stochastic.sample_outputs(net, x_test[:shown_inputs], t, n_samples, generator()).cpu().numpy()
             for t in shown_temperatures}
fig, axes = panels(shown_inputs)
for k, ax in enumerate(axes):
    bins = np.linspace(min(s[:, k].min() for s in shown.values()), max(s[:, k].max() for s in shown.values()), 40)
    for t, samples in shown.items():
        ax.hist(samples[:, k], bins=bins, alpha=0.6, label=f"T = {t}")
    ax.axvline(relu_out[k], color="k", lw=1, label="ReLU network")
    ax.set(xlabel="sampled output T(x)", ylabel="samples", title=f"test input {k}, initialisation")
axes[0].legend()
plt.show()

# %% [markdown]
# ## 2.2 As ``T → 0`` the stochastic network becomes the ReLU network (eqs. 7–8)
#
# For each temperature we draw `n_samples` networks on every test input and measure, relative to the mean
# ``|T_ReLU(x)|``, the mean distance of a sample from the ReLU output and the distance of the samples' mean
# from it.  A gate flips away from its ReLU value with probability ``σ(−|z|/T)``, and a flip moves the
# activation by ``|z|``; with a finite density of pre-activations at zero both factors are ``O(T)``, so the
# error should fall roughly like ``T²`` until ``T`` drops below the smallest ``|z|`` over the finite test set, after
# which it vanishes exponentially — to exactly zero in floating point.

# %%
curves = {name: stochastic.convergence_to_relu(net, x_test, temperatures, n_samples, generator(1))
          for name, net in networks.items()}
fig, axes = panels(2)
for ax, (name, curve) in zip(axes, curves.items()):
    ax.loglog(curve.temperatures, np.maximum(curve.sample_error / curve.scale, 1e-18), "o-", ms=3,
              label="mean |sample − ReLU|")
    ax.loglog(curve.temperatures, np.maximum(curve.mean_error / curve.scale, 1e-18), "s--", ms=3,
              label="|mean of samples − ReLU|")
    ax.set(xlabel="temperature T", ylabel="error / mean |T_ReLU(x)|", title=name, ylim=(1e-18, 10))
    ax.legend()
plt.show()
for name, curve in curves.items():
    middle = (curve.temperatures <= 0.3) & (curve.temperatures >= 3e-3) & (curve.sample_error > 0)
    slope = np.polyfit(np.log(curve.temperatures[middle]), np.log(curve.sample_error[middle]), 1)[0]
    print(f"{name}: relative sample error at T={temperatures[0]}: {curve.sample_error[0] / curve.scale:.3f}, "
          f"at T={temperatures[-1]}: {curve.sample_error[-1] / curve.scale:.2e}; "
          f"log-log slope for 3e-3 <= T <= 0.3: {slope:.2f}")

# %%
for name, curve in curves.items():
    coldest = curve.sample_error[-1] / curve.scale
    trend = spearmanr(curve.temperatures, curve.sample_error).statistic
    ledger.record(f"stochastic output -> ReLU output as T -> 0 (eqs. 7-8), {name}",
                  "ReLU is the T -> 0 limit of the stochastic network", coldest,
                  bool(coldest <= 1e-6 and trend >= 0.9),
                  detail=f"relative error at T={temperatures[-1]}; rank correlation of error with T: {trend:.3f}",
                  dataset=task.description)

# %% [markdown]
# ## 2.3 Training as generalised EM: the M-step gradient is backpropagation
#
# Hold the gates fixed and the network is linear in every weight matrix: the *gated linear network*
# ``x^T W_1 dg(h_1) … W_L``.  The M-step takes the gradient of the hinge risk of that network with the
# E-step's gates held fixed.  With the zero-temperature E-step — the ReLU gates, where the Monte Carlo sample
# is the expectation — this is exactly the gradient backpropagation computes for the ReLU network, since
# ReLU's derivative is its gate.  We check the identity on the whole training set, for the chapter's network
# before and after training and for random networks of several depths.

# %%
identity = {}
for name, net in networks.items():
    em = stochastic.m_step_gradient(net, x_train, y_train, stochastic.e_step(net, x_train))
    identity[name] = stochastic.gradient_distance(em, stochastic.backprop_gradient(net, x_train, y_train))[0]
for depth in em_depths:
    net = relu_mlp([pca_k, *[hidden[0]] * depth, 1], seed=seed + depth, dtype=torch.float64, device=device)
    em = stochastic.m_step_gradient(net, x_train, y_train, stochastic.e_step(net, x_train))
    identity[f"{depth} hidden layers, random"] = stochastic.gradient_distance(
        em, stochastic.backprop_gradient(net, x_train, y_train))[0]
for name, gap in identity.items():
    print(f"max |M-step gradient (ReLU gates) - backprop gradient|, {name}: {gap:.2e}")
worst_identity = max(identity.values())
ledger.record("M-step gradient with ReLU gates = backprop gradient (generalised EM)", "identity",
              worst_identity, worst_identity <= 1e-12,
              detail=f"max abs difference, float64, over {len(identity)} networks", dataset=task.description)

# %% [markdown]
# At ``T > 0`` the E-step samples the gates instead, and the M-step follows the gradient of a network whose
# gates differ from the ReLU ones wherever a pre-activation lies within about ``T`` of zero.  A fraction of
# order ``T`` of the gates flip, and unlike the output, the gradient changes by an ``O(1)`` amount per flip
# (a gate multiplies the back-propagated signal, not ``z``).  The relative distance of the two gradients
# should therefore shrink like a power of ``T`` between ``√T`` (changes from different flips in unrelated
# directions, adding in quadrature) and ``T`` (changes adding coherently), again until ``T`` falls below the
# smallest ``|z|`` and the sampled gates *are* the ReLU gates.

# %%
gaps = {name: stochastic.sampled_gradient_gap(net, x_train, y_train, temperatures, generator(2), n_draws)
        for name, net in networks.items()}
fig, (ax,) = panels(1, width=4.5)
for name, gap in gaps.items():
    ax.loglog(temperatures, np.maximum(gap, 1e-18), "o-", ms=3, label=name)
ax.set(xlabel="temperature T of the E-step", ylabel="|g_T − g_backprop| / |g_backprop|", ylim=(1e-18, 10),
       title=f"mean over {n_draws} E-steps")
ax.legend()
plt.show()
temperatures_array = np.asarray(temperatures)
middle = (temperatures_array <= 0.3) & (temperatures_array >= 1e-4) & np.all([g > 0 for g in gaps.values()], 0)
for name, gap in gaps.items():
    slope = np.polyfit(np.log(temperatures_array[middle]), np.log(gap[middle]), 1)[0]
    print(f"{name}: relative gradient gap at T={temperatures[0]}: {gap[0]:.3f}, at T={temperatures[-1]}: "
          f"{gap[-1]:.2e}; log-log slope over the middle temperatures: {slope:.2f}")
coldest_gap = max(gap[-1] for gap in gaps.values())
trend = min(spearmanr(temperatures, gap).statistic for gap in gaps.values())
ledger.record("M-step gradient with sampled gates -> backprop gradient as T -> 0", "E-step degenerates to ReLU",
              coldest_gap, bool(coldest_gap <= 1e-12 and trend >= 0.9),
              detail=f"relative gap at T={temperatures[-1]}; smallest rank correlation with T: {trend:.3f}",
              dataset=task.description)

# %% [markdown]
# ## 2.4 Training the stochastic network at several temperatures
#
# Now the E-step samples the gates in every minibatch of training, at temperature ``T``, and the M-step
# moves the weights along the gradient with those gates fixed (`TrainConfig(temperature=T)`; everything else
# as in the deterministic run).  The curves below are always those of the *deterministic* ReLU network with
# the current weights — the network the stochastic one collapses to as ``T → 0`` — next to the deterministic
# run; the dotted lines show the stochastic network's own mean training loss during each epoch.

# %%
runs = {0.0: deterministic}
for t in train_temperatures:
    runs[t] = train_run(dataclasses.replace(base, temperature=t), x_train, y_train, x_test, y_test, device=device)
fig, (ax_loss, ax_acc) = panels(2, width=4.2, height=3.2)
for t, run in runs.items():
    history = run.history
    epochs = [h["epoch"] for h in history]
    label = "deterministic (ReLU)" if t == 0 else f"T = {t}"
    line, = ax_loss.plot(epochs, [h["train_loss"] for h in history], label=label)
    ax_loss.plot(epochs, [h["test_loss"] for h in history], "--", color=line.get_color())
    if t:
        ax_loss.plot(epochs[1:], [h["train_stochastic_loss"] for h in history[1:]], ":", color=line.get_color())
    ax_acc.plot(epochs, [h["train_accuracy"] for h in history], color=line.get_color(), label=label)
    ax_acc.plot(epochs, [h["test_accuracy"] for h in history], "--", color=line.get_color())
ax_loss.set(xlabel="epoch", ylabel="hinge risk of the ReLU network", yscale="log",
            title="train (solid), test (dashed), stochastic (dotted)")
ax_acc.set(xlabel="epoch", ylabel="accuracy of the ReLU network", ylim=(0.5, 1.0), title="train (solid), test (dashed)")
ax_acc.legend()
plt.show()
print(f"{'T':>8} {'train risk':>11} {'test risk':>10} {'train acc':>10} {'test acc':>9} {'stochastic loss':>16}")
for t, run in runs.items():
    h = run.history[-1]
    print(f"{t:>8} {h['train_loss']:>11.4f} {h['test_loss']:>10.4f} {h['train_accuracy']:>10.3f} "
          f"{h['test_accuracy']:>9.3f} {h.get('train_stochastic_loss') or float('nan'):>16.4f}")

# %% [markdown]
# Every temperature trains the ReLU network: the E-step's noise does not stop the M-step from lowering the
# deterministic risk.  Hot E-steps train it more slowly, since their gradients point partly along gates the
# ReLU network does not use; as ``T`` falls the runs approach the deterministic one.  We call the coldest run
# indistinguishable from the deterministic one if their final test accuracies differ by less than twice the
# binomial standard error of an accuracy measured on the test set.

# %%
initial = deterministic.history[0]["train_loss"]
final_risks = {t: run.history[-1]["train_loss"] for t, run in runs.items()}
ledger.record("generalised EM with sampled gates trains the ReLU network at every T",
              "training is generalised EM", max(final_risks.values()) / initial,
              all(risk < 0.5 * initial for risk in final_risks.values()),
              detail=f"largest final / initial ReLU train risk over T in {train_temperatures} and T = 0",
              dataset=task.description)
coldest_t = min(train_temperatures)
accuracy = {t: run.history[-1]["test_accuracy"] for t, run in runs.items()}
standard_error = np.sqrt(accuracy[0.0] * (1 - accuracy[0.0]) / len(y_test))
gap = abs(accuracy[coldest_t] - accuracy[0.0])
ledger.record(f"training at T = {coldest_t} matches deterministic (ReLU) training", "ReLU is the T -> 0 limit",
              gap, bool(gap <= 2 * standard_error),
              detail=f"|test accuracy difference|; twice its binomial standard error: {2 * standard_error:.3f}",
              dataset=task.description)

# %% [markdown]
# ## What this chapter measured
#
# Sampling the gates of Li's graphical model layer by layer gives a network whose output converges to the
# ReLU network's as the temperature goes to zero, reaching it exactly once ``T`` is below the gates' margins;
# the M-step of the generalised EM reading, a gradient with the gates held fixed, is exactly backpropagation
# when the E-step is the ReLU rule; and training the stochastic network itself, with sampled gates, trains the
# deterministic network too, more slowly when hot and like the deterministic run when cold.

# %%
for claim in ledger.claims:
    print(f"{claim.verdict:>12}  {claim.name}")
