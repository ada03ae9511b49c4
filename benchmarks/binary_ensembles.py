"""Batched versus one-at-a-time training of mean-field binary networks (Zou & Huang appendix A).

Trains the same ``--networks`` 20-15-15-10 networks on Fashion-MNIST PCA-20 twice, in one run:
as one batched ensemble (``adaptsym.binary.train_ensemble``) and one network after the other
(``train_single`` with each network's seed), and prints configurations per second for both and the
speed-up. In the paper's protocol every configuration comes from one trained network, so a
configuration here is one network trained for ``--epochs`` epochs. Both runs train the same networks,
so they agree up to float32 rounding, which training amplifies (the tests check agreement to
1e-10 in float64); the largest difference of the mean weights mu = 2 sigmoid(theta) - 1 and the
share of weights whose sign differs are printed.

The networks are tiny, so on a CPU the one-at-a-time run is dominated by per-operation overhead
and, on a shared machine, by thread contention; both runs use ``--threads`` torch threads
(default 1; 0 keeps torch's default).

    .venv/bin/python benchmarks/binary_ensembles.py [--networks 32] [--epochs 2] [--n-train 30000]
"""

import argparse
import time

import torch

from adaptsym import data
from adaptsym.binary import mean_weights, train_ensemble, train_single

WIDTHS = (20, 15, 15, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=30000)
    parser.add_argument("--n-test", type=int, default=10000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    task = data.load_multiclass("fashion-mnist", n_train=args.n_train, n_test=args.n_test, pca_k=20,
                                device=args.device)
    print(f"{task.description}; architecture {WIDTHS}; {args.networks} networks x {args.epochs} epochs; "
          f"device {task.x_train.device}, {torch.get_num_threads()} torch threads")
    common = dict(epochs=args.epochs, device=args.device, progress=False)
    tensors = (task.x_train, task.y_train, task.x_test, task.y_test)
    train_single(WIDTHS, *tensors, seed=0, **common)  # warm-up: first use of autograd and Adam

    start = time.perf_counter()
    batched = train_ensemble(WIDTHS, *tensors, n_networks=args.networks, **common)
    batched_s = time.perf_counter() - start

    start = time.perf_counter()
    singles = [train_single(WIDTHS, *tensors, seed=seed, **common) for seed in batched.seeds]
    single_s = time.perf_counter() - start

    configurations = args.networks
    pairs = [(mean_weights(p[k]), mean_weights(s.params[i][0]))
             for k, s in enumerate(singles) for i, p in enumerate(batched.params)]
    gap = max((a - b).abs().max().item() for a, b in pairs)
    flipped = sum((a.sign() != b.sign()).sum().item() for a, b in pairs) / sum(a.numel() for a, _ in pairs)
    print(f"batched:      {batched_s:7.2f} s  {configurations / batched_s:8.2f} configurations/s  "
          f"mean final test accuracy (mean-field predictor) {batched.test_accuracy[:, -1].mean():.4f}")
    print(f"one at a time:{single_s:7.2f} s  {configurations / single_s:8.2f} configurations/s  "
          f"mean final test accuracy (mean-field predictor) "
          f"{torch.stack([s.test_accuracy[0, -1] for s in singles]).mean():.4f}")
    print(f"speed-up {single_s / batched_s:.1f}x; largest |mu_batched - mu_single| = {gap:.2e}, "
          f"weights of opposite sign {100 * flipped:.2f}% (float32 rounding, amplified by training)")


if __name__ == "__main__":
    main()
