"""The conda environment and the pip project describe the same dependencies; the layout is the design card's."""

import re
import tomllib

import yaml

from adaptsym.profiles import REPO_ROOT

CONDA_NAMES = {"torch": "pytorch"}  # pip name -> conda-forge/pytorch channel name, where they differ


def requirement(spec: str) -> tuple[str, str]:
    """Split 'name>=1.0,<2' into ('name', '>=1.0,<2') with the name normalised."""
    name, version = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", spec).groups()
    return name.lower().replace("_", "-"), version.replace(" ", "")


def test_environment_yml_lists_every_runtime_dependency_with_the_same_bounds():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip = [spec for entry in environment["dependencies"] if isinstance(entry, dict) for spec in entry.get("pip", [])]
    conda = dict(requirement(spec) for spec in environment["dependencies"] + pip if isinstance(spec, str))
    for spec in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, version = requirement(spec)
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} is in pyproject.toml but not in environment.yml"
        assert conda[conda_name] == version, f"{name}: pyproject says {version!r}, environment.yml {conda[conda_name]!r}"


def test_jupyter_book_is_pinned_below_2():
    deps = dict(requirement(s) for s in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert deps["jupyter-book"] == ">=1.0.4.post1,<2"


def test_top_level_layout_is_the_design_cards():
    for name in ("book", "_config.yml", "_toc.yml", "adaptsym", "notebooks", "tests", "environment.yml",
                 "pyproject.toml", "Makefile", "README.md", ".ci/run"):
        assert (REPO_ROOT / name).exists(), name
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
