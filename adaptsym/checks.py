"""Argument checks shared by the package: one wording for "unknown X; valid Xs: ..." errors."""

from __future__ import annotations

from collections.abc import Iterable


def check_choice(value, choices: Iterable, what: str, plural: str | None = None,
                 error: type[Exception] = ValueError) -> None:
    """Raise ``error`` naming the valid choices when ``value`` is not one of them, e.g. "unknown profile 'fast';
    valid profiles: smoke, quick, paper"."""
    choices = list(choices)
    if value not in choices:
        raise error(f"unknown {what} {value!r}; valid {plural or what + 's'}: {', '.join(map(str, choices))}")
