"""Image data sets, binary tasks, deterministic subsets and PCA.

Li trains bias-free ReLU networks with the hinge loss on binary tasks carved out of image data
sets (labels y in {-1, +1}; section II.7 and supp. H B of Li: CIFAR-10 "modified for binary
classification"). Zou & Huang train a 20-15-15-10 binary network on the ten MNIST classes after
projecting the images on their top 20 principal components, computed on the training images only
(their appendix D; Fashion-MNIST in their Fig. 16).

Where the files come from (see :func:`load_images`): Fashion-MNIST from the Debian package
``dataset-fashion-mnist``, MNIST and CIFAR-10 from a directory given as ``root``, from
``$ADAPTSYM_DATA`` or from a torchvision download, and scikit-learn's 8x8 digits, which ship with
scikit-learn and are always available offline.
"""

import gzip
import os
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn.datasets
import sklearn.decomposition
import torch
from threadpoolctl import threadpool_limits

from adaptsym.checks import check_choice
from adaptsym.device import resolve_device
from adaptsym.storage import cache_root

DATASETS = ("fashion-mnist", "mnist", "cifar10", "digits")
SPLITS = ("train", "test")
DATA_ENV = "ADAPTSYM_DATA"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DIGITS_N_TRAIN = 1437
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
CIFAR_DIR = "cifar-10-batches-py"

_TITLES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10",
           "digits": "scikit-learn digits"}
_LAYOUTS = {"fashion-mnist": ("fashion-mnist", "FashionMNIST/raw"), "mnist": ("mnist", "MNIST/raw"),
            "cifar10": (CIFAR_DIR, f"cifar10/{CIFAR_DIR}")}
_IDX_PREFIX = {"train": "train", "test": "t10k"}
_CIFAR_BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}


def _split_files(name: str, split: str) -> tuple[str, ...]:
    """The file names (without ``.gz``) that hold one split of ``name``."""
    if name == "cifar10":
        return _CIFAR_BATCHES[split]
    prefix = _IDX_PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _existing(directory: Path, stem: str) -> Path | None:
    """``directory/stem`` or its gzipped twin ``stem.gz``, whichever exists (plain first)."""
    return next((p for p in (directory / stem, directory / f"{stem}.gz") if p.is_file()), None)


def download_cache() -> Path:
    """Where downloads go when neither a root nor ``$ADAPTSYM_DATA`` is given: ``cache_root("data")``."""
    return cache_root("data")


def _env_dir() -> Path | None:
    """The directory named by ``$ADAPTSYM_DATA``, if set."""
    return Path(os.environ[DATA_ENV]) if os.environ.get(DATA_ENV) else None


def _candidate_dirs(name: str, root) -> list[Path]:
    """Directories searched for ``name``, in order: ``root`` alone if given, else
    ``$ADAPTSYM_DATA``, the Debian package directory (Fashion-MNIST) and the download cache."""
    if root is not None:
        return [Path(root)] + [Path(root) / layout for layout in _LAYOUTS[name]]
    env = _env_dir()
    dirs = [] if env is None else [env / layout for layout in _LAYOUTS[name]]
    if name == "fashion-mnist":
        dirs.append(DEBIAN_FASHION_MNIST)
    return dirs + [download_cache() / layout for layout in _LAYOUTS[name]]


def _find_split(name: str, split: str, root) -> tuple[list[Path], list[Path]]:
    """The files of one split from the first candidate directory holding all of them, and the
    directories searched (the file list is empty when none holds them)."""
    searched = _candidate_dirs(name, root)
    for directory in searched:
        files = [_existing(directory, stem) for stem in _split_files(name, split)]
        if all(files):
            return files, searched
    return [], searched


def _fix_command(name: str) -> str:
    """The command that puts ``name`` on disk."""
    if name == "fashion-mnist":
        return ("sudo apt-get install dataset-fashion-mnist "
                "(or `adaptsym fetch fashion-mnist` when online)")
    return f"`adaptsym fetch {name}` (needs network)"


def _download_dir(root) -> Path:
    """Where a torchvision download goes: ``root``, else ``$ADAPTSYM_DATA``, else the cache."""
    return Path(root) if root is not None else _env_dir() or download_cache()


