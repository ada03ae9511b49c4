"""The adaptsym command: listing, and clear errors with a non-zero exit for bad names."""

import pytest

from adaptsym.cli import main
from adaptsym.profiles import CHAPTERS


def test_list_shows_chapters_profiles_and_parameter_values(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "profiles: smoke, quick, paper (default quick)" in out
    for ch in CHAPTERS:
        assert ch.slug in out and ch.title in out
        for name in ch.parameter_names():
            assert name in out


@pytest.mark.parametrize("argv, message", [
    (["run", "nope"], "unknown chapter 'nope'; valid chapters: 1 (umwelt)"),
    (["run", "1", "--profile", "fast"], "unknown profile 'fast'; valid profiles: smoke, quick, paper"),
    (["run", "umwelt", "-p", "widht=3"], "unknown parameter(s) widht"),
    (["run", "umwelt", "-p", "seed"], "is not of the form name=value"),
    (["book", "--profile", "fast"], "unknown profile 'fast'"),
])
def test_bad_names_exit_2_with_one_clear_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_fetch_unknown_dataset_names_the_valid_ones(capsys):
    assert main(["fetch", "imagenet"]) == 2
    assert "fashion-mnist" in capsys.readouterr().err
