"""The notebooks run from a wheel, outside the repository (as on Colab).

Colab's install cell installs the package, not the repository, and runs each notebook from a
folder that holds nothing else. tests/background_run.py does the same for the session's one run
of every notebook's student edition: it builds the wheel from a copy of the package's sources,
installs it (not editable) into a fresh virtual environment, and runs the notebooks there from
a folder holding only them. If results were looked up in the repository instead of in the
installed package, the notebooks would fail there. These tests check that the fresh environment
really imports the wheel, in a plain process and in every notebook's kernel.
"""

from __future__ import annotations

import json
from pathlib import Path

import background_run
import pytest
from background_run import NOTEBOOKS, WHERE_FROM


@pytest.fixture(scope="module")
def installed() -> dict:
    """The background run's fresh venv with the wheel installed: python, site_packages, env, tmp."""
    return background_run.start("student").installed()


def test_the_wheel_carries_the_results_and_is_what_the_fresh_environment_imports(installed):
    code = ("import json, mbrl_helpers; from mbrl_helpers import results; "
            "from mbrl_helpers.course import summary; "
            "names = [s.name + '.json' for s in summary.RESULTS_FILES] + ['imagined.grid.json']; "
            "print(json.dumps([mbrl_helpers.__file__, str(results.results_dir()), "
            "[str(results.results_path(n)) for n in names]]))")
    empty = installed["tmp"] / "empty"
    empty.mkdir(exist_ok=True)
    done = background_run.run_checked([str(installed["python"]), "-c", code],
                                      "importing the installed package", cwd=empty, env=installed["env"])
    package, folder, files = json.loads(done.stdout)
    site_packages = installed["site_packages"]
    assert Path(package).is_relative_to(site_packages), f"mbrl_helpers came from {package}, not the wheel"
    assert Path(folder) == site_packages / "mbrl_helpers" / "results"
    assert all(Path(f).is_relative_to(site_packages) for f in files)


@pytest.mark.background_notebooks("student")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_runs_with_only_the_installed_wheel(path, installed):
    executed = background_run.start("student").executed_student_edition(path.name)
    last = executed.cells[-1]
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    errors = [f"{o.ename}: {o.evalue}" for o in last.outputs if o.output_type == "error"]
    assert WHERE_FROM in text, f"{path.name}: the kernel's last cell printed {text!r} {errors}"
    package = Path(text.split(WHERE_FROM, 1)[1].strip())
    assert package.is_relative_to(installed["site_packages"]), f"{path.name}'s kernel imported {package}"
