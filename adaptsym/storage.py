"""Where results are cached, and writing files so that an interrupted run never leaves a half-written one."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable


def cache_root(kind: str) -> Path:
    """Cache folder for ``kind`` (e.g. ``"runs"``): ``$ADAPTSYM_CACHE/kind`` if set, else ``build/cache/kind``
    of a source checkout, else ``~/.cache/adaptsym/kind``."""
    if "ADAPTSYM_CACHE" in os.environ:
        return Path(os.environ["ADAPTSYM_CACHE"]) / kind
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "adaptsym").is_dir():
        return checkout / "build" / "cache" / kind
    return Path.home() / ".cache" / "adaptsym" / kind


def json_digest(obj: Any, length: int) -> str:
    """The first ``length`` hex digits of the sha256 of ``obj`` as canonical JSON (sorted keys): a cache key."""
    canonical = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any]) -> Path:
    """Run ``write(handle)`` on a temporary file next to ``path``, sync it, and ``os.replace`` it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON, atomically; numpy and torch scalars and arrays are stored as Python numbers."""
    return atomic_write_bytes(path, json.dumps(to_builtin(obj), indent=indent).encode())


def to_builtin(value: Any) -> Any:
    """Numpy and torch scalars and arrays as Python numbers and lists, through dicts, lists and tuples: plain
    JSON (anything else is left for ``json`` to accept or refuse)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, dict):
        return {k: to_builtin(v) for k, v in value.items()}
    return value
