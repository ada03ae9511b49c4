"""Shared fixtures: small test models (float64, CPU, seeded: bias-free ReLU MLPs, a teacher data set and a trained
MLP) and the smoke book, built once per session for the book and browser tests."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from adaptsym.device import one_cpu_thread
from adaptsym.models import hinge_loss, relu_mlp


def teacher_labels(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Labels ±1 from the sign of a random linear teacher of the flattened inputs."""
    teacher = torch.randn(x[0].numel(), generator=torch.Generator().manual_seed(seed + 1), dtype=x.dtype)
    return torch.where(x.flatten(1) @ teacher >= 0, 1.0, -1.0).to(x.dtype)


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tiny networks: a second thread only adds contention on a shared machine."""
    with one_cpu_thread():
        yield


@pytest.fixture
def make_mlp():
    """Factory ``(widths, seed=0) -> relu_mlp`` in float64 on the CPU."""
    return lambda widths, seed=0: relu_mlp(widths, seed=seed, dtype=torch.float64, device="cpu")


@pytest.fixture
def teacher_data():
    """Factory ``(shape, m, seed=0) -> (x, y)``: m standard normal inputs of ``shape`` and teacher labels."""
    def make(shape, m, seed=0):
        x = torch.randn(m, *shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        return x, teacher_labels(x, seed)
    return make


@pytest.fixture(scope="session")
def trained_mlp():
    """``(model, x, y)``: a [6, 10, 10, 1] MLP after 60 full-batch gradient steps on 60 teacher examples: partly
    trained, with about two thirds of the margins below 1. Tests must not modify it (copy it first)."""
    x = torch.randn(60, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = teacher_labels(x, 0)
    model = relu_mlp([6, 10, 10, 1], seed=0, dtype=torch.float64, device="cpu")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        hinge_loss(model(x), y).backward()
        optimizer.step()
    return model, x, y


@dataclass(frozen=True)
class SmokeBook:
    """A book built from the smoke profile: its root, its HTML and the failure of the build (None if it passed)."""

    root: Path
    html: Path
    failure: Exception | None


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> SmokeBook:
    """Every chapter executed under ``smoke`` and the book rendered with warnings as errors, in a temporary copy of
    ``_config.yml``, ``_toc.yml`` and ``book/`` (a few minutes; built once, shared by test_book and test_browser).
    ``ADAPTSYM_SMOKE_BOOK=DIR`` reuses a smoke book already built under DIR instead (to iterate on the tests)."""
    from adaptsym import book
    from adaptsym.profiles import REPO_ROOT

    if os.environ.get("ADAPTSYM_SMOKE_BOOK"):
        root = Path(os.environ["ADAPTSYM_SMOKE_BOOK"])
        return SmokeBook(root, book.build_dir(root) / "_build" / "html", None)
    root = tmp_path_factory.mktemp("smoke_book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "book", root / "book")
    try:
        return SmokeBook(root, book.build_book("smoke", book_root=root, strict=True), None)
    except book.ChapterFailed as failure:  # the book is rendered all the same: its tests read the failure in it
        return SmokeBook(root, book.build_dir(root) / "_build" / "html", failure)
