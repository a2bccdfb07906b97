"""The session's one run of every notebook's student edition, on another CPU's settings, in the background.

One execution of each student edition serves two checks:
- tests/test_any_cpu.py: nbval compares every cell outside the exercises with the instructor
  notebook's stored outputs, with this machine made to look like an older CPU (torch asked for
  AVX2, numba compiling for a generic x86-64, numpy without AVX-512). The exercise cells and
  their checks are left out: the student edition clears their outputs (they were about the
  instructor's solution), and nbval does not compare a cell whose stored copy was never run.
- tests/test_student_edition.py: the executed student edition, kept by the plugin in
  tests/nbval_keep_outputs.py, must show each exercise reporting NotImplementedError and no
  other cell failing.
The instructor notebooks themselves, solutions included, are compared by the main nbval pass of
the session, on this machine's own settings.

conftest.py starts the run when the session's tests are collected, so it uses the second core
beside the rest of the suite (the tests run one thread each, OMP_NUM_THREADS=1); the tests that
read it are moved to the end of the session and only wait for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from course import TEST_ENV

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARKER = "background_notebooks"  # the tests that read this run carry @pytest.mark.background_notebooks

sys.path.insert(0, str(ROOT / "tools"))
import make_student_edition as mse  # noqa: E402


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without torch's kernel settings, plus the test settings and `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MBRL_NATIVE_KERNELS")}
    return {**env, **TEST_ENV, "PYTHONPATH": str(ROOT), **extra}


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


class StudentEditionsOnAnotherCpu:
    """nbval over every notebook's student edition under foreign_cpu_env, in a process of its own."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="student-editions-"))
        numba_cache = self.folder / "numba-generic"
        self.executed = self.folder / "executed"
        editions = self.folder / "student"
        editions.mkdir()
        for path in NOTEBOOKS:
            student, _ = mse.make_student_edition(nbformat.read(path, as_version=4), path.name)
            nbformat.write(student, editions / path.name)
        self.log = tempfile.TemporaryFile(mode="w+")
        env = {**foreign_cpu_env(str(numba_cache)), "MBRL_KEEP_OUTPUTS_IN": str(self.executed),
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "nbval_keep_outputs",
             "--rootdir", str(self.folder), "--nbval", "--nbval-current-env",
             "--nbval-sanitize-with", str(ROOT / "notebooks" / "nbval_sanitize.cfg"),
             "--nbval-cell-timeout", "600", *sorted(str(p) for p in editions.iterdir())],
            env=env, cwd=self.folder, stdout=self.log, stderr=subprocess.STDOUT, text=True,
        )
        self.verdict: tuple[int, str] | None = None

    def result(self, timeout: float = 1800) -> tuple[int, str]:
        """(nbval's exit code, its output) once the run has ended."""
        if self.verdict is None:
            try:
                code = self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop()
                raise
            self.log.seek(0)
            self.verdict = code, self.log.read()
            self.log.close()
        return self.verdict

    def executed_student_edition(self, name: str) -> nbformat.NotebookNode:
        """The student edition of notebooks/<name> with the outputs of the run, once it has ended."""
        _, output = self.result()
        path = self.executed / name
        assert path.exists(), (f"the background run did not execute the student edition of {name}:\n"
                               + output[-3000:])
        return nbformat.from_dict(json.loads(path.read_text()))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


RUNS: list[StudentEditionsOnAnotherCpu] = []


def start() -> StudentEditionsOnAnotherCpu:
    """The session's one background run, started now if it is not running yet."""
    if not RUNS:
        RUNS.append(StudentEditionsOnAnotherCpu())
    return RUNS[0]


def stop() -> None:
    for run in RUNS:
        run.stop()
