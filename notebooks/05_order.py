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
# # 5. The plasticity order parameter
#
# This chapter follows Li's §II.5.2 (eqs. 15–17 and Fig. 4) {cite}`li2022complexity`.  It checks eq. 15 exactly on
# small networks, measures Figs. 4a and 4b on the reference training run of {doc}`Chapter 4 <04_symmetry>`, and runs a
# Sherrington–Kirkpatrick spin glass to give the spin-glass order parameter of eq. 17, which Li sets beside the
# network's, its physical meaning.
#
# Li names the order of a DNN by the response of the network to "novel examples of nonzero errors": the squared
# norm of the risk gradient (eq. 15),
#
# $$
# \|\nabla_\theta R\|_2^2 = \sum_{l=1}^{L}\sum_{i_{l-1}, i_l}\ \sum_{\boldsymbol i, \boldsymbol i' \in
# I^{\setminus\{l-1,l\}}_{i_{l-1} i_l}} \Omega^{\bar l\setminus\{l\}}_{\boldsymbol i}\,
# \Omega^{\bar l\setminus\{l\}}_{\boldsymbol i'},
# $$ (eq-ch5-order-parameter)
#
# a double sum over pairs of *first-order perturbations* $\Omega$ of the basis circuits through the same weight
# (eq. 16, {doc}`Chapter 3 <03_circuits>`: a circuit with one weight differentiated out, fed the datum at the bottom
# and the loss derivative $\mathcal L'$ at the top).  Li calls it the *plasticity order parameter* and sets it beside
# the order parameter of a spin glass with spins $\sigma_i$ distributed as $\rho$ (eq. 17),
#
# $$
# \mathbb E_{\rho(\sigma)}\Big[\sum_{ij}\sigma_i\sigma_j\Big].
# $$ (eq-ch5-spin-glass)
#
# Two experimental statements go with it: the gradient entries stay symmetric about zero through training and
# shrink (Fig. 4a), and the step-size-rescaled order parameter $\eta\|\nabla R\|^2$ falls with the risk, about an
# order of magnitude below it, reaching zero with it (Fig. 4b).

# %% tags=["parameters"]
profile = "quick"
claims_path = None
reference = {}
n_boot = 100
max_samples = 50000
identity_widths = [[4, 3, 1], [4, 3, 3, 1], [3, 3, 3, 3, 1], [3, 2, 3, 2, 3, 1]]
identity_examples = 12
sk_spins = 128
sk_samples = 8
sk_temperatures = [0.3, 0.34, 0.386, 0.438, 0.498, 0.565, 0.641, 0.727, 0.825, 0.936, 1.063, 1.206, 1.369, 1.553, 1.762, 2.0]
sk_sweeps = 2048
seed = 0

# %%
import matplotlib.pyplot as plt
from IPython.display import display

from adaptsym import order, plotting, spinglass
from adaptsym.claims import Ledger, format_value
from adaptsym.reference import reference_run
from adaptsym.tables import markdown_table

plotting.use_book_style()
ref = reference_run(profile, reference, progress=False)
ledger = Ledger("5 order parameter", profile, dataset=ref.description, path=claims_path)
print(ref.description)

# %% [markdown]
# ## 5.1 Eqs. 15–16: the order parameter is a double sum over circuit perturbations
#
# On small networks of several depths, with standard normal inputs and random labels, we enumerate every
# first-order perturbation of every circuit, weight it by $\mathcal L' = -y/m$ on the examples whose margin is
# below 1, and sum over pairs as in {eq}`eq-ch5-order-parameter`; autograd gives $\|\nabla R\|^2$ independently.
# Both in float64:

# %%
rows = order.circuit_identity_rows(identity_widths, identity_examples, seed=seed)
display(markdown_table(["widths", "‖∇R‖² by autograd", "double sum over Ω pairs (eq. 15)", "relative difference"],
                       [[w, f"{a:.15g}", f"{c:.15g}", f"{e:.1e}"] for w, a, c, e in rows]))
worst = max(r[3] for r in rows)
ledger.record("eq. 15: the order parameter is the double sum over first-order perturbations",
              "exact identity (eqs. 15-16)", worst, worst <= 1e-10, kind="identity", criterion="relative error <= 1e-10",
              detail=f"largest relative error over {len(rows)} networks")