def _download(name: str, split: str, target: Path) -> None:
    """Download one split of ``name`` into ``target`` with torchvision (its own layout)."""
    import torchvision.datasets  # imported here: slow, and only needed for downloads

    dataset = {"fashion-mnist": torchvision.datasets.FashionMNIST, "mnist": torchvision.datasets.MNIST,
               "cifar10": torchvision.datasets.CIFAR10}[name]
    try:
        dataset(str(target), train=split == "train", download=True)
    except (RuntimeError, OSError) as error:
        raise RuntimeError(
            f"downloading {name} into {target} failed; is there no network? ({error}). "
            f"Without network, copy the files {', '.join(_split_files(name, split))} (plain or .gz) "
            f"into {target / _LAYOUTS[name][0]} by hand, or point ${DATA_ENV} at a directory "
            f"holding {_LAYOUTS[name][0]}/") from error


def _read_bytes(path: Path) -> bytes:
    """The (decompressed) content of ``path``; a damaged gzip stream is a ValueError."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as stream:
            return stream.read()
    except (EOFError, gzip.BadGzipFile, OSError) as error:
        raise ValueError(f"{path}: cannot read the file, it is corrupt or truncated ({error})") from error


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes (the MNIST format) into a uint8 array.

    Written by hand rather than taken from torchvision, whose reader is tied to its data-set
    classes and their folder layout. Header: a big-endian 32-bit magic number (0x00000803 for
    images, 0x00000801 for labels; its low byte is the number of dimensions), then one big-endian
    32-bit size per dimension, then the bytes. Raises ValueError naming the file when the magic
    number is wrong or the payload length differs from the product of the dimensions.
    """
    path = Path(path)
    data = _read_bytes(path)
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if found != magic:
        shown = "no header" if found is None else f"0x{found:08x}"
        raise ValueError(f"{path}: not an IDX file of this kind (magic number {shown}, expected 0x{magic:08x})")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, expected at least {header})")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    payload = len(data) - header
    if payload != int(np.prod(dims)):
        raise ValueError(f"{path}: IDX payload has {payload} bytes but the header's dimensions {dims} "
                         f"need {int(np.prod(dims))}; the file is truncated or corrupt")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N x 1 x H x W, uint8) and labels (N,) from a pair of IDX files."""
    images = read_idx(images_path, IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    return images[:, None], labels


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N x 3 x 32 x 32, uint8) and labels of one pickled CIFAR-10 python batch (plain or .gz).

    The batches are pickles (the format CIFAR-10 ships in); load only files you trust.
    """
    content = _read_bytes(path)
    try:
        batch = pickle.loads(content, encoding="bytes")
        pixels, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (a dict with b'data' and b'labels'): "
                         f"{error!r}") from error
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != 3 * 32 * 32 or labels.shape != (len(pixels),):
        raise ValueError(f"{path}: expected uint8 data of shape N x 3072 and N labels, found data "
                         f"{pixels.dtype} {pixels.shape} and labels {labels.shape}")
    return pixels.reshape(-1, 3, 32, 32), labels


