"""Costs of the Hessian toolkit (adaptsym.hessian) on the reference network, measured side by side in one run.

The reference network is a bias-free ReLU MLP with widths (784, 128, 128, 128, 128, 1) at initialisation, float32,
on ``--n-train`` binary Fashion-MNIST images (classes 0, 2, 4, 6 against the rest; 4000 as in the reference run). Printed, each as a ratio:

(a) one Hessian-vector product of the training risk (``risk_hvp``) against one gradient (``risk_gradient``); the
    physical floor of forward-over-reverse is about 2-3 gradients;
(b) ``risk_hvp`` (torch.func forward-over-reverse) against the double-backward product that PyHessian uses
    (``torch.autograd.grad`` with ``create_graph=True``, then the gradient of the dot product with v);
(c) ``--replicates`` bootstrap replicates of ``--pairs`` Hessian entries as one ``hessian_entries`` call plus one
    count-matrix product (``bootstrap_entries``), against recomputing the entries on every resampled training set:
    the latter is timed for ``--resample-timings`` resamples and extrapolated linearly to all replicates (each costs
    the same, one ``hessian_entries`` call on m examples); the model-generic ``autodiff`` path of
    ``hessian_entries`` is likewise timed on ``--autodiff-pairs`` pairs and 256 examples and extrapolated;
(d) the overhead of stochastic Lanczos quadrature (``--steps`` steps, one probe, full re-orthogonalisation) over
    the Hessian-vector products it calls, split by timing the products inside the same run (target <= 10%).

Each timing is the median of ``--repeats`` runs after one warm-up, the runs of (a) and (b) interleaved; all use
``--threads`` torch threads (0 keeps torch's default). On a shared machine the ratios are steadier than the absolute
times, and a second thread can slow everything down when the other core is busy.

    .venv/bin/python benchmarks/hessian.py [--n-train 4000] [--pairs 1000] [--replicates 1000] [--threads 2]
"""

import argparse
import statistics
import time

import torch

from adaptsym import data, hessian
from adaptsym.models import hinge_loss, relu_mlp

WIDTHS = (784, 128, 128, 128, 128, 1)


def timed(functions: dict, repeats: int) -> tuple[dict, dict]:
    """Median wall time of each function over ``repeats`` rounds, the functions called in turn within a round (so
    that a load change on a shared machine hits all of them alike), after one warm-up call each; and the results."""
    results = {name: function() for name, function in functions.items()}
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, results


