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

import matplotlib.pyplot as plt
import torch

from adaptsym import plotting, stochastic
from adaptsym.claims import Ledger
from adaptsym.data import load_task
from adaptsym.device import resolve_device
from adaptsym.models import relu_mlp
from adaptsym.train import TrainConfig, train_run

plotting.use_book_style()
device = resolve_device("auto")
ledger = Ledger("2 stochastic", profile, path=claims_path)

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
shown = stochastic.output_samples(networks["initialisation"], x_test[:shown_inputs], shown_temperatures, n_samples,
                                  seed)
fig = plotting.sampled_output_figure(shown, "initialisation")
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
curves = stochastic.relu_convergence(networks, x_test, temperatures, n_samples, seed + 1)
fig = plotting.relu_convergence_figure(curves)
plt.show()
for name, curve in curves.items():
    print(f"{name}: relative sample error at T={temperatures[0]}: {curve.relative_sample_error[0]:.3f}, "
          f"at T={temperatures[-1]}: {curve.relative_sample_error[-1]:.2e}; "
          f"log-log slope for 3e-3 <= T <= 0.3: {curve.slope(3e-3, 0.3):.2f}")

# %%
for name, curve in curves.items():
    ledger.record(f"stochastic output -> ReLU output as T -> 0 (eqs. 7-8), {name}",
                  "ReLU is the T -> 0 limit of the stochastic network", curve.relative_sample_error[-1],
                  curve.reaches_relu(),
                  detail=f"relative error at T={temperatures[-1]}; "
                         f"rank correlation of error with T: {curve.trend():.3f}",
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
random_networks = {f"{depth} hidden layers, random": relu_mlp([pca_k, *[hidden[0]] * depth, 1], seed=seed + depth,
                                                              dtype=torch.float64, device=device)
                   for depth in em_depths}
identity = stochastic.em_identity_gaps(networks | random_networks, x_train, y_train)
for name, gap in identity.items():
    print(f"max |M-step gradient (ReLU gates) - backprop gradient|, {name}: {gap:.2e}")
ledger.record("M-step gradient with ReLU gates = backprop gradient (generalised EM)", "identity",
              max(identity.values()), stochastic.m_step_is_backprop(identity),
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
gaps = stochastic.gradient_gaps(networks, x_train, y_train, temperatures, seed + 2, n_draws)
fig = plotting.gradient_gap_figure(gaps)
plt.show()
slopes = gaps.slopes(1e-4, 0.3)
for name, gap in gaps.gaps.items():
    print(f"{name}: relative gradient gap at T={temperatures[0]}: {gap[0]:.3f}, at T={temperatures[-1]}: "
          f"{gap[-1]:.2e}; log-log slope over the middle temperatures: {slopes[name]:.2f}")
ledger.record("M-step gradient with sampled gates -> backprop gradient as T -> 0", "E-step degenerates to ReLU",
              gaps.coldest(), gaps.vanishes(),
              detail=f"relative gap at T={temperatures[-1]}; smallest rank correlation with T: {gaps.trend():.3f}",
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
runs = {0.0: deterministic} | {
    t: train_run(dataclasses.replace(base, temperature=t), x_train, y_train, x_test, y_test, device=device)
    for t in train_temperatures}
training = stochastic.TemperatureTraining({t: run.history for t, run in runs.items()}, n_test=len(y_test))
fig = plotting.temperature_training_figure(training.histories)
plt.show()
print(f"{'T':>8} {'train risk':>11} {'test risk':>10} {'train acc':>10} {'test acc':>9} {'stochastic loss':>16}")
for t, history in training.histories.items():
    h = history[-1]
    print(f"{t:>8} {h['train_loss']:>11.4f} {h['test_loss']:>10.4f} {h['train_accuracy']:>10.3f} "
          f"{h['test_accuracy']:>9.3f} {h.get('train_stochastic_loss') or float('nan'):>16.4f}")

# %% [markdown]
# Every temperature trains the ReLU network: the E-step's noise does not stop the M-step from lowering the
# deterministic risk.  Hot E-steps train it more slowly, since their gradients point partly along gates the
# ReLU network does not use; as ``T`` falls the runs approach the deterministic one.  We call the coldest run
# indistinguishable from the deterministic one if their final test accuracies differ by less than twice the
# binomial standard error of an accuracy measured on the test set.

# %%
ledger.record("generalised EM with sampled gates trains the ReLU network at every T",
              "training is generalised EM", training.risk_ratio(), training.trains_at_every_temperature(),
              detail=f"largest final / initial ReLU train risk over T in {train_temperatures} and T = 0",
              dataset=task.description)
coldest_t = min(train_temperatures)
ledger.record(f"training at T = {coldest_t} matches deterministic (ReLU) training", "ReLU is the T -> 0 limit",
              training.accuracy_gap(coldest_t), training.matches_relu(coldest_t),
              detail=f"|test accuracy difference|; twice its binomial standard error: "
                     f"{2 * training.accuracy_standard_error():.3f}",
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