# %% [markdown]
# ## 5.2 Fig. 4a: the gradient entries through training
#
# At every snapshot of the reference run, the gradient of the training risk over the whole training set.  Its
# scale falls by orders of magnitude through training, so each ridgeline shows the entries divided by their
# standard deviation at that epoch: the *shape* of the law ({numref}`fig-ch5-gradients`).  Where every margin exceeds
# 1 the gradient is exactly zero and there is nothing to draw.

# %% mystnb={"figure": {"name": "fig-ch5-gradients", "caption": "Li's Fig. 4a for the reference run: the law of the entries of the training-risk gradient at every snapshot where it is not zero, each divided by its standard deviation at that epoch (a kernel-smoothed histogram), from initialisation (top) down."}}
snapshots = order.gradient_snapshots(ref, n_boot=n_boot, max_samples=max_samples, seed=seed)
fig = plotting.gradient_ridgelines(snapshots)
plt.show()

# %%
display(order.gradient_symmetry_markdown(snapshots))
for claim in order.gradient_symmetry_claims(snapshots):
    ledger.record(**claim)

# %% [markdown]
# ## 5.3 Fig. 4b: the order parameter and the risk
#
# As in the paper, the first half of training on logarithmic axes, the rest on linear ones
# ({numref}`fig-ch5-order-parameter`).  With plain SGD the weights stop moving once every training margin exceeds 1,
# so both curves reach *exactly* zero.

# %% mystnb={"figure": {"name": "fig-ch5-order-parameter", "caption": "Li's Fig. 4b for the reference run: the training hinge risk and the order parameter $\\eta\\lVert\\nabla R\\rVert^2$ per epoch, the first half of training on a logarithmic axis (left), the second on a linear one (right)."}}
summary = order.order_parameter_summary(ref.history)
fig = plotting.order_parameter_figure(summary)
plt.show()

# %%
described = {"ratio_median": "median of $\\eta\\lVert\\nabla R\\rVert^2 / R$ over epochs with both > 0",
             "ratio_log_slope": "slope of $\\log(\\eta\\lVert\\nabla R\\rVert^2 / R)$ per epoch",
             "op_rate": "decay rate of $\\eta\\lVert\\nabla R\\rVert^2$ per epoch",
             "risk_rate": "decay rate of the risk $R$ per epoch",
             "op_first_zero": "first epoch with $\\eta\\lVert\\nabla R\\rVert^2 = 0$",
             "risk_first_zero": "first epoch with $R = 0$"}
display(markdown_table(["quantity", "measured"],
                       [[described[k], format_value(v)] for k, v in summary.as_dict().items()]))

# %%
for claim in order.order_parameter_claims(summary):
    ledger.record(**claim)

# %% [markdown]
# ## 5.4 Eq. 17: the spin-glass order parameter beside the DNN's
#
# Li reads eq. 15 as "symbolically equivalent" to the spin-glass order parameter {eq}`eq-ch5-spin-glass`
# (eq. 17).  To see what that order parameter does, we simulate the Sherrington–Kirkpatrick model $H(\sigma) =
# -\sum_{i<j}J_{ij}\sigma_i\sigma_j$, $J_{ij}\sim\mathcal N(0, 1/n)$, by parallel tempering, and measure the overlap
# $q = \frac1n\sum_i\sigma^a_i\sigma^b_i$ of two independent replicas.  Its Edwards–Anderson value
# {cite}`edwards1975theory` $q_{EA} =
# \sqrt{[\langle q^2\rangle]}$ is finite in the glass phase below $T_c = 1$ and falls to its finite-size floor $\sim
# 1/\sqrt n$ above it.  First, the equilibration check of Katzgraber, Palassini and Young
# {cite}`katzgraber2001monte`: at equilibrium the energy
# measured directly equals $-\frac\beta2(1 - [\langle q^2\rangle])$; the two meet as the windows lengthen
# ({numref}`fig-ch5-equilibration`).  {numref}`fig-ch5-spin-glass` then shows the order parameter and the overlap
# distribution.

