"""Set up the course environment, then open the notebooks or run the tests.

    python course.py lab     # install what is needed, open JupyterLab on notebooks/
    python course.py test    # install what is needed, run ruff, unit tests and nbval

If a virtual environment (venv or conda) is active, it is used as it is.
Otherwise a `.venv` is created in this folder and everything runs inside it.
Installation is skipped when pyproject.toml has not changed since the last one.
Needs only Python 3.11+ and pip.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"

# Stable, machine-independent notebook outputs: one thread for BLAS and torch,
# no progress bars in stored outputs, a fixed matplotlib backend (the notebook
# inline one, so kernels started by nbval draw figures as Jupyter does).
TEST_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TQDM_DISABLE": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


def in_active_environment() -> bool:
    """True when a venv or conda environment is already active for this interpreter."""
    return sys.prefix != sys.base_prefix or bool(os.environ.get("CONDA_PREFIX"))


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def ensure_installed(python: Path | str) -> None:
    """pip-install the package with its dev extras unless pyproject.toml is unchanged."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    prefix = subprocess.check_output(
        [str(python), "-c", "import sys; print(sys.prefix)"], text=True
    ).strip()
    stamp = Path(prefix) / ".mbrl-course-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing the course into {prefix} (first run takes a few minutes) ...", flush=True)
    # torch is pinned to 2.13.0 in pyproject.toml; installing it on its own first
    # keeps the resolver from ever choosing another build for it.
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.check_call(pip + ["torch==2.13.0"])
    subprocess.check_call(pip + ["-e", f"{ROOT}[dev]"])
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in {"lab", "test"}:
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]

    if in_active_environment():
        python: Path | str = sys.executable
    else:
        if not venv_python().exists():
            print(f"Creating a virtual environment in {VENV} ...", flush=True)
            venv.create(VENV, with_pip=True)
        python = venv_python()
    ensure_installed(python)

    env = {**os.environ}
    if command == "lab":
        args = [str(python), "-m", "jupyter", "lab", str(ROOT / "notebooks"), *extra]
    else:
        env.update(TEST_ENV)
        ruff = subprocess.call([str(python), "-m", "ruff", "check", str(ROOT)], cwd=ROOT, env=env)
        if ruff != 0:
            print("ruff found problems (see above).", flush=True)
            return ruff
        args = [str(python), "-m", "pytest", *extra]
    return subprocess.call(args, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
