"""environment.yml (conda, Binder) must list the same dependencies as pyproject.toml."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {normalise(r) for r in project["dependencies"]}
    wanted |= {normalise(r) for r in project["optional-dependencies"]["dev"]}
    listed = set()
    in_pip_block = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped == "- pip:":
            in_pip_block = True
        elif in_pip_block and stripped.startswith("- ") and stripped != "- -e .":
            listed.add(normalise(stripped[2:]))
    assert listed, "environment.yml has no pip: block"
    assert listed == wanted, (
        f"only in pyproject.toml: {sorted(wanted - listed)}; "
        f"only in environment.yml: {sorted(listed - wanted)}"
    )


def test_torch_is_pinned_to_the_cpu_build_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]