# %% mystnb={"figure": {"name": "fig-ch5-equilibration", "caption": "Equilibration of the Sherrington–Kirkpatrick simulation at a low, a middle and a high temperature: the disorder-averaged energy per spin measured directly, and as predicted from the overlap, $-\\frac\\beta2(1 - [\\langle q^2\\rangle])$, over windows of doubling length; they meet once the Monte Carlo is in equilibrium."}}
couplings = spinglass.sk_couplings(sk_spins, sk_samples, seed=seed)
tempering = spinglass.parallel_tempering(couplings, sk_temperatures, sk_sweeps, seed=seed, progress=False)
checks = spinglass.equilibration_check(tempering)
fig = plotting.equilibration_figure(checks)
plt.show()
sk = spinglass.observables(tempering)
print(f"{sk_spins} spins, {sk_samples} disorder samples, {sk_sweeps} sweeps; replica-exchange acceptance "
      f"{tempering.swap_rate.min():.2f}-{tempering.swap_rate.max():.2f}")

# %% mystnb={"figure": {"name": "fig-ch5-spin-glass", "caption": "The Sherrington–Kirkpatrick spin glass: the Edwards–Anderson order parameter $q_{EA}$ against temperature, with the finite-size floor of the paramagnetic phase above $T_c = 1$ (left), and the distribution of the overlap $q$ of two replicas at three temperatures (right): two peaks in the glass phase, one at 0 above $T_c$."}}
fig = plotting.spin_glass_figure(sk)
plt.show()
for claim in spinglass.spin_glass_claims(sk, checks, sk_spins):
    ledger.record(**claim)

# %% [markdown]
# Read literally, eq. 17's $\mathbb E_\rho[\sum_{ij}\sigma_i\sigma_j] = n^2\langle m^2\rangle$ is no order parameter
# of this model: the couplings' sign symmetry makes its disorder average exactly $1/n$ at every temperature.  The
# spin-glass order parameter is its two-replica form $\sum_{ij}\langle\sigma_i\sigma_j\rangle^2 = n^2[\langle
# q^2\rangle]$, the one measured above.
#
# The correspondence Li draws, term by term.  It is symbolic: the DNN's order parameter is a sum over pairs of
# *circuit perturbations* of one trained network, not an average over a Boltzmann law of spins, and it vanishes
# when learning is complete (zero risk) rather than in a disordered high-temperature phase.

# %%
display(markdown_table(["spin glass (eq. 17)", "DNN (eq. 15)", "measured here"], [
    ["spins $\\sigma_i = \\pm1$", "first-order circuit perturbations $\\Omega_{\\boldsymbol i}$ (eq. 16)", "§5.1: exact"],
    ["$\\sum_{ij}\\sigma_i\\sigma_j$ averaged over $\\rho(\\sigma)$", "$\\sum_{\\boldsymbol i,\\boldsymbol i'}\\Omega_{\\boldsymbol i}\\Omega_{\\boldsymbol i'}$ summed over weights", "§5.3"],
    ["temperature $T$", "the data's remaining errors (margins below 1)", "risk per epoch, §5.3"],
    ["order: $q_{EA} > 0$ below $T_c$", "plasticity: $\\lVert\\nabla R\\rVert^2 > 0$ while $R > 0$", f"$q_{{EA}}$ = {sk.q_ea[0]:.2f} at T = {sk_temperatures[0]}; ‖∇R‖² > 0 until epoch {summary.op_first_zero}"],
    ["disorder: $q_{EA}\\to 0$ above $T_c$", "zero risk: $\\lVert\\nabla R\\rVert^2 = 0$", f"$q_{{EA}}$ = {sk.q_ea[-1]:.2f} at T = {sk_temperatures[-1]} (floor ≈ {sk_spins ** -0.5:.2f})"],
]))

# %% [markdown]
# ## What this chapter measured against the paper
#
# Eq. 15 is an identity, and it holds to rounding: the squared gradient norm is the double sum over pairs of
# first-order circuit perturbations.  Li's statements about Fig. 4 agree on the reference run: the gradient entries
# stay nearly symmetric about zero and shrink to exactly zero; the order parameter $\eta\|\nabla R\|^2$ stays below
# the risk by a factor within the range we read as "about an order of magnitude", falls at the risk's rate, and
# reaches zero at the same epoch as the risk, with no stationary point of positive risk on the way.  The
# Sherrington–Kirkpatrick simulation, checked to be in equilibrium, shows the order parameter that eq. 17 stands
# for: finite below $T_c = 1$ and at its finite-size floor above it.  The correspondence between the two order
# parameters is symbolic: the network's vanishes when learning is complete, not in a disordered phase.  These are the
# verdicts of the quick profile; the table below lists those of the run shown here, each with the test it had to
# pass.

# %%
display(ledger.table())
