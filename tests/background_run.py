"""The session's notebook runs, each in a process of its own beside the unit tests.

Two runs, each notebook executed once in each:
- the instructor notebooks as committed (solutions included), under nbval in the course
  environment on this machine's own settings: tests/test_notebooks_reproduce.py reads the verdict;
- every notebook's student edition, from the installed wheel in a folder holding nothing else
  (as on Colab), on another CPU's settings.

One execution of each student edition serves three checks:
- tests/test_any_cpu.py: nbval compares every cell outside the exercises with the instructor
  notebook's stored outputs, with this machine made to look like an older CPU (torch asked for
  AVX2, numba compiling for a generic x86-64, numpy without AVX-512). The exercise cells and
  their checks are left out: the student edition clears their outputs (they were about the
  instructor's solution), and nbval does not compare a cell whose stored copy was never run.
- tests/test_student_edition.py: the executed student edition, kept by the plugin in
  tests/nbval_keep_outputs.py, must show each exercise reporting NotImplementedError and no
  other cell failing.
- tests/test_installed_wheel.py: the kernel is the python of a fresh virtual environment with
  the package's wheel installed (not editable), and the notebooks lie in a folder with nothing
  else, as Colab runs them; if a notebook looked for results in the repository, it would fail.
  A last cell, added for this run, prints where the kernel found mbrl_helpers.

conftest.py starts the runs that the collected tests need as soon as they are collected, so
that they use the second core beside the rest of the suite (the tests run one thread each,
OMP_NUM_THREADS=1); the tests that read them are moved to the end of the session and only wait
for them. To check one notebook by itself: `python3 course.py run -m pytest notebooks/NN_name.ipynb`.

The wheel's environment gets the course environment's other packages (torch, numpy, Jupyter,
pytest, ...) through a .pth file that appends the course environment's site-packages after its
own, so nothing is downloaded and the wheel's mbrl_helpers comes first. That .pth lists folders
only: the course environment's own .pth files (such as an editable install of this repository)
are not run, so the repository's mbrl_helpers cannot be imported by mistake.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import tomllib
from pathlib import Path

import nbformat

from course import TEST_ENV

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# A test that reads a run is marked @pytest.mark.background_notebooks("instructor" or "student").
WHERE_FROM = "MBRL_HELPERS_IMPORTED_FROM "
# The last cell of each edition in this run: where the kernel found the package, and one more way
# of reading results that no notebook's cells use at the top level.
WHERE_FROM_CELL = ("import mbrl_helpers\nfrom mbrl_helpers.course import widgets\n"
                   "widgets.load_imagined_grid()\n"
                   f"print({WHERE_FROM!r} + mbrl_helpers.__file__)")

sys.path.insert(0, str(ROOT / "tools"))
import make_student_edition as mse  # noqa: E402


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without torch's kernel settings, plus the test settings and `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MBRL_NATIVE_KERNELS")}
    return {**env, **TEST_ENV, "PYTHONPATH": str(ROOT), **extra}


FOREIGN_CPU_SETTINGS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "NUMBA_CPU_NAME", "NUMBA_CACHE_DIR",
                        "NPY_DISABLE_CPU_FEATURES")


def foreign_cpu_env(numba_cache: str) -> dict[str, str]:
    """This machine made to look like an older CPU to torch, numba and numpy."""
    import numpy._core._multiarray_umath as umath  # numpy's list of its dispatched CPU targets

    avx512_loops = [name for name in umath.__cpu_dispatch__ if name.startswith(("AVX512", "X86_V4"))]
    return clean_env({
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_CBWR": "AVX2",
        "NUMBA_CPU_NAME": "generic",
        "NUMBA_CACHE_DIR": numba_cache,  # code compiled for the generic CPU, apart from the host's
        "NPY_DISABLE_CPU_FEATURES": " ".join(avx512_loops),
    })


def nbval_options() -> list[str]:
    """pytest's options from pyproject.toml (nbval in strict mode, its sanitizers, the cell timeout),
    with the files they name made absolute: a run outside the repository checks as the course does."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        options = tomllib.load(file)["tool"]["pytest"]["ini_options"]["addopts"]
    return [str(ROOT / option) if (ROOT / option).is_file() else option for option in options]


