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
# This chapter follows Li's §II.2 (the stochastic network of eqs. 6–8 and the reading of training as generalised EM)
# and the free-energy reading of §II.3.2 (eq. 9 and the cross-entropy decomposition of the logistic risk)
# {cite}`li2022complexity`.  It treats the gates of {doc}`Chapter 1 <01_umwelt>` as what Li says they are — random
# variables sampled layer by layer — and shows that ReLU is the zero-temperature limit of that stochastic network,
# that training with sampled gates is a generalised EM algorithm, and which parts of the EM and free-energy readings
# hold exactly on networks small enough to enumerate every gate state.
#
# Li's §II.2 reads a deep ReLU network as a multilayer probabilistic graphical model, a hybrid of a Markov random
# field and a Bayesian network.  The hierarchical parameterisation of {doc}`Chapter 1 <01_umwelt>` (eqs. 4–6) makes
# the law of the gates $H_l$ of layer $l$, given everything below, the exponential family $\mu_l(h_l \mid
# \mathcal{O}_{l-1}) \propto \exp(x^T W_1 \mathrm{dg}(h_1) \cdots W_l \mathrm{dg}(h_l))$: independent Bernoulli
# gates whose logits are the pre-activations.  Li writes the weights as $\hat W / T$, so that the temperature $T$
# measures the noise of the inference; as in {doc}`Chapter 1 <01_umwelt>` we keep the network's own weights, written
# $W$ from here on, for the activations and put $T$ in the gate law only,
#
# $$
# P(H^l_i = 1 \mid h_1, \dots, h_{l-1}, x) = \sigma\big(z^l_i / T\big), \qquad z_l = W_l^T x_{l-1}, \qquad
# x_l = h_l \odot z_l, \qquad x_0 = x.
# $$ (eq-ch2-gate-law)
#
# The weights themselves are random variables, drawn at initialisation from a symmetric prior.
#
# The chapter checks the section's statements in turn.  ReLU is the degenerate, zero-temperature case of this
# network: sampling each layer's gates given the sampled layers below (the Monte Carlo approximation of the
# intractable marginal written before eq. 7) turns into the ReLU rule of eq. 7, $h^l_i = 1$ if $z^l_i > 0$ and 0
# otherwise, and the network into the ReLU network computing the logit of eq. 8 (§2.1–2.2).  Training is a
# *generalised EM algorithm* ({cite}`bishop2006pattern`, §9.4, Li's ref. 96): the forward pass infers the gates with
# the weights fixed (E-step), and gradient descent then changes all weights with the gates fixed (M-step) (§2.3); we
# train the stochastic network itself at several temperatures (§2.4).  Li states that the forward pass "maximizes a
# lower bound" of $\mu_L$; on networks small enough to enumerate every gate state we compute the log-likelihood and
# its bounds exactly and see which quantities are bounds (§2.5).  Finally the free-energy reading of §II.3: each gate
# law minimises the free energy of eq. 9 (§2.6), and the logistic risk is a cross entropy floored by the entropy of
# the labels (§2.7).
#
# §II.2–3 report no experiment, so no profile reproduces one: the `paper` profile is the quick run made larger
# (the full training set, wider networks, more samples and seeds, more enumerated gates), not the papers' scale.

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
train_epochs = 10
train_seeds = 4
lr = 0.05
batch_size = 100
em_hidden = [5, 5]
em_n = 300
em_temperatures = [2.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
em_low_temperature = 0.1
em_steps = 400
em_lr = 0.2
em_every = 20
fe_inputs = 4
fe_random = 200
teacher_dim = 5
teacher_hidden = [8]
teacher_scale = 1.0
teacher_n = [100, 5000]
teacher_population = 10000
student_hidden = [32]
teacher_steps = 1500
teacher_lr = 0.01
teacher_every = 50
seed = 0

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from adaptsym import plotting, stochastic
from adaptsym.claims import Ledger
from adaptsym.data import load_task
from adaptsym.device import one_cpu_thread, resolve_device
from adaptsym.models import relu_mlp
from adaptsym.tables import labelled_table, markdown_table
from adaptsym.train import TrainConfig, train_run
from adaptsym.models import relu_pre_activations

plotting.use_book_style()
device = resolve_device("auto")
ledger = Ledger("2 stochastic", profile, path=claims_path)

# %% [markdown]
# ## 2.1 Sampling the stochastic network
#
# The data are those of {doc}`Chapter 1 <01_umwelt>`: a binary Fashion-MNIST task (tops against the rest) on PCA
# components scaled to unit variance.  We take the network at initialisation, with the weights drawn from the
# symmetric prior, and the same architecture after training it deterministically with the hinge risk (eq. 12).  One
# sample of the stochastic network draws $H_1$ given $x$ from {eq}`eq-ch2-gate-law`, then $H_2$ given $x$ and $h_1$,
# and so on, and outputs the gated linear function
#
# $$
# T_h(x) = x^T W_1 \mathrm{dg}(h_1)\, W_2 \mathrm{dg}(h_2) \cdots W_{L-1} \mathrm{dg}(h_{L-1})\, W_L;
# $$ (eq-ch2-gated-output)
#
# many samples are drawn at once for every input ({numref}`fig-ch2-samples`).

# %%
task = load_task(dataset, positive=tuple(positive), n_train=n_train, n_test=n_test, pca_k=pca_k, seed=seed,
                 dtype=torch.float64, device=device)
scale = task.x_train.std()
x_train, x_test, y_train, y_test = task.x_train / scale, task.x_test / scale, task.y_train, task.y_test
print(task.description)

base = TrainConfig(model="mlp", widths=(pca_k, *hidden, 1), optimizer="sgd", lr=lr, momentum=0.9,
                   batch_size=batch_size, epochs=train_epochs, seed=seed, dtype="float64",
                   snapshot_epochs=(0, train_epochs), data_key=task.description)
with one_cpu_thread(device):  # tiny tensors: a second thread only adds contention
    deterministic = train_run(base, x_train, y_train, x_test, y_test, device=device)
networks = {"initialisation": deterministic.model(0, device=device), "trained": deterministic.model(device=device)}
print(f"deterministic run: test accuracy {deterministic.history[-1]['test_accuracy']:.3f} "
      f"after {train_epochs} epochs")

# %% mystnb={"figure": {"name": "fig-ch2-samples", "caption": "Outputs of the stochastic network at initialisation, sampled on three test inputs at three temperatures, with the ReLU network's output (black line). As $T$ falls the samples concentrate on the ReLU output."}}
shown_temperatures, shown_inputs = [1.0, 0.1, 0.01], 3
shown = stochastic.output_samples(networks["initialisation"], x_test[:shown_inputs], shown_temperatures, n_samples,
                                  seed)
fig = plotting.sampled_output_figure(shown, "initialisation")
plt.show()

# %% [markdown]
# ## 2.2 As $T \to 0$ the stochastic network becomes the ReLU network (eqs. 7–8)
#
# For each temperature we draw `n_samples` networks on every test input and measure, relative to the mean
# $|T_{\mathrm{ReLU}}(x)|$, the mean distance of a sample from the ReLU output and the distance of the samples'
# mean from it.  A gate flips away from its ReLU value with probability $\sigma(-|z|/T)$, and a flip moves the
# activation by $|z|$; with a finite density of pre-activations at zero both factors are $O(T)$, so the error
# should fall roughly like $T^2$ until $T$ drops below the smallest $|z|$ over the finite test set, after which
# it vanishes exponentially — to exactly zero in floating point ({numref}`fig-ch2-relu-limit`).

# %% mystnb={"figure": {"name": "fig-ch2-relu-limit", "caption": "Distance of the stochastic network's output from the ReLU network's against temperature, relative to the mean $|T_{\\mathrm{ReLU}}(x)|$, at initialisation (left) and after training (right): the mean distance of a sample (solid) and the distance of the samples' mean (dashed). Both fall roughly like $T^2$, then to exactly zero (the bottom edge) once $T$ is below the smallest $|z|$."}}
curves = stochastic.relu_convergence(networks, x_test, temperatures, n_samples, seed + 1)
fig = plotting.relu_convergence_figure(curves)
plt.show()

# %%
display(labelled_table({name: [c.relative_sample_error[0], c.relative_sample_error[-1], c.slope(3e-3, 0.3)]
                        for name, c in curves.items()},
                       [f"relative sample error at T = {temperatures[0]:g}", f"at T = {temperatures[-1]:g}",
                        "log-log slope for 3e-3 ≤ T ≤ 0.3"], corner="network", fmt="{:.3g}"))

# %%
for name, curve in curves.items():
    ledger.record(f"stochastic output -> ReLU output as T -> 0 (eqs. 7-8), {name}",
                  "ReLU is the degenerate T -> 0 case of the stochastic network (§II.2, eqs. 7-8)",
                  curve.relative_sample_error[-1], curve.reaches_relu(),
                  detail=f"relative error at T={temperatures[-1]}; "
                         f"rank correlation of error with T: {curve.trend():.3f}",
                  dataset=task.description, kind="paper",
                  criterion="relative sample error <= 1e-6 at the coldest T and rank correlation with T >= 0.9")

# %% [markdown]
# ## 2.3 Training as generalised EM: the M-step gradient is backpropagation
#
# Hold the gates fixed and the network is linear in every weight matrix: the *gated linear network*
# {eq}`eq-ch2-gated-output`.  The M-step takes the gradient of the hinge risk of that network with
# the E-step's gates held fixed.  With the zero-temperature E-step — the ReLU gates, where the Monte Carlo sample
# is the expectation — this is exactly the gradient backpropagation computes for the ReLU network, since ReLU's
# derivative is its gate.  The check is an identity: it guards the code, it cannot test Li.  We run it on the
# whole training set, for the chapter's network before and after training and for random networks of several
# depths.

# %%
random_networks = {f"{depth} hidden layers, random": relu_mlp([pca_k, *[hidden[0]] * depth, 1], seed=seed + depth,
                                                              dtype=torch.float64, device=device)
                   for depth in em_depths}
identity = stochastic.em_identity_gaps(networks | random_networks, x_train, y_train)
display(labelled_table({name: [gap] for name, gap in identity.items()},
                       ["max |M-step gradient (ReLU gates) − backprop gradient|"], corner="network", fmt="{:.1e}"))
ledger.record("M-step gradient with ReLU gates = backprop gradient (generalised EM)",
              "exact identity: ReLU's derivative is its gate (the M-step of §II.2's generalised EM)",
              max(identity.values()), stochastic.m_step_is_backprop(identity),
              detail=f"max abs difference, float64, over {len(identity)} networks", dataset=task.description,
              kind="identity", criterion="max abs difference <= 1e-12")

# %% [markdown]
# At $T > 0$ the E-step samples the gates instead, and the M-step follows the gradient of a network whose gates
# differ from the ReLU ones wherever a pre-activation lies within about $T$ of zero.  A fraction of order $T$ of
# the gates flip, and unlike the output, the gradient changes by an $O(1)$ amount per flip (a gate multiplies the
# back-propagated signal, not $z$).  The relative distance of the two gradients should therefore shrink like a
# power of $T$ between $\sqrt{T}$ (changes from different flips in unrelated directions, adding in quadrature) and
# $T$ (changes adding coherently), again until $T$ falls below the smallest $|z|$ and the sampled gates *are* the
# ReLU gates ({numref}`fig-ch2-gradient-gap`).

# %% mystnb={"figure": {"name": "fig-ch2-gradient-gap", "caption": "Relative distance between the M-step gradient with gates sampled at temperature $T$ and the backpropagation gradient (ReLU gates), for the network at initialisation and after training, averaged over E-steps. It shrinks like a power of $T$ between $\\sqrt T$ and $T$, then to exactly zero (the bottom edge)."}}
gaps = stochastic.gradient_gaps(networks, x_train, y_train, temperatures, seed + 2, n_draws)
fig = plotting.gradient_gap_figure(gaps)
plt.show()

# %%
slopes = gaps.slopes(1e-4, 0.3)
display(labelled_table({name: [gap[0], gap[-1], slopes[name]] for name, gap in gaps.gaps.items()},
                       [f"relative gradient gap at T = {temperatures[0]:g}", f"at T = {temperatures[-1]:g}",
                        "log-log slope for 1e-4 ≤ T ≤ 0.3"], corner="network", fmt="{:.3g}"))
ledger.record("M-step gradient with sampled gates -> backprop gradient as T -> 0",
              "not in the paper (Li: in the low-temperature setting the E-step's sample is the ReLU pattern, §II.2)",
              gaps.coldest(), gaps.vanishes(),
              detail=f"relative gap at T={temperatures[-1]}; smallest rank correlation with T: {gaps.trend():.3f}",
              dataset=task.description, kind="ours",
              criterion="relative gap <= 1e-12 at the coldest T and rank correlation with T >= 0.9")

# %% [markdown]
# ## 2.4 Training the stochastic network at several temperatures
#
# Now the E-step samples the gates in every minibatch of training, at temperature $T$, and the M-step moves the
# weights along the gradient with those gates fixed (`TrainConfig(temperature=T)`; everything else as in the
# deterministic run).  The curves below are always those of the *deterministic* ReLU network with the current
# weights — the network the stochastic one collapses to as $T \to 0$ — next to the deterministic run; the dotted
# lines show the stochastic network's own mean training loss during each epoch.  Li trains only the $T \to 0$
# network; training at $T > 0$ is ours.
#
# On this task every run reaches about 96% test accuracy within an epoch or two, so accuracies cannot tell
# temperatures apart (the binomial standard error on 500 test inputs is about 0.008).  We compare instead the
# final *training risk* of the ReLU network, after a short run of `train_epochs` epochs, over `train_seeds`
# seeds per temperature (different initial weights, minibatches and gate draws): a run at temperature $T$
# matches deterministic training if its mean final risk lies within two standard errors (from the seed-to-seed
# spreads) of the deterministic mean.  The same criterion must *fail* for hot E-steps, or it tells nothing.
# {numref}`fig-ch2-training` shows the training curves of one seed per temperature, {numref}`fig-ch2-final-risk`
# the final risks of all seeds.

# %% mystnb={"figure": {"name": "fig-ch2-training", "caption": "Training with gates sampled at temperature $T$ (one seed per temperature), measured on the deterministic ReLU network with the current weights: hinge risk (left; train solid, test dashed, the stochastic network's own mean training loss dotted) and accuracy (right), beside the deterministic run."}}
training = stochastic.train_at_temperatures(base, train_temperatures, train_seeds, x_train, y_train, x_test,
                                            y_test, device)
fig = plotting.temperature_training_figure(training.first_runs())
plt.show()

# %% mystnb={"figure": {"name": "fig-ch2-final-risk", "caption": "Final training hinge risk of the ReLU network after training with sampled gates, against the temperature of the E-step: each seed (small dots) and their mean with two standard errors, beside the deterministic runs' mean and band of two standard errors (grey)."}}
fig = plotting.temperature_risk_figure(training)
plt.show()

# %%
display(markdown_table(["T", "mean final train risk", "excess over T = 0", "z"],
                       [[t, f"{training.final_risks(t).mean():.4f}", f"{training.risk_excess(t):.4f}",
                         f"{training.z_score(t):.1f}"] for t in train_temperatures]))

# %% [markdown]
# Hot E-steps train the ReLU network more slowly: their gradients point partly along gates the ReLU network does
# not use.  As $T$ falls the runs approach the deterministic one and become indistinguishable from it.

# %%
hottest, coldest_t = max(train_temperatures), min(train_temperatures)
ledger.record("hot E-steps leave the ReLU network a higher training risk",
              "not in the paper (Li trains only the T -> 0 network)", training.z_score(hottest),
              training.hot_training_is_worse(),
              detail=f"z of the final-risk excess at T = {hottest}; {train_seeds} seeds, {train_epochs} epochs",
              dataset=task.description, kind="ours",
              criterion="z > 2 at the hottest T (>= 3 seeds): the criterion of the next claim fails there")
ledger.record(f"training at T = {coldest_t} matches deterministic (ReLU) training",
              "not in the paper (Li trains only the T -> 0 network; the limit of eq. 7)",
              abs(training.z_score(coldest_t)), training.matches_relu(coldest_t),
              detail=f"|z| of the final-risk difference; warmest matching T: {training.warmest_match()}",
              dataset=task.description, kind="ours",
              criterion="|mean final ReLU risk difference| < 2 standard errors over >= 3 seeds (|z| < 2)")

# %% [markdown]
# ## 2.5 The generalised-EM reading, exactly: which quantities bound the log-likelihood?
#
# §II.2 reads training as maximising the log-likelihood of the top gate, $\log \mu_L(y \mid x)$, with all hidden
# gates marginalised out: "the forward propagation maximizes a lower bound of $\mu_L(h_L \mid x)$", then the
# weights increase "the approximated loglikelihood of $\mu_L(h_L \mid \mathcal{O}_{L-1})$" with the gates fixed.
# To make this precise we read the top gate as the label, $\mu_L(y \mid h, x) = \sigma(y\, T_h(x))$ with the
# gated network's own logit $T_h(x)$ (the logistic link, temperature 1 at the output), and marginalise the
# hidden gates under their ancestral law $\mu_T(h \mid x) = \prod_l \mu_l(h_l \mid h_{<l}, x)$ at temperature
# $T$:
#
# $$
# \log \mu_L(y \mid x) = \log \sum_h \mu_T(h \mid x)\, \sigma(y\, T_h(x)).
# $$ (eq-ch2-loglik)
#
# Any law $q$ over the gates gives an evidence lower bound (ELBO),
#
# $$
# \mathcal{L}(q) = \mathbb{E}_q\big[\log \mu_T(h \mid x) + \log \sigma(y\, T_h(x))\big] + S(q) \le \log \mu_L(y \mid x).
# $$ (eq-ch2-elbo)
#
# Two choices of $q$ are natural, and backpropagation maximises a third quantity:
#
# $$
# \begin{aligned}
# \text{prior ELBO}, \ q = \mu_T(\cdot \mid x): &\quad \mathbb{E}_{\mu_T}\big[\log \sigma(y\, T_h(x))\big], \\
# \text{point-mass ELBO}, \ q = \delta_{\hat h}: &\quad \log \mu_T(\hat h \mid x) + \log \sigma(y\, T_{\hat h}(x)), \\
# \text{backprop objective}: &\quad \log \sigma(y\, T_{\mathrm{ReLU}}(x)) = \log \mu_L(y \mid \hat h, x).
# \end{aligned}
# $$ (eq-ch2-objectives)
#
# The prior ELBO follows from {eq}`eq-ch2-elbo` by Jensen's inequality; with this $q$ held fixed, its gradient is
# the mean M-step of training with sampled gates, as in §2.4 but with the logistic loss.  The point-mass ELBO sits at
# the forward pass's ReLU gates $\hat h$.  What backpropagation maximises is neither: it is the point-mass ELBO
# *without* its prior term $\log \mu_T(\hat h \mid x) \le 0$.  Being larger than a bound does not make it one. The
# E-step of generalised EM picks the $q$ that raises the bound; among point masses the best is the $h$ maximising
# $\log \mu_T(h, y \mid x)$, so Li's "the forward pass maximizes a lower bound" says that the ReLU gates are that
# maximiser — in "the degenerated low temperature setting" he places it in.
#
# A network with hidden widths `em_hidden` ($[5, 5]$ in the quick run: $2^{10}$ joint gate states) is small enough
# for every quantity above to be an exact sum.  We take `em_n` training inputs of the chapter's task, and train the
# network from the same initial weights by full-batch gradient descent with two M-steps: the logistic loss $-\log
# \sigma(y T(x))$, whose minimisation *is* the log-likelihood reading of §II.2, and the hinge loss of eq. 12 that
# the rest of the paper uses, recording the exact $\log \mu_L(y \mid x)$ of {eq}`eq-ch2-loglik` every `em_every`
# steps ({numref}`fig-ch2-em`).

# %% mystnb={"figure": {"name": "fig-ch2-em", "caption": "The generalised-EM reading, computed exactly. From left: each bound minus the exact $\\log \\mu_L(y \\mid x)$ for the logistic-trained network (mean over inputs, and the largest excess of the backprop objective, dotted); the share of inputs on which the backprop objective exceeds $\\log \\mu_L$; the share on which the ReLU gates maximise the point-mass ELBO; and the exact mean $\\log \\mu_L$ along logistic (solid) and hinge (dashed) M-steps at each temperature."}}
x_em, y_em = x_train[:em_n], y_train[:em_n]
em_network = relu_mlp([pca_k, *em_hidden, 1], seed=seed, dtype=torch.float64, device=device)
reading = stochastic.em_reading(em_network, x_em, y_em, em_temperatures, em_steps, em_lr, em_every)
fig = plotting.likelihood_bounds_figure(reading)
plt.show()

# %%
display(markdown_table(["network", "T", "mean log μ_L(y|x)", "prior ELBO", "point-mass ELBO", "backprop objective",
                        "share with backprop > log μ_L", "largest excess", "share with ReLU gates = MAP"],
                       [[network, f"{t:g}", f"{b.log_likelihood[k].mean():.4f}", f"{b.prior_elbo[k].mean():.4f}",
                         f"{b.point_mass_elbo[k].mean():.4f}", f"{b.backprop_objective.mean():.4f}",
                         f"{b.fraction_above('backprop_objective', 1e-10)[k]:.2f}",
                         f"{b.excess('backprop_objective')[k].max():.2e}", f"{b.map_fraction()[k]:.3f}"]
                        for network, b in reading.bounds.items() for k, t in enumerate(b.temperatures)]))

# %% [markdown]
# The two ELBOs of {eq}`eq-ch2-objectives` are bounds on every input, as they must be.  The backprop objective is
# not: at every temperature and for every network it lies *above* the exact log-likelihood on some of the inputs —
# from a few per cent to nearly all of them for the trained networks at $T \gtrsim 0.5$ — wherever the ReLU gates
# happen to give the label a higher likelihood than the average over the gate states the law $\mu_T$ spreads
# over.  As $T \to 0$ the law concentrates on $\hat h$ and the excess shrinks towards nothing (a few thousandths of a
# nat at $T = 0.01$), but its sign stays mixed: backprop's objective approximates $\log \mu_L$, it does not bound
# it.  The E-step reading fares better: at low temperature the ReLU gates do maximise the point-mass bound on
# (almost) every input, while at $T \gtrsim 1$ other gate states, which the label favours, beat them on a sizeable
# fraction of inputs.

# %%
ledger.record("prior ELBO E_mu_T[log sigma(y T_h(x))] <= log mu_L(y|x) on every input",
              "exact identity: Jensen's inequality (the ELBO of §II.2's generalised EM with q = the gate law)",
              reading.largest_excess("prior_elbo"), reading.is_bound("prior_elbo"),
              detail="largest excess over inputs, temperatures and networks (nats)", dataset=task.description,
              kind="identity", criterion="largest excess <= 1e-10")
ledger.record("point-mass ELBO at the ReLU gates <= log mu_L(y|x) on every input",
              "exact identity: one term of a sum of positive terms (ELBO with q = the point mass on the ReLU gates)",
              reading.largest_excess("point_mass_elbo"), reading.is_bound("point_mass_elbo"),
              detail="largest excess over inputs, temperatures and networks (nats)", dataset=task.description,
              kind="identity", criterion="largest excess <= 1e-10")

# %%
ledger.record("backprop's objective log mu_L(y|h_ReLU, x) is a lower bound of log mu_L(y|x)",
              "the forward propagation maximizes a lower bound of mu_L(h_L|x) (§II.2)",
              reading.largest_fraction_above("backprop_objective"), reading.is_bound("backprop_objective"),
              detail=f"largest fraction of inputs above log mu_L over {len(em_temperatures)} temperatures and 3 "
                     f"networks; largest excess {reading.largest_excess('backprop_objective'):.3f} nats",
              dataset=task.description, kind="paper", criterion="no input above log mu_L(y|x) by more than 1e-10")
ledger.record("the forward pass's gates maximise the point-mass ELBO (E-step) at the coldest T",
              "the forward propagation maximizes a lower bound of mu_L, in the degenerated low temperature "
              "setting (§II.2)", reading.smallest_map_fraction(min(em_temperatures)),
              reading.forward_pass_is_e_step(),
              detail=f"smallest fraction of inputs over 3 networks at T = {min(em_temperatures)}; at T = "
                     f"{em_low_temperature}: {reading.smallest_map_fraction(em_low_temperature):.3f}, at T = "
                     f"{max(em_temperatures)}: {reading.smallest_map_fraction(max(em_temperatures)):.2f}",
              dataset=task.description, kind="paper", criterion=f">= 99% of inputs at T = {min(em_temperatures)}")

# %% [markdown]
# Along training, generalised EM would raise $\log \mu_L(y \mid x)$ at every iteration (the right panel of
# {numref}`fig-ch2-em`, and the table below).  Backprop's M-step is not
# that algorithm — it drops the prior term and never makes the bound tight — so the rise has to be measured.  The
# learning rate is small enough that each M-step raises its own objective at every checkpoint.  In Li's
# low-temperature setting the logistic M-step raises the exact log-likelihood at every checkpoint: there
# $\log \mu_L(y \mid x)$ and the backprop objective nearly coincide.  At high temperature nothing guarantees it,
# and late in training it can fall while the backprop objective still rises.  The hinge M-step of eq. 12
# maximises something else: it stops pushing once the margins pass 1, the logit scale stays near 1, and from the
# same initial weights it ends with a lower exact log-likelihood than the logistic M-step at every temperature.
#
# This is the tension between §II.2 and §II.7.  §II.2 derives training from the log-likelihood of $\mu_L$,
# which is the logistic (cross-entropy) loss; §II.7, which sets up all later analysis, restricts the theory to
# losses of the hinge class and explicitly excludes the cross entropy.  The hinge loss is not the negative
# log-likelihood of any normalised law of $y$, so under the setting of §II.7 the EM reading of §II.2 is an
# analogy, not a derivation: the forward pass is still the low-temperature E-step, but the M-step maximises
# something else.

# %%
em_rows = {f"{loss} M-steps: {what}": values for loss, trace in reading.traces.items()
           for what, values in (("largest fall of log μ_L", trace.drops()), ("gain of log μ_L", trace.gains()))}
display(labelled_table(em_rows | {"final log μ_L, logistic minus hinge": reading.hinge_shortfall()},
                       [f"T = {t:g}" for t in em_temperatures], corner="nats, mean over inputs", fmt="{:.3g}"))

# %%
logistic_trace = reading.traces["logistic"]
ledger.record(f"logistic M-steps raise the exact log mu_L(y|x) at every checkpoint, T <= {em_low_temperature}",
              "the M-step increases the loglikelihood of mu_L, in the low temperature setting (§II.2)",
              logistic_trace.largest_drop(em_low_temperature),
              logistic_trace.rises_monotonically(em_low_temperature),
              detail=f"largest fall between checkpoints every {em_every} steps; over all T: "
                     f"{logistic_trace.largest_drop():.1e}", dataset=task.description, kind="paper",
              criterion=f"largest fall <= 1e-6 at every T <= {em_low_temperature}")
ledger.record("hinge M-steps (eq. 12) maximise the exact log mu_L(y|x) as well as logistic ones",
              "training maximises the loglikelihood of mu_L (§II.2), with the hinge-class losses of §II.7",
              reading.hinge_shortfall().max(), reading.hinge_maximises_likelihood(),
              detail=f"largest shortfall over T (nats); smallest: {reading.hinge_shortfall().min():.3f}",
              dataset=task.description, kind="paper", criterion="shortfall <= 0.01 nats at every T, once both "
              f"M-steps change log mu_L by < 0.01 nats per {em_every} steps (else inconclusive)")

# %% [markdown]
# ## 2.6 Eq. 9: every gate law minimises a free energy
#
# §II.3 recalls that physical processes minimise the free energy (Li's eq. 9)
#
# $$
# F = \mathbb{E}_\mu[E] - T S_\mu
# $$ (eq-ch2-free-energy)
#
# and reads the learning of a DNN as a variational free-energy minimisation.  For the gates the statement is exact,
# layer by layer: with energy $E(h) = -z \cdot h$ (minus the exponent of eq. 6), the Gibbs variational
# principle gives, for any law $q$ of a layer's gates,
#
# $$
# F[q] = -\mathbb{E}_q[z \cdot h] - T S(q) = -T \log Z + T\, \mathrm{KL}(q \,\|\, p), \qquad
# p(h) = \prod_k \sigma(z_k/T)^{h_k} \sigma(-z_k/T)^{1 - h_k},
# $$ (eq-ch2-gibbs)
#
# so the Bernoulli law of eq. 6 is the unique minimiser and $\min F = -T \sum_k \log(1 + e^{z_k/T})$, which
# tends to $-\sum_k \mathrm{ReLU}(z_k)$ as $T \to 0$: the ReLU activation is minus the zero-temperature free
# energy of its gate ({numref}`fig-ch2-free-energy`, left).  We check {eq}`eq-ch2-gibbs` on the gate layers of the
# EM network (all $2^{n}$ states of each layer of $n$ gates) on `fe_inputs` inputs: against `fe_random` random laws,
# against the closed form, and against a numerical minimiser over all laws that does not know the answer.

# %% mystnb={"figure": {"name": "fig-ch2-free-energy", "caption": "Left: the free energy $F[q] = -qz - T S(q)$ of one gate with $z = 0.5$ against $q = P(h = 1)$, at four temperatures; its minimum (dot) is at $\\sigma(z/T)$. Right: for all the gates of the EM network, the ancestral law's energy $U$, $-TS$ and $F = U - TS$ (mean over inputs) against $T$, beside the minimum over all laws (dashed) and $-\\sum \\mathrm{ReLU}(z)$ at $T = 0$ (dotted)."}}
fields = torch.cat(relu_pre_activations(em_network, x_em[:fe_inputs]))
check = stochastic.free_energy_check(fields, em_temperatures, fe_random, seed)
network_fe = stochastic.network_free_energy(em_network, x_em, temperatures)
fig = plotting.free_energy_figure(stochastic.gate_free_energy_curves(0.5, [2.0, 0.5, 0.1, 0.02]), network_fe)
plt.show()
print(f"smallest F[q] - F[p] over random laws: {check.excess.min():.3f}; |F[q] - F[p] - T KL(q||p)| <= "
      f"{check.kl_error:.1e}; |F[p] + T log Z| <= {check.closed_form_error():.1e}; numerical minimiser within "
      f"{check.minimiser_distance.max():.1e} of sigma(z/T)")

# %% [markdown]
# The right panel of {numref}`fig-ch2-free-energy` follows the whole network along the chapter's temperature
# sweep.  For the ancestral law $\mu_T(h \mid x)$ of all gates, the energy $U = \mathbb{E}[-\sum_l z_l \cdot h_l]$
# (each $z_l$ depending on the gates below), entropy $S$ and $F = U - TS$ are exact sums; $F = \mathbb{E}[\sum_l -T
# \log Z_l]$, each layer's own minimum given the layers below, and $F \to -\sum \mathrm{ReLU}(z)$ along the ReLU
# pass as $T \to 0$.  But the law of *all* gates is not the minimiser of {eq}`eq-ch2-free-energy` with the summed
# exponents as energy: that minimiser is the Boltzmann law $\propto e^{-E(h)/T}$ of a Markov random field, with free
# energy $-T \log \sum_h e^{-E(h)/T}$ (dashed), lower by $T\,\mathrm{KL}(\mu_T \,\|\, \text{Boltzmann})$ — the gap
# tabulated below.  Even at $T \to 0$ the gap can stay open: the ReLU pattern maximises each layer's exponent given
# the layers below, greedily, not their sum — other lower gates can raise the upper fields by more than they cost,
# and wherever they do the ReLU pattern is not the ground state of $E$ (the last claim below gives the share of
# inputs where it still is).  The network is a Bayesian network of layers each of which minimises its own free
# energy, the "hybrid" of §II.2, not one Boltzmann machine.

# %%
display(markdown_table(["T", "F − min over all laws (nats)"],
                       [[f"{t:g}", f"{gap:.4f}"] for t, gap in zip(temperatures, network_fe.joint_gap())]))
ledger.record("Bernoulli(sigma(z/T)) minimises F[q] = -E_q[z.h] - T S(q) over all laws of a gate layer",
              "exact identity: Gibbs variational principle for eq. 9 with E(h) = -z.h (§II.3)",
              check.minimiser_distance.max(), check.bernoulli_minimises(),
              detail=f"largest |q* - p| of the numerical minimiser; {fe_inputs * len(em_hidden)} layers x "
                     f"{len(em_temperatures)} temperatures", dataset=task.description, kind="identity",
              criterion="no random law lowers F, F[q] - F[p] = T KL and F[p] = -T log Z within 1e-12; "
                        "numerical minimiser within 1e-6")
ledger.record("network free energy -> -sum ReLU(z) as T -> 0", "exact identity: -T log(1 + e^{z/T}) -> -ReLU(z)",
              network_fe.relu_limit_error(), network_fe.relu_limit_error() <= 1e-6,
              detail=f"relative difference at T = {min(temperatures)}", dataset=task.description, kind="identity",
              criterion="relative difference <= 1e-6 at the coldest T")

# %%
ledger.record("the gate law of the whole network is not the Boltzmann law of the summed exponents of eq. 6",
              "not in the paper (§II.3 reads DNN learning as free-energy minimisation)",
              network_fe.kl_to_boltzmann(1.0), network_fe.differs_from_boltzmann(1.0),
              detail=f"KL(ancestral || Boltzmann) at T = 1; F - min F at T = {min(temperatures)}: "
                     f"{network_fe.joint_gap()[-1]:.3f}; ReLU pattern a ground state of E on "
                     f"{network_fe.relu_ground_state:.0%} of inputs", dataset=task.description, kind="ours",
              criterion="KL > 1e-6 at T = 1 (it is exactly 0 for one hidden layer)")

# %% [markdown]
# ## 2.7 The logistic risk is a cross entropy floored by the entropy of the labels
#
# §II.3 writes the logistic risk as a cross entropy and decomposes it,
#
# $$
# S_{\mu(y|x), \mu(h_L|x)} = -\mathbb{E}\,[\log \mu(h_L \mid x)] = S_{\mu(y|x)} + D_{\mathrm{KL}}(\mu(y \mid x)
# \,\|\, \mu(h_L \mid x)),
# $$ (eq-ch2-cross-entropy)
#
# so the risk is at least the entropy $S(y \mid x)$ of the labels and equals it where the KL term vanishes:
# "the cross entropy is the entropy of $\mu(y|x)$; that is, the entropy of the dataset (environment)".  To see
# the floor we need an environment whose $\mu(y \mid x)$ is known.  We draw $x \sim N(0, I_5)$ and labels with
# $\mu(y = +1 \mid x) = \sigma(f(x))$ for a random bias-free ReLU teacher $f$ (`teacher_hidden`), so
# $S(y \mid x)$ is about 0.5 nats, and train bias-free ReLU students on `teacher_n` labelled examples with
# the logistic risk, averaging every risk over $y$ exactly on `teacher_population` fresh inputs
# ({numref}`fig-ch2-entropy-floor`).

# %% mystnb={"figure": {"name": "fig-ch2-entropy-floor", "caption": "Students trained with the logistic risk on a small and a large sample of a known environment. Left: population risk (solid) and training risk (dashed) against the entropy $S(y \\mid x)$ of the labels (dotted); right: the population risk's excess over $S(y \\mid x)$, the KL term of the cross-entropy decomposition."}}
environment = stochastic.teacher_task(teacher_dim, teacher_hidden, teacher_scale, max(teacher_n),
                                      teacher_population, seed)
floor = stochastic.entropy_floor(environment, teacher_n, [teacher_dim, *student_hidden, 1], teacher_steps,
                                 teacher_lr, teacher_every, seed + 1)
fig = plotting.entropy_floor_figure(floor)
plt.show()
print(f"S(y|x) = {environment.entropy():.4f} nats")

# %%
display(labelled_table({f"{n} examples": [t.train_risk[-1], t.population_risk[-1], t.population_kl.min()]
                        for n, t in floor.traces.items()},
                       ["final train risk", "final population risk", "smallest population KL"], corner="nats",
                       fmt="{:.4f}"))

# %% [markdown]
# On the population the risk never goes below $S(y \mid x)$, and with enough data it comes within a few per cent of
# it — the floor of {eq}`eq-ch2-cross-entropy`.  On the training sample it is another matter: there each $x$ occurs
# once, the empirical $\mu(y \mid x)$ is a point mass, and *its* entropy is 0.  A student that can fit its sample
# drives the training risk far below $S(y \mid x)$, towards 0, while its population risk climbs.  On a real training
# set such as the chapter's, with distinct images and deterministic labels, $S(y \mid x) \approx 0$: the "entropy of
# the dataset" that the minimum reaches is that of the empirical law, 0, and the logistic training risk measures the
# KL term alone — it says nothing about the entropy of the environment.

# %%
ledger.record("logistic risk = S(y|x) + KL(mu(y|x) || sigma(y T(x)))",
              "exact identity: the cross-entropy decomposition (§II.3)", floor.decomposition_error(),
              floor.decomposition_holds(), detail="largest error over inputs, checkpoints and sample sizes",
              dataset="synthetic teacher", kind="identity", criterion="largest error <= 1e-12")
ledger.record("with enough data the population logistic risk comes down to its floor S(y|x)",
              "at a minimum the KL vanishes and the cross entropy is the entropy of mu(y|x) (§II.3)",
              floor.closest_approach(), floor.reaches_entropy(),
              detail=f"smallest KL / S(y|x) on {max(teacher_n)} examples; never below S(y|x): "
                     f"{floor.floors_at_entropy()}", dataset="synthetic teacher", kind="paper",
              criterion="population risk never below S(y|x) and within 5% of it above")
ledger.record("on a small training sample the training risk falls below S(y|x)",
              "not in the paper (§II.3's floor is the entropy of the environment)", floor.smallest_train_share(),
              floor.train_risk_below_entropy(),
              detail=f"final training risk / S(y|x) on {min(teacher_n)} examples", dataset="synthetic teacher",
              kind="ours", criterion="final training risk < 0.5 S(y|x)")

# %% [markdown]
# ## What this chapter measured against the paper
#
# Li's reading of ReLU as the zero-temperature limit of a stochastic network agrees: the sampled output reaches the
# ReLU network's exactly once $T$ is below the gates' margins, the M-step with ReLU gates is backpropagation (an
# identity), and training with sampled gates matches deterministic training when cold and is measurably worse when
# hot.  Of the generalised-EM reading, computed exactly on a network small enough to enumerate, half agrees: at low
# temperature the forward pass's gates are the best point-mass E-step and logistic M-steps raise the exact
# log-likelihood at every checkpoint.  The other half disagrees: the objective backpropagation maximises is not a
# lower bound of the log-likelihood, and the hinge loss of §II.7 ends with a lower log-likelihood than the logistic
# loss at every temperature, so under §II.7's setting the EM reading is an analogy.  Each gate layer's law minimises
# the free energy of eq. 9, with minus the ReLU activations as its zero-temperature limit, but the law of all the
# gates is not the Boltzmann law of their summed exponents.  The logistic risk decomposes into the labels' entropy
# plus a KL term and, with enough data, comes down to that floor on the population, as §II.3 says; on a small
# training sample it falls far below it.  These are the verdicts of the quick profile; the table below lists those of
# the run shown here, each with the test it had to pass.

# %%
ledger.table()
