"""Chapters and profiles: one place defines them, notebooks agree with it, bad names are rejected."""

import jupytext
import pytest

from adaptsym import profiles
from adaptsym.profiles import CHAPTERS, PROFILES


def parameters_cell(ch):
    notebook = jupytext.read(ch.source_path)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{ch.source} must have exactly one cell tagged 'parameters'"
    namespace = {}
    exec(cells[0].source, namespace)
    return {k: v for k, v in namespace.items() if not k.startswith("__")}


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda ch: ch.slug)
def test_notebook_parameters_cell_holds_the_quick_profile(ch):
    values = parameters_cell(ch)
    assert values.pop("profile") == "quick"
    assert values.pop("claims_path") is None
    assert values == dict(ch.parameters["quick"])


@pytest.mark.parametrize("ch", CHAPTERS, ids=lambda ch: ch.slug)
def test_every_profile_sets_the_same_parameters(ch):
    assert set(ch.parameters) == set(PROFILES)
    for profile in PROFILES:
        assert list(ch.parameters[profile]) == ch.parameter_names()


def test_chapters_are_found_by_number_stem_or_slug():
    ch = CHAPTERS[0]
    assert profiles.chapter(ch.number) is ch
    assert profiles.chapter(f"{ch.number:02d}") is ch
    assert profiles.chapter(ch.slug) is ch
    assert profiles.chapter(ch.stem) is ch


def test_unknown_chapter_profile_and_parameter_name_the_valid_choices():
    with pytest.raises(ValueError, match="valid chapters: 1 \\(umwelt\\)"):
        profiles.chapter("nope")
    ch = CHAPTERS[0]
    with pytest.raises(ValueError, match="valid profiles: smoke, quick, paper"):
        profiles.resolve_parameters(ch, "fast")
    with pytest.raises(ValueError, match="unknown parameter\\(s\\) widht.*valid parameters: .*width"):
        profiles.resolve_parameters(ch, "smoke", {"widht": 3})


def test_overrides_replace_profile_values():
    ch = CHAPTERS[0]
    values = profiles.resolve_parameters(ch, "smoke", {"seed": 7})
    assert values["seed"] == 7
    assert values["depths"] == ch.parameters["smoke"]["depths"]


def test_parse_override_reads_yaml_values():
    assert profiles.parse_override("temperatures=[1, 0.1]") == ("temperatures", [1, 0.1])
    assert profiles.parse_override("dataset=digits") == ("dataset", "digits")
    assert profiles.parse_override("seed=3") == ("seed", 3)
    with pytest.raises(ValueError, match="name=value"):
        profiles.parse_override("seed")
