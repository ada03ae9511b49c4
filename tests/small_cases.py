"""Small seeded cases shared by several test modules: random Ising models (exactly enumerable at these sizes) and a
ten-class teacher task for tiny networks."""

import numpy as np
import torch


def random_dense(n, coupling_std, field_std, seed):
    """Symmetric Gaussian couplings with zero diagonal and Gaussian fields."""
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0.0, coupling_std, (n, n)), 1)
    return J + J.T, rng.normal(0.0, field_std, n)


def random_tree(n, seed, magnitude=(0.2, 0.6)):
    """A random tree (each spin i > 0 attached to an earlier one), couplings of random sign with |J| uniform in
    ``magnitude``, Gaussian fields: BP is exact on it."""
    rng = np.random.default_rng(seed)
    J = np.zeros((n, n))
    for i in range(1, n):
        parent = rng.integers(i)
        J[i, parent] = J[parent, i] = rng.choice([-1, 1]) * rng.uniform(*magnitude)
    return J, rng.normal(0.0, 0.5, n)


def teacher_classes(n_train, n_test, seed=0):
    """``(x_train, y_train, x_test, y_test)``: Gaussian points in 20-D labelled 0..9 by the argmax of a random
    linear teacher, float64."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_test, 20, generator=g, dtype=torch.float64)
    y = (x @ torch.randn(20, 10, generator=g, dtype=torch.float64)).argmax(1)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
