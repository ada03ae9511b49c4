"""Tests of adaptsym.data: IDX and CIFAR readers on tiny hand-written files, data-set search and
its errors, digits, binary tasks, deterministic subsets, PCA against numpy's SVD, tasks."""

import gzip
import pickle
import urllib.error

import numpy as np
import pytest
import sklearn.datasets
import torch
from threadpoolctl import threadpool_limits

from adaptsym import data


def write_idx(path, array, magic):
    """Write ``array`` (uint8) as an IDX file, gzipped when ``path`` ends in .gz."""
    payload = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes()
    with (gzip.open(path, "wb") if str(path).endswith(".gz") else open(path, "wb")) as stream:
        stream.write(payload)


def write_idx_split(directory, split, n, gz, seed=0, shape=(4, 5)):
    """Random uint8 images (n x shape) and labels 0..9 written as one IDX split; returns them."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    images.flat[0], images.flat[1] = 0, 255
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    prefix, suffix = data._IDX_PREFIX[split], ".gz" if gz else ""
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images, data.IDX_IMAGES_MAGIC)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels, data.IDX_LABELS_MAGIC)
    return images, labels


def write_cifar(directory, sizes, seed=0):
    """Tiny CIFAR-10 python batches (data_batch_1..5 and test_batch) with random bytes."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name, n in zip((*data._CIFAR_BATCHES["train"], "test_batch"), sizes):
        batch = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, size=n).tolist()}
        (directory / name).write_bytes(pickle.dumps(batch))
        batches[name] = batch
    return batches


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """Point every search location at empty or absent directories."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(data.DATA_ENV, str(empty))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path / "no-cache"))
    return empty


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    train = write_idx_split(tmp_path, "train", 7, gz, seed=1)
    test = write_idx_split(tmp_path, "test", 3, gz, seed=2)
    for split, (images, labels) in (("train", train), ("test", test)):
        x, y = data.load_images("mnist", split, root=tmp_path)
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape == (len(images), 1, 4, 5) and y.shape == (len(images),)
        assert 0 <= x.min() and x.max() <= 1 and x.max() == 1
        assert torch.equal(torch.round(x * 255).to(torch.uint8)[:, 0], torch.from_numpy(images))
        assert torch.equal(x, torch.from_numpy(images).float()[:, None] / 255)
        assert torch.equal(y, torch.from_numpy(labels).long())


@pytest.mark.parametrize("layout", ["fashion-mnist", "FashionMNIST/raw"])
def test_idx_found_through_env(no_data, layout):
    images, _ = write_idx_split(no_data / layout, "test", 5, gz=True)
    x, _ = data.load_images("fashion-mnist", "test")
    assert torch.equal(torch.round(x * 255).to(torch.uint8)[:, 0], torch.from_numpy(images))


def test_idx_found_in_debian_dir(no_data, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    _, labels = write_idx_split(tmp_path / "debian", "train", 4, gz=True)
    assert torch.equal(data.load_images("fashion-mnist", "train")[1], torch.from_numpy(labels).long())


def test_idx_truncated(tmp_path):
    write_idx_split(tmp_path, "train", 6, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*truncated"):
        data.load_images("mnist", "train", root=tmp_path)


def test_idx_truncated_gzip(tmp_path):
    write_idx_split(tmp_path, "train", 6, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz"):
        data.load_images("mnist", "train", root=tmp_path)


def test_idx_bad_magic(tmp_path):
    images, _ = write_idx_split(tmp_path, "test", 3, gz=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, data.IDX_LABELS_MAGIC)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz.*magic number 0x00000801"):
        data.load_images("mnist", "test", root=tmp_path)


def test_idx_count_mismatch(tmp_path):
    write_idx_split(tmp_path, "test", 3, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8), data.IDX_LABELS_MAGIC)
    with pytest.raises(ValueError, match="3 images.*4 labels"):
        data.load_images("mnist", "test", root=tmp_path)


def test_cifar_round_trip(tmp_path):
    batches = write_cifar(tmp_path / data.CIFAR_DIR, sizes=(2, 1, 3, 2, 2, 4))
    x, y = data.load_images("cifar10", "train", root=tmp_path)
    assert x.shape == (10, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    rows = np.concatenate([batches[name][b"data"] for name in data._CIFAR_BATCHES["train"]])
    n, c, i, j = 6, 2, 5, 17
    assert x[n, c, i, j] == rows[n, c * 1024 + i * 32 + j] / np.float32(255)
    assert torch.equal(x, torch.from_numpy(rows).float().reshape(10, 3, 32, 32) / 255)
    assert y.tolist() == sum((batches[name][b"labels"] for name in data._CIFAR_BATCHES["train"]), [])
    x_test, y_test = data.load_images("cifar10", "test", root=tmp_path)
    assert x_test.shape == (4, 3, 32, 32) and y_test.tolist() == batches["test_batch"][b"labels"]


@pytest.mark.parametrize("batch", [{b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]},
                                   {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]},
                                   {b"labels": [0, 1]}])
def test_cifar_corrupt(tmp_path, batch):
    write_cifar(tmp_path / data.CIFAR_DIR, sizes=(1,) * 6)
    (tmp_path / data.CIFAR_DIR / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueError, match="test_batch"):
        data.load_images("cifar10", "test", root=tmp_path)


def test_cifar_truncated_pickle(tmp_path):
    write_cifar(tmp_path / data.CIFAR_DIR, sizes=(1,) * 6)
    path = tmp_path / data.CIFAR_DIR / "test_batch"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="test_batch"):
        data.load_images("cifar10", "test", root=tmp_path)


@pytest.mark.parametrize("name, fix", [("fashion-mnist", "sudo apt-get install dataset-fashion-mnist"),
                                       ("mnist", "adaptsym fetch mnist"),
                                       ("cifar10", "adaptsym fetch cifar10")])
def test_missing_data_set_names_fix(no_data, name, fix):
    with pytest.raises(FileNotFoundError) as error:
        data.load_images(name, "train")
    assert fix in str(error.value) and str(no_data) in str(error.value)


def test_download_without_network(no_data, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(RuntimeError, match=f"no network.*{no_data}"):
        data.load_images("mnist", "test", download=True)


@pytest.mark.parametrize("name, split, choices", [("imagenet", "train", "fashion-mnist"),
                                                  ("digits", "validation", "valid splits: train, test")])
def test_unknown_name_or_split(name, split, choices):
    with pytest.raises(ValueError, match=choices):
        data.load_images(name, split)


def test_digits_offline():
    full = sklearn.datasets.load_digits()
    x_train, y_train = data.load_images("digits", "train")
    x_test, y_test = data.load_images("digits", "test")
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0 <= x_train.min() and x_train.max() == 1
    x = torch.cat([x_train, x_test])[:, 0].double()
    assert torch.equal(x * 16, torch.from_numpy(full.images))
    assert torch.cat([y_train, y_test]).tolist() == full.target.tolist()


def test_binary_task():
    labels = torch.tensor([0, 1, 2, 3, 0, 2, 1])
    images = torch.arange(7, dtype=torch.float64)[:, None]
    x, y = data.binary_task(images, labels, positive=(0,), negative=(2,))
    assert x[:, 0].tolist() == [0, 2, 4, 5] and y.tolist() == [1, -1, 1, -1] and y.dtype == torch.float64
    x, y = data.binary_task(images, labels, positive=(0, 3))
    assert x[:, 0].tolist() == list(range(7)) and y.tolist() == [1, -1, -1, 1, 1, -1, -1]
    x, y = data.binary_task(images, labels, positive=1, negative=0)
    assert x[:, 0].tolist() == [0, 1, 4, 6] and y.tolist() == [-1, 1, -1, 1]


@pytest.mark.parametrize("positive, negative, message", [((0, 1), (1,), "both"), ((5,), (2,), "empty"),
                                                          ((0, 1, 2, 3), None, "empty")])
def test_binary_task_invalid(positive, negative, message):
    labels = torch.tensor([0, 1, 2, 3])
    with pytest.raises(ValueError, match=message):
        data.binary_task(torch.zeros(4, 2), labels, positive, negative)


def test_subset_deterministic_balanced_ordered():
    y = torch.tensor([1.0] * 30 + [-1.0] * 70)[torch.randperm(100, generator=torch.Generator().manual_seed(3))]
    x = torch.arange(100)
    xs, ys = data.deterministic_subset(x, y, 20, seed=5)
    assert torch.equal(ys, y[xs]) and bool((xs[1:] > xs[:-1]).all())
    assert (ys == 1).sum() == 10 and (ys == -1).sum() == 10
    again = data.deterministic_subset(x, y, 20, seed=5)
    assert torch.equal(again[0], xs) and torch.equal(again[1], ys)
    assert not torch.equal(data.deterministic_subset(x, y, 20, seed=6)[0], xs)
    xu, yu = data.deterministic_subset(x, y, 15, seed=5, balanced=False)
    assert len(xu) == 15 and torch.equal(yu, y[xu]) and bool((xu[1:] > xu[:-1]).all())


@pytest.mark.parametrize("n", [None, 100, 150])
def test_subset_all(n):
    y = torch.tensor([1.0] * 30 + [-1.0] * 70)
    x = torch.arange(100)
    xs, ys = data.deterministic_subset(x, y, n)
    assert torch.equal(xs, x) and torch.equal(ys, y)


@pytest.mark.parametrize("n, message", [(21, "multiple of 2"), (80, "fewer than 40"), (0, "positive")])
def test_subset_impossible(n, message):
    y = torch.tensor([1.0] * 30 + [-1.0] * 70)
    with pytest.raises(ValueError, match=message):
        data.deterministic_subset(torch.arange(100), y, n)


def test_pca_matches_svd():
    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(40, 12)) * np.linspace(3, 0.5, 12) + rng.normal(size=12)
    x_test = rng.normal(size=(9, 12))
    pca = data.fit_pca(torch.from_numpy(x_train).reshape(40, 3, 2, 2), k=4)
    z_train = pca.transform(torch.from_numpy(x_train)).numpy()
    assert np.abs(z_train.mean(axis=0)).max() < 1e-10
    mean = x_train.mean(axis=0)
    _, s, vt = np.linalg.svd(x_train - mean, full_matrices=False)
    for x, z in ((x_train, z_train), (x_test, pca.transform(torch.from_numpy(x_test)).numpy())):
        expected = (x - mean) @ vt[:4].T
        signs = np.sign((expected * z).sum(axis=0))
        np.testing.assert_allclose(z * signs, expected, atol=1e-10, rtol=0)
    assert pca.explained_variance == pytest.approx((s[:4] ** 2).sum() / (s ** 2).sum(), abs=1e-12)
    assert pca.transform(torch.from_numpy(x_test).float()).dtype == torch.float32
    assert pca.transform(torch.from_numpy(x_test), dtype=torch.float32).dtype == torch.float32


def test_pca_features_are_the_same_bits_whatever_the_blas_thread_count():
    """They key the cached runs and ensembles: a machine with more cores must find the same cache entries."""
    x = torch.from_numpy(np.random.default_rng(1).normal(size=(3000, 200)))
    features = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            features.append(data.fit_pca(x, k=10).transform(x).numpy().tobytes())
    assert features[0] == features[1]


@pytest.mark.parametrize("k", [0, 13])
def test_pca_invalid_k(k):
    with pytest.raises(ValueError, match="k <= min"):
        data.fit_pca(torch.zeros(20, 12), k)


def test_load_task_digits():
    task = data.load_task("digits", positive=(0,), negative=(1,), n_train=40, n_test=20, pca_k=5,
                          dtype=torch.float64, device="cpu")
    assert task.x_train.shape == (40, 5) and task.x_test.shape == (20, 5) and task.x_train.dtype == torch.float64
    assert (task.y_train == 1).sum() == 20 and (task.y_test == -1).sum() == 10
    assert task.x_train.mean(dim=0).abs().max() < 1e-10  # PCA fitted on the chosen training subset
    assert task.name == "digits"
    assert task.description.startswith("scikit-learn digits, classes (0,) vs (1,), 40 train / 20 test, PCA-5")
    raw = data.load_task("digits", positive=(0,), negative=(1,), n_train=40, n_test=20, device="cpu")
    assert raw.x_train.shape == (40, 64) and raw.description.endswith("64 pixels") and raw.pca is None
    assert torch.equal(task.x_train, task.pca.transform(raw.x_train, torch.float64))


def test_load_multiclass_digits():
    task = data.load_multiclass("digits", n_train=100, pca_k=8, device="cpu")
    assert task.y_train.dtype == torch.int64 and torch.equal(torch.bincount(task.y_train), torch.full((10,), 10))
    assert task.x_test.shape == (360, 8) and task.x_train.dtype == torch.float32
    assert "10 classes, 100 train / 360 test, PCA-8" in task.description


def test_debian_fashion_mnist():
    if not data.DEBIAN_FASHION_MNIST.is_dir():
        pytest.skip(f"{data.DEBIAN_FASHION_MNIST} absent (sudo apt-get install dataset-fashion-mnist)")
    x, y = data.load_images("fashion-mnist", "train", root=data.DEBIAN_FASHION_MNIST)
    assert x.shape == (60000, 1, 28, 28) and y.shape == (60000,)
    assert 0 <= x.min() and x.max() <= 1 and set(y.tolist()) == set(range(10))