def _read_split(name: str, files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Decode the files of one split of ``name`` into uint8 images and labels."""
    if name == "cifar10":
        batches = [_read_cifar_batch(path) for path in files]
        return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    return _read_idx_split(*files)


def _load_digits(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits scaled by 1/16; first 1437 samples train, last 360 test."""
    digits = sklearn.datasets.load_digits()
    part = slice(None, DIGITS_N_TRAIN) if split == "train" else slice(DIGITS_N_TRAIN, None)
    images = torch.from_numpy(digits.images[part] / 16.0).to(torch.float32)[:, None]
    return images, torch.from_numpy(digits.target[part]).to(torch.int64)


def load_images(name: str, split: str, root: str | os.PathLike | None = None,
                download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (float32, N x C x H x W, values in [0, 1]) and labels (int64, N) of a data set split.

    ``name`` is one of "fashion-mnist", "mnist", "cifar10", "digits"; ``split`` "train" or "test".
    Pixel bytes are divided by 255; the digits (values 0..16) by 16, and since scikit-learn ships
    them unsplit, the first 1437 samples are "train" and the remaining 360 "test".

    Files are searched in ``root`` if given (the directory itself, ``root/<name>/`` and
    torchvision's layout ``root/FashionMNIST/raw/``, ``root/MNIST/raw/``,
    ``root/cifar-10-batches-py/``), otherwise in ``$ADAPTSYM_DATA`` (same sub-directories),
    ``DEBIAN_FASHION_MNIST`` (Fashion-MNIST only) and the download cache (``download_cache()``). MNIST-like sets are IDX files
    (plain or ``.gz``), CIFAR-10 the python batches. When nothing is found, ``download=True``
    downloads with torchvision into ``root``, ``$ADAPTSYM_DATA`` or ``download_cache()`` (RuntimeError
    if that fails); otherwise a FileNotFoundError lists the places searched and the fix command.
    Tensors are on the CPU; nothing but torchvision downloads is written to disk.
    """
    check_choice(name, DATASETS, "data set")
    check_choice(split, SPLITS, "split")
    if name == "digits":
        return _load_digits(split)
    files, searched = _find_split(name, split, root)
    if not files and download:
        target = _download_dir(root)
        _download(name, split, target)
        files, searched = _find_split(name, split, target)
        if not files:
            raise RuntimeError(f"torchvision downloaded {name} into {target} but its files were not found in "
                               f"{', '.join(map(str, searched))}")
    if not files:
        raise FileNotFoundError(
            f"{_TITLES[name]} {split} split not found: looked for {', '.join(_split_files(name, split))} "
            f"(plain or .gz) in {', '.join(map(str, searched))}. Fix: {_fix_command(name)}, "
            f"or put the files in $ADAPTSYM_DATA/{_LAYOUTS[name][0]}/")
    images, labels = _read_split(name, files)
    return torch.from_numpy(images.astype(np.float32)).div_(255), torch.from_numpy(labels.astype(np.int64))


def _classes(classes: int | Iterable[int]) -> tuple[int, ...]:
    """A class or an iterable of classes as a tuple of ints."""
    return (int(classes),) if isinstance(classes, int) else tuple(int(c) for c in classes)


def binary_task(images: torch.Tensor, labels: torch.Tensor, positive: int | Iterable[int],
                negative: int | Iterable[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary classification task with y in {-1, +1}, the hinge-loss setting of Li (section II.7).

    Keeps the samples whose label is in ``positive`` (y = +1) or ``negative`` (y = -1; ``None``
    means every other class). ``y`` has the dtype of ``images``. ValueError if a class is on both
    sides or either side has no sample.
    """
    positive = _classes(positive)
    negative = None if negative is None else _classes(negative)
    overlap = set(positive) & set(negative or ())
    if overlap:
        raise ValueError(f"classes {sorted(overlap)} are both positive and negative")
    is_positive = torch.isin(labels, torch.tensor(positive, device=labels.device))
    keep = torch.ones_like(is_positive) if negative is None else is_positive | torch.isin(
        labels, torch.tensor(negative, device=labels.device))
    if not is_positive.any() or not (keep & ~is_positive).any():
        raise ValueError(f"binary task {positive} vs {negative or 'rest'} has an empty side; "
                         f"classes present: {torch.unique(labels).tolist()}")
    y = torch.where(is_positive[keep], 1.0, -1.0).to(images.dtype)
    return images[keep.to(images.device)], y


def deterministic_subset(x: torch.Tensor, y: torch.Tensor, n: int | None, seed: int = 0,
                         balanced: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` samples chosen reproducibly (torch.Generator seeded by ``seed``), in input order.

    ``balanced=True`` takes n / (number of label values) samples of each value of ``y``
    (ValueError if n is not divisible or a value has too few samples). ``n=None`` or
    ``n >= len(y)`` returns everything unchanged.
    """
    if n is None or n >= len(y):
        return x, y
    if n < 1:
        raise ValueError(f"subset size must be positive, got n={n}")
    generator = torch.Generator().manual_seed(seed)
    y_cpu = y.cpu()
    if balanced:
        values = torch.unique(y_cpu)
        if n % len(values):
            raise ValueError(f"cannot balance n={n} over {len(values)} label values; use a multiple of {len(values)}")
        pools = [torch.nonzero(y_cpu == v).flatten() for v in values]
        short = [v.item() for v, pool in zip(values, pools) if len(pool) < n // len(values)]
        if short:
            raise ValueError(f"label values {short} have fewer than {n // len(values)} samples")
        chosen = torch.cat([pool[torch.randperm(len(pool), generator=generator)[:n // len(values)]] for pool in pools])
    else:
        chosen = torch.randperm(len(y_cpu), generator=generator)[:n]
    chosen = chosen.sort().values
    return x[chosen.to(x.device)], y[chosen.to(y.device)]


def flatten(images: torch.Tensor) -> torch.Tensor:
    """Images N x C x H x W (or any N x ...) as an N x D matrix."""
    return images.reshape(len(images), -1)


@dataclass(frozen=True)
class PCA:
    """Principal components of the flattened training images, centred by their mean (Zou & Huang
    appendix D: eigenvectors from the training images, then training and test images projected)."""

    model: sklearn.decomposition.PCA

    @property
    def explained_variance(self) -> float:
        """Fraction of the training images' total variance that the kept components explain."""
        return float(self.model.explained_variance_ratio_.sum())

    def transform(self, x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Project ``x`` (N x ...) on the components after removing the training mean: N x k,
        of ``dtype`` (default: that of ``x``) on the device of ``x``."""
        with threadpool_limits(1):  # see fit_pca
            z = self.model.transform(flatten(x).detach().cpu().to(torch.float64).numpy())
        return torch.as_tensor(z, dtype=dtype or x.dtype, device=x.device)


def fit_pca(x_train: torch.Tensor, k: int) -> PCA:
    """Fit the top ``k`` principal components of the flattened ``x_train`` in float64.

    Solver: eigendecomposition of the D x D covariance (exact, and 30x faster than a full SVD on
    the 60000 x 784 MNIST training matrix).  Fitted (and applied) on one BLAS thread: the last bits of a
    threaded covariance depend on the thread count, and the projected inputs key the cached runs and
    ensembles, which would otherwise be retrained on a machine with another number of cores."""
    x = flatten(x_train).detach().cpu().to(torch.float64).numpy()
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"PCA needs 1 <= k <= min(samples, features) = {min(x.shape)}, got k={k}")
    with threadpool_limits(1):
        return PCA(sklearn.decomposition.PCA(n_components=k, svd_solver="covariance_eigh").fit(x))


@dataclass(frozen=True)
class Task:
    """Training and test inputs (N x D, or N x k after PCA) and labels, with a human description
    of the data that chapters print next to each figure."""

    name: str
    description: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    pca: PCA | None = None


def _build_task(name: str, classes: str | None, relabel: Callable, n_train: int | None, n_test: int | None,
                pca_k: int | None, seed: int, root, download: bool, dtype: torch.dtype, device) -> Task:
    """Load both splits, relabel them, take balanced subsets, flatten, and project on the PCA of
    the chosen training subset; ``classes`` describes the labels (``None``: their count)."""
    device = resolve_device(device)
    x_train, y_train = deterministic_subset(*relabel(*load_images(name, "train", root, download)), n_train, seed)
    x_test, y_test = deterministic_subset(*relabel(*load_images(name, "test", root, download)), n_test, seed)
    pca = None if pca_k is None else fit_pca(x_train, pca_k)
    x_train, x_test = (flatten(x).to(dtype) if pca is None else pca.transform(x, dtype) for x in (x_train, x_test))
    features = (f"{x_train.shape[1]} pixels" if pca is None
                else f"PCA-{pca_k} ({100 * pca.explained_variance:.1f}% of variance)")
    classes = classes or f"{torch.unique(y_train).numel()} classes"
    description = f"{_TITLES[name]}, {classes}, {len(y_train)} train / {len(y_test)} test, {features}"
    return Task(name, description, x_train.to(device), y_train.to(device), x_test.to(device), y_test.to(device), pca)


def load_task(name: str = "fashion-mnist", positive: int | Iterable[int] = (0,),
              negative: int | Iterable[int] | None = None, n_train: int | None = None,
              n_test: int | None = None, pca_k: int | None = None, seed: int = 0,
              root: str | os.PathLike | None = None, download: bool = False,
              dtype: torch.dtype = torch.float32, device: str | torch.device = "auto") -> Task:
    """Binary task (y in {-1, +1} of ``dtype``) of Li's hinge-loss setting: ``positive`` vs
    ``negative`` classes (``None``: the rest), balanced subsets of ``n_train`` / ``n_test``
    samples (``None``: all), inputs flattened or projected on ``pca_k`` principal components fitted
    on the training subset."""
    positive = _classes(positive)
    negative = None if negative is None else _classes(negative)
    classes = f"classes {positive} vs {'rest' if negative is None else negative}"
    return _build_task(name, classes, lambda x, y: binary_task(x, y, positive, negative), n_train, n_test,
                       pca_k, seed, root, download, dtype, device)


def load_multiclass(name: str, n_train: int | None = None, n_test: int | None = None,
                    pca_k: int | None = None, seed: int = 0, root: str | os.PathLike | None = None,
                    download: bool = False, dtype: torch.dtype = torch.float32,
                    device: str | torch.device = "auto") -> Task:
    """All classes with their int64 labels (Zou & Huang's ten-class MNIST, appendix D: PCA-20 of
    the training images), class-balanced subsets of ``n_train`` / ``n_test`` samples (``None``:
    all) and inputs flattened or projected on ``pca_k`` principal components."""
    return _build_task(name, None, lambda x, y: (x, y), n_train, n_test, pca_k, seed, root,
                       download, dtype, device)