def run_checked(args: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout[-2000:] + "\n" + done.stderr[-4000:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{output}")
    return done


def install_wheel(tmp: Path) -> dict:
    """Build the package's wheel, install it into a fresh venv in tmp; its python, site-packages, env."""
    source = tmp / "source"   # a copy, so the build leaves nothing (build/, *.egg-info) in the repository
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "mbrl_helpers", source / "mbrl_helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run_checked([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                 "--no-index", "--wheel-dir", str(tmp / "dist"), str(source)], "building the wheel")
    (wheel,) = (tmp / "dist").glob("mbrl_helpers-*.whl")

    venv = tmp / "venv"
    run_checked([sys.executable, "-m", "venv", "--without-pip", str(venv)], "creating a virtual environment")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # Without PYTHONPATH: a repository on it would show pip its egg-info, and pip would skip the wheel.
    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run_checked([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                 "--no-index", str(wheel)], "installing the wheel", env=clean)
    where = run_checked([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        "asking the new environment for its site-packages")
    site_packages = Path(where.stdout.strip())
    course_env = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    # "zz": read after anything the wheel put there; plain folder lines, so no .pth of the course env runs.
    (site_packages / "zz_course_environment.pth").write_text("\n".join(sorted(course_env)) + "\n")
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "JUPYTER_PATH", "PYTHONSTARTUP")}
    env.update(TEST_ENV)
    for name, folder in (("JUPYTER_DATA_DIR", "data"), ("JUPYTER_CONFIG_DIR", "config"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        (tmp / folder).mkdir()
        env[name] = str(tmp / folder)
    return {"python": python, "site_packages": site_packages, "env": env, "tmp": tmp}


class BackgroundPytest:
    """A pytest run in a process of its own, its output kept in a temporary file."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process: subprocess.Popen | None = None
        self.verdict: tuple[int, str] | None = None

    def launch(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(args, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                        text=True)

    def launched(self) -> None:
        """Return once the process is started (here at once; a subclass may prepare it first)."""

    def result(self, timeout: float = 1800) -> tuple[int, str]:
        """(pytest's exit code, its output) once the run has ended."""
        if self.verdict is None:
            self.launched()
            try:
                code = self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop()
                raise
            self.log.seek(0)
            self.verdict = code, self.log.read()
            self.log.close()
        return self.verdict

    def failure_report(self, what: str, tail: int = 8000) -> str:
        """For an assertion message: the run's FAILED/ERROR lines first, then the end of its output."""
        _, output = self.result()
        failed = "\n".join(line for line in output.splitlines() if line.startswith(("FAILED", "ERROR")))
        return f"{what} failed:\n{failed}\n\nIts output, last part:\n{output[-tail:]}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()


class InstructorNotebooks(BackgroundPytest):
    """nbval over notebooks/ as committed, solutions included, in the course environment on this
    machine's own settings (the configuration in pyproject.toml: strict, with the sanitizers)."""

    def __init__(self) -> None:
        super().__init__()
        self.launch([sys.executable, "-m", "pytest", "-q", *(str(p.relative_to(ROOT)) for p in NOTEBOOKS)],
                    env={**os.environ, **TEST_ENV}, cwd=ROOT)


class StudentEditionsOnAnotherCpu(BackgroundPytest):
    """nbval over every notebook's student edition, from the wheel, under foreign_cpu_env.

    The wheel is built and the run started in a thread, so that the tests go on meanwhile.
    """

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="student-editions-"))
        self.executed = self.folder / "executed"
        self.wheel: dict | None = None
        self.failure: BaseException | None = None
        self.stopped = False
        self.starting = threading.Thread(target=self._start, daemon=True)
        self.starting.start()

    def _start(self) -> None:
        try:
            (self.folder / "wheel").mkdir()
            self.wheel = install_wheel(self.folder / "wheel")
            editions = self.folder / "student"   # holds the notebooks and nothing else
            editions.mkdir()
            for path in NOTEBOOKS:
                student, _ = mse.make_student_edition(nbformat.read(path, as_version=4), path.name)
                student.cells.append(nbformat.v4.new_code_cell(WHERE_FROM_CELL))
                nbformat.write(student, editions / path.name)
            foreign = foreign_cpu_env(str(self.folder / "numba-generic"))
            env = {**{k: v for k, v in self.wheel["env"].items() if k != "MBRL_NATIVE_KERNELS"},
                   **{k: foreign[k] for k in FOREIGN_CPU_SETTINGS},
                   "MBRL_KEEP_OUTPUTS_IN": str(self.executed),
                   "PYTHONPATH": str(ROOT / "tests")}  # the plugin; never the repository
            if not self.stopped:
                self.launch(
                    [str(self.wheel["python"]), "-m", "pytest", "-q", "-p", "nbval_keep_outputs",
                     "--rootdir", str(editions), *nbval_options(),
                     *sorted(str(p) for p in editions.iterdir())],
                    env=env, cwd=editions)
        except BaseException as error:  # noqa: BLE001 - re-raised by the tests that read the run
            self.failure = error

    def installed(self) -> dict:
        """The fresh environment with the wheel installed: python, site_packages, env, tmp."""
        self.starting.join()
        if self.failure is not None:
            raise self.failure
        return self.wheel

    def launched(self) -> None:
        self.installed()

    def executed_student_edition(self, name: str) -> nbformat.NotebookNode:
        """The student edition of notebooks/<name> with the outputs of the run, once it has ended."""
        _, output = self.result()
        path = self.executed / name
        assert path.exists(), (f"the background run did not execute the student edition of {name}:\n"
                               + output[-3000:])
        return nbformat.from_dict(json.loads(path.read_text()))

    def stop(self) -> None:
        self.stopped = True
        self.starting.join()
        super().stop()
        shutil.rmtree(self.folder, ignore_errors=True)


KINDS = {"instructor": InstructorNotebooks, "student": StudentEditionsOnAnotherCpu}
RUNS: dict[str, BackgroundPytest] = {}


def start(kind: str) -> BackgroundPytest:
    """The session's run of this kind ("instructor" or "student"), started now if it is not yet."""
    if kind not in RUNS:
        RUNS[kind] = KINDS[kind]()
    return RUNS[kind]


def stop() -> None:
    for run in RUNS.values():
        run.stop()
