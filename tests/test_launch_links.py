"""Binder and Colab buttons and the Colab install cell come from pyproject.toml (add_launch_links)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import add_launch_links  # noqa: E402

import course  # noqa: E402


def test_colab_installs_what_the_notebooks_need_pinned_as_in_pyproject():
    source = add_launch_links.install_source()
    pip_lines = [line.strip() for line in source.splitlines() if line.strip().startswith("%pip install")]
    assert len(pip_lines) == 2
    dependencies, package = pip_lines
    for requirement in add_launch_links.project()["dependencies"]:
        name = add_launch_links.requirement_name(requirement)
        if name in ("jupyterlab", "ipykernel"):   # Colab's own front end and kernel
            assert name not in dependencies
        else:
            assert f'"{requirement}"' in dependencies, f"{requirement} is not installed as pinned on Colab"
    assert f"--extra-index-url {course.TORCH_CPU_INDEX}" in dependencies   # the CPU build of torch
    assert package == (f'%pip install -q --no-deps "mbrl-helpers @ '
                       f'git+{add_launch_links.repository_url()}@{add_launch_links.branch()}"')


def test_buttons_and_colab_install_use_the_same_branch(monkeypatch):
    real = add_launch_links.pyproject()
    real["tool"]["mbrl-course"]["branch"] = "course-2027"
    monkeypatch.setattr(add_launch_links, "pyproject", lambda: real)
    urls = add_launch_links.launch_urls("01_dyna_q.ipynb")
    assert "/course-2027?labpath=" in urls["binder"] and "/blob/course-2027/notebooks/" in urls["colab"]
    assert "@course-2027\"" in add_launch_links.install_source()


@pytest.mark.parametrize("bad", [None, "", "two words", 7])
def test_a_missing_or_malformed_branch_is_refused(monkeypatch, bad):
    real = add_launch_links.pyproject()
    real["tool"]["mbrl-course"]["branch"] = bad
    monkeypatch.setattr(add_launch_links, "pyproject", lambda: real)
    with pytest.raises(ValueError, match=r"\[tool.mbrl-course\] branch .* must be a branch name .*got"):
        add_launch_links.branch()


def test_requirement_names_are_normalised():
    assert add_launch_links.requirement_name("numpy>=1.26,<2.5") == "numpy"
    assert add_launch_links.requirement_name("Jupyter_Lab >= 4") == "jupyter-lab"