def double_backward_hvp(model, x, y):
    """PyHessian's product: the gradient with ``create_graph=True``, then the gradient of its dot product with v."""
    params = list(model.parameters())

    def hvp(v):
        gradients = torch.autograd.grad(hinge_loss(model(x), y), params, create_graph=True)
        dot = sum((g * piece.view_as(g)).sum() for g, piece in zip(gradients, v.split([p.numel() for p in params])))
        return torch.cat([h.reshape(-1) for h in torch.autograd.grad(dot, params)])

    return hvp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--resample-timings", type=int, default=2)
    parser.add_argument("--autodiff-pairs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    task = data.load_task("fashion-mnist", positive=(0, 2, 4, 6), n_train=args.n_train, n_test=100, seed=0,
                          device=args.device)
    x, y = task.x_train, task.y_train
    model = relu_mlp(WIDTHS, seed=0, device=args.device)
    dim = hessian.flat_weights(model).numel()
    print(f"{task.description}; bias-free ReLU MLP {WIDTHS}, {dim} weights, float32, at initialisation; "
          f"device {x.device}, {torch.get_num_threads()} torch threads")
    v = torch.randn(dim, generator=torch.Generator().manual_seed(0)).to(x.device)

    # (a) one HVP against one gradient, (b) forward-over-reverse against double backward
    hvp = hessian.risk_hvp(model, x, y)
    seconds, results = timed({"gradient": lambda: hessian.risk_gradient(model, x, y), "hvp": lambda: hvp(v),
                              "double": lambda: double_backward_hvp(model, x, y)(v)}, args.repeats)
    print(f"(a) gradient {seconds['gradient'] * 1e3:7.1f} ms, HVP {seconds['hvp'] * 1e3:7.1f} ms: "
          f"one HVP costs {seconds['hvp'] / seconds['gradient']:.2f} gradients (floor ~2-3)")
    gap = ((results["hvp"] - results["double"]).abs().max() / results["double"].abs().max()).item()
    print(f"(b) double-backward HVP {seconds['double'] * 1e3:7.1f} ms, torch.func forward-over-reverse "
          f"{seconds['hvp'] * 1e3:7.1f} ms: ratio double/func {seconds['double'] / seconds['hvp']:.2f}; "
          f"largest relative difference {gap:.1e}")

    # (c) bootstrap by one count-matrix product against recomputing the entries per resample
    pairs = hessian.random_cross_layer_pairs(model, args.pairs, seed=0)
    seconds, results = timed({"entries": lambda: hessian.hessian_entries(model, x, y, pairs, progress=False)},
                             args.repeats)
    entries_s, entries = seconds["entries"], results["entries"]
    seconds, _ = timed({"boot": lambda: hessian.bootstrap_entries(entries, args.replicates, seed=0)}, args.repeats)
    boot_s = seconds["boot"]
    generator = torch.Generator().manual_seed(1)
    resample_times = []
    for _ in range(args.resample_timings):
        index = torch.randint(len(x), (len(x),), generator=generator).to(x.device)
        start = time.perf_counter()
        hessian.hessian_entries(model, x[index], y[index], pairs, progress=False).mean(0)
        resample_times.append(time.perf_counter() - start)
    separate_s = statistics.mean(resample_times) * args.replicates
    print(f"(c) hessian_entries ({args.pairs} pairs x {len(x)} examples, MLP closed form) {entries_s:6.2f} s + "
          f"{args.replicates} replicates by one product {boot_s * 1e3:6.1f} ms = {entries_s + boot_s:6.2f} s; "
          f"recomputing per resample {separate_s:8.1f} s (extrapolated from {args.resample_timings} resamples): "
          f"ratio {separate_s / (entries_s + boot_s):.0f}")
    few, subset = pairs[: args.autodiff_pairs], slice(0, min(256, len(x)))
    start = time.perf_counter()
    by_autodiff = hessian.hessian_entries(model, x[subset], y[subset], few, method="autodiff", progress=False)
    autodiff_s = time.perf_counter() - start
    autodiff_total = autodiff_s * (args.pairs / len(few)) * (len(x) / (subset.stop - subset.start))
    gap = ((by_autodiff - entries[subset, : len(few)]).abs().max() / entries[:, : len(few)].abs().max()).item()
    print(f"    the model-generic autodiff path: {autodiff_s:.2f} s for {len(few)} pairs x {subset.stop} examples, "
          f"extrapolated {autodiff_total:.0f} s for all: {autodiff_total / entries_s:.0f}x the closed form; "
          f"largest relative difference {gap:.1e}")

    # (d) SLQ overhead over its HVPs, split inside one run
    in_products = []

    def timed_hvp(q):
        start = time.perf_counter()
        result = hvp(q)
        in_products.append(time.perf_counter() - start)
        return result

    start = time.perf_counter()
    hessian.slq(timed_hvp, dim, args.steps, 1, seed=0, device=x.device, progress=False)
    slq_s = time.perf_counter() - start
    products_s = sum(in_products)
    print(f"(d) SLQ {args.steps} steps x 1 probe {slq_s:6.2f} s, of which {len(in_products)} HVPs {products_s:6.2f} s: "
          f"Lanczos overhead {100 * (slq_s - products_s) / products_s:.1f}% (target <= 10%)")


if __name__ == "__main__":
    main()
