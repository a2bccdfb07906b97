"""The notebooks that read committed results run from a wheel, outside the repository (as on Colab).

Colab's install cell installs the package, not the repository, and runs each notebook from a
folder that holds nothing else. This test does the same: it builds the wheel from a copy of
the package's sources, installs it (not editable) into a fresh virtual environment, and
executes notebooks 05 and 08 there from an empty folder (between them they read results in
every way the notebooks do). If the results were looked up
in the repository instead of in the installed package, these notebooks would fail here.

The fresh environment gets the course environment's other packages (torch, numpy, Jupyter,
...) through a .pth file that appends the course environment's site-packages after its own,
so nothing is downloaded and the wheel's mbrl_helpers comes first. That .pth lists folders
only: the course environment's own .pth files (such as an editable install of this
repository) are not run, so the repository's mbrl_helpers cannot be imported by mistake.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course import TEST_ENV  # noqa: E402

# Between them every way a notebook reads results: results.load_json and mpc_plots (05), the
# summary of every results file (08); the driver's last cell adds widgets.load_imagined_grid (04).
NOTEBOOKS = ["05_model_predictive_control.ipynb", "08_choosing_a_method.ipynb"]
CELL_TIMEOUT_S = 600

# Runs inside the fresh environment, in the folder holding only the notebooks: executes each
# notebook top to bottom, then a last cell that says where the kernel found mbrl_helpers.
DRIVER = """
import json, sys
import nbformat
from nbclient import NotebookClient

where = {}
for name in sys.argv[2:]:
    nb = nbformat.read(name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import mbrl_helpers; from mbrl_helpers.course import widgets; widgets.load_imagined_grid(); "
        "print(mbrl_helpers.__file__)"))
    NotebookClient(nb, timeout=int(sys.argv[1]), kernel_name="python3",
                   resources={"metadata": {"path": "."}}).execute()
    where[name] = nb.cells[-1].outputs[0]["text"].strip()
print("KERNEL_IMPORTS " + json.dumps(where))
"""


def run(args: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout[-2000:] + "\n" + done.stderr[-4000:])
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{output}", pytrace=False)
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A fresh venv with the wheel installed; returns its python, site-packages and environment."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"   # a copy, so the build leaves nothing (build/, *.egg-info) in the repository
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "mbrl_helpers", source / "mbrl_helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", str(tmp / "dist"), str(source)], "building the wheel")
    (wheel,) = (tmp / "dist").glob("mbrl_helpers-*.whl")

    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], "creating a virtual environment")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # Without PYTHONPATH: a repository on it would show pip its egg-info, and pip would skip the wheel.
    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-index", str(wheel)], "installing the wheel", env=clean)
    where = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                "asking the new environment for its site-packages")
    site_packages = Path(where.stdout.strip())
    course_env = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    # "zz": read after anything the wheel put there; plain folder lines, so no .pth of the course env runs.
    (site_packages / "zz_course_environment.pth").write_text("\n".join(sorted(course_env)) + "\n")
    # The kernel is this environment's python (never a kernelspec of the user or the system).
    kernel = venv / "share" / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (installed wheel)", "language": "python"}))
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "JUPYTER_PATH", "PYTHONSTARTUP")}
    env.update(TEST_ENV)
    for name, folder in (("JUPYTER_DATA_DIR", "data"), ("JUPYTER_CONFIG_DIR", "config"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        (tmp / folder).mkdir()
        env[name] = str(tmp / folder)
    return {"python": python, "site_packages": site_packages, "env": env, "tmp": tmp}


def test_the_wheel_carries_the_results_and_is_what_the_fresh_environment_imports(installed):
    code = ("import json, mbrl_helpers; from mbrl_helpers import results; "
            "from mbrl_helpers.course import summary; "
            "names = [s.name + '.json' for s in summary.RESULTS_FILES] + ['imagined.grid.json']; "
            "print(json.dumps([mbrl_helpers.__file__, str(results.results_dir()), "
            "[str(results.results_path(n)) for n in names]]))")
    empty = installed["tmp"] / "empty"
    empty.mkdir()
    done = run([str(installed["python"]), "-c", code], "importing the installed package", cwd=empty,
               env=installed["env"])
    package, folder, files = json.loads(done.stdout)
    site_packages = installed["site_packages"]
    assert Path(package).is_relative_to(site_packages), f"mbrl_helpers came from {package}, not the wheel"
    assert Path(folder) == site_packages / "mbrl_helpers" / "results"
    assert all(Path(f).is_relative_to(site_packages) for f in files)


def test_notebooks_reading_results_run_from_an_empty_folder(installed):
    work = installed["tmp"] / "work"
    work.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, work)
    done = run([str(installed["python"]), "-c", DRIVER, str(CELL_TIMEOUT_S), *NOTEBOOKS],
               "executing the notebooks with only the installed wheel (as on Colab)", cwd=work,
               env=installed["env"])
    line = next(x for x in done.stdout.splitlines() if x.startswith("KERNEL_IMPORTS "))
    where = json.loads(line.removeprefix("KERNEL_IMPORTS "))
    assert set(where) == set(NOTEBOOKS)
    for name, package in where.items():
        assert Path(package).is_relative_to(installed["site_packages"]), f"{name}'s kernel imported {package}"
