"""Cache locations and atomic writes."""

import json

import pytest

from adaptsym import storage


def test_cache_root_prefers_environment_then_checkout_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path / "env"))
    assert storage.cache_root("runs") == tmp_path / "env" / "runs"
    monkeypatch.delenv("ADAPTSYM_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    checkout = tmp_path / "checkout"
    (checkout / "adaptsym").mkdir(parents=True)
    monkeypatch.setattr(storage, "__file__", str(checkout / "adaptsym" / "storage.py"))
    assert storage.cache_root("runs") == tmp_path / "home" / ".cache" / "adaptsym" / "runs"
    (checkout / "pyproject.toml").touch()
    assert storage.cache_root("runs") == checkout / "build" / "cache" / "runs"


def test_atomic_write_replaces_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "x.json"
    storage.atomic_write_json(target, {"a": 1})
    storage.atomic_write_json(target, {"b": [1.5, 2]})
    assert json.loads(target.read_text()) == {"b": [1.5, 2]}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "x.bin"
    storage.atomic_write_bytes(target, b"old")

    def broken(handle):
        handle.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        storage.atomic_write(target, broken)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_json_digest_ignores_key_order_and_sees_every_value():
    assert storage.json_digest({"a": 1, "b": [2, 3]}, 12) == storage.json_digest({"b": [2, 3], "a": 1}, 12)
    assert storage.json_digest({"a": 1}, 12) != storage.json_digest({"a": 2}, 12)
    assert len(storage.json_digest({"a": 1}, 8)) == 8


def test_to_builtin_turns_numpy_and_torch_values_into_plain_json():
    import numpy as np
    import torch

    value = {"a": np.float64(0.25), "b": (np.arange(2), torch.tensor([1.5])), "c": [np.bool_(True), "x", None]}
    assert storage.to_builtin(value) == {"a": 0.25, "b": [[0, 1], [1.5]], "c": [True, "x", None]}
    assert type(storage.to_builtin(np.float64(0.25))) is float
