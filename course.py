"""Set up the course environment, then open the course, run the tests, or run a project script.

    python3 course.py lab                   # open the course in JupyterLab (instructor edition: notebooks/)
    python3 course.py lab --student         # open the student edition instead (student/; your work is kept)
    python3 course.py test                  # run ruff, the unit tests and every notebook (nbval)
    python3 course.py run SCRIPT [ARGS]     # run a project script in the course environment, e.g.
                                            #   python3 course.py run tools/make_student_edition.py
    python3 course.py run -m MODULE [ARGS]  # or a module: python3 course.py run -m pytest tests/test_envs.py
    python3 course.py --help                # this text

On Windows, type `py` instead of `python3` (`py course.py lab`). Stop JupyterLab with Ctrl-C.

Every command first makes sure the course environment is installed. If a virtual environment
(venv or conda) is active, that is the course environment; otherwise `.venv/` in this folder is
created and used (no need to activate it: `run` runs anything inside it). Installation is
skipped when pyproject.toml has not changed since the last one; MBRL_SKIP_INSTALL=1 skips the
check altogether. On Linux without an NVIDIA GPU the CPU build of torch is installed (the
default build there is the multi-GB CUDA one). Extra arguments of `lab` go to JupyterLab, those
of `test` to pytest. Needs Python 3.11+ with pip and venv.
"""

# This file must stay readable by old Pythons (no newer syntax before the version check), so
# that they print what is needed instead of failing somewhere in pip minutes later.
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

REQUIRED_PYTHON = (3, 11)


def python_version_problem(version_info=sys.version_info, executable=sys.executable):
    """None if this Python can run the course, else a message naming the version found and the one needed."""
    if tuple(version_info[:2]) >= REQUIRED_PYTHON:
        return None
    found = ".".join(str(part) for part in version_info[:3])
    needed = "{}.{}".format(*REQUIRED_PYTHON)
    return (
        f"course.py needs Python {needed} or newer, but it was started with Python {found} ({executable}).\n"
        f"Install Python {needed} or newer (python.org, your package manager, pyenv or conda), then start "
        f"course.py with it, e.g. `python{needed} course.py lab` (on Windows: `py -{needed} course.py lab`)."
    )


if __name__ == "__main__":
    _problem = python_version_problem()
    if _problem:
        sys.stderr.write(_problem + "\n")
        sys.exit(1)


ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
COMMANDS = ("lab", "test", "run")
TORCH = "torch==2.13.0"   # as pinned in pyproject.toml
# PyTorch's own index of CPU-only wheels (Linux): the default index gives Linux the CUDA build.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
INDEX_PROBE_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 20.0   # for JupyterLab to shut its kernels down after SIGTERM, before it is killed

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


class CourseError(Exception):
    """A problem the user can fix; main() prints its message, without a traceback."""


class Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop what is running, cleanly."""


def in_active_environment() -> bool:
    """True when a venv or conda environment is already active for this interpreter."""
    return sys.prefix != sys.base_prefix or bool(os.environ.get("CONDA_PREFIX"))


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def create_venv() -> None:
    """Create .venv with pip; on failure remove what was made (so the next run tries again) and explain."""
    print(f"Creating a virtual environment in {VENV} ...", flush=True)
    try:
        venv.create(VENV, with_pip=True)
    except (subprocess.CalledProcessError, OSError) as error:
        shutil.rmtree(VENV, ignore_errors=True)
        raise CourseError(
            f"could not create a virtual environment in {VENV} ({error}). On Debian and Ubuntu, "
            "install Python's venv module first (`sudo apt install python3-venv`, or the python3.X-venv "
            "of your Python version), then run this command again."
        ) from error


def course_python() -> str:
    """The interpreter of the course environment: the active one, else .venv's (created if missing)."""
    if in_active_environment():
        return sys.executable
    if not venv_python().exists():
        create_venv()
    return str(venv_python())


def installed_version(python: str, package: str) -> str | None:
    """The version of `package` installed for `python`, or None."""
    code = ("import sys\nfrom importlib import metadata\ntry:\n    print(metadata.version(sys.argv[1]))\n"
            "except metadata.PackageNotFoundError:\n    pass\n")
    done = subprocess.run([python, "-c", code, package], capture_output=True, text=True)
    return done.stdout.strip() or None


def has_nvidia_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia").exists()


def wants_cpu_torch() -> bool:
    """Linux without an NVIDIA GPU: the default index would install the CUDA build there."""
    return sys.platform.startswith("linux") and not has_nvidia_gpu()


def index_reachable(url: str, timeout: float = INDEX_PROBE_TIMEOUT_S) -> str | None:
    """None if `url` answers within `timeout` seconds, else why not (one line)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return None
    except OSError as error:   # URLError, timeouts, refused connections, HTTP errors
        return str(getattr(error, "reason", None) or error)


def install_torch(python: str, pip: list[str]) -> None:
    """Install torch 2.13.0 unless some build of it is there; the CPU build on Linux without a GPU."""
    version = installed_version(python, "torch")
    if version is not None and version.split("+")[0] == TORCH.split("==")[1]:
        return
    if wants_cpu_torch():
        problem = index_reachable(TORCH_CPU_INDEX + "/torch/")
        if problem is None:
            print(f"Installing the CPU build of {TORCH} (no NVIDIA GPU found) ...", flush=True)
            try:
                subprocess.check_call(pip + ["--index-url", TORCH_CPU_INDEX, TORCH])
                return
            except subprocess.CalledProcessError as error:
                problem = f"pip exited with {error.returncode}"
        print(f"PyTorch's CPU wheel index ({TORCH_CPU_INDEX}) cannot be used ({problem}); installing "
              f"{TORCH} from pip's default index instead, which on Linux may be the multi-GB CUDA build.",
              flush=True)
    subprocess.check_call(pip + [TORCH])


def ensure_installed(python: str) -> None:
    """pip-install the package with its dev extras unless pyproject.toml is unchanged."""
    if os.environ.get("MBRL_SKIP_INSTALL") == "1":
        return
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    prefix = subprocess.check_output([python, "-c", "import sys; print(sys.prefix)"], text=True).strip()
    stamp = Path(prefix) / ".mbrl-course-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing the course into {prefix} (the first run takes a few minutes) ...", flush=True)
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # torch first, on its own: the resolver then never chooses another build of it.
    install_torch(python, pip)
    subprocess.check_call(pip + ["-e", f"{ROOT}[dev]"])
    stamp.write_text(digest)


def command_env(python: str) -> dict[str, str]:
    """The environment for commands run in the course environment: as if .venv were activated."""
    env = dict(os.environ)
    if not in_active_environment():
        env["VIRTUAL_ENV"] = str(VENV)
        env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
    return env


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(python: str, served: Path, extra: list[str], root: bool) -> list[str]:
    """`jupyter lab` on `served`; as root (Docker, WSL, cloud VMs, CI) with --allow-root, or it exits."""
    args = [python, "-m", "jupyter", "lab", str(served), *extra]
    if root and not any(a == "--allow-root" or a.startswith("--ServerApp.allow_root") for a in extra):
        args.append("--allow-root")
    return args


def prepare_student_edition(python: str, student: Path, solutions: Path,
                            notebooks: list[Path] | None = None) -> Path:
    """Write the student edition of each notebook not yet in `student`; keep those already there
    (the student's work). Solutions go to `solutions`. Returns `student`."""
    if notebooks is None:
        notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    missing = [p for p in notebooks if not (student / p.name).exists()]
    kept = [p for p in notebooks if (student / p.name).exists()]
    if missing:
        subprocess.check_call([python, str(ROOT / "tools" / "make_student_edition.py"), *map(str, missing),
                               "--out", str(student), "--solutions", str(solutions)], cwd=ROOT)
    if kept:
        print(f"Kept your work: {len(kept)} notebook(s) already in {student} were left as they are "
              "(delete one to get a fresh copy of it).", flush=True)
    return student


def _raise_stop(signum, frame) -> None:
    raise Stop(signum)


def _stop_signals() -> list[int]:
    """SIGTERM and SIGHUP where they exist, but not one that is ignored: under nohup, closing the
    terminal (SIGHUP) must not stop the server."""
    return [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
            if s is not None and signal.getsignal(s) != signal.SIG_IGN]


def descendants(pid: int) -> list[int]:
    """The processes started, directly or not, by `pid` (Linux /proc; elsewhere none are known)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_server(process: subprocess.Popen, sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, sig)   # the server's own process group (start_new_session)
        else:
            process.terminate()
    except (ProcessLookupError, PermissionError):
        pass


def stop_server(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM JupyterLab: it shuts its kernels down and exits. Kill whatever is left after `timeout` s
    (or at once on a second Ctrl-C)."""
    started = descendants(process.pid)
    try:
        _signal_server(process, getattr(signal, "SIGTERM", 15))
        process.wait(timeout)
    except (KeyboardInterrupt, Stop, subprocess.TimeoutExpired):
        print("JupyterLab did not stop in time: killing it and its kernels.", flush=True)
        _signal_server(process, getattr(signal, "SIGKILL", 9))
        process.wait()
    for pid in started:   # kernels are in sessions of their own: end any the server left behind
        try:
            os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def serve(args: list[str], env: dict[str, str]) -> int:
    """Run JupyterLab until it exits, Ctrl-C, SIGTERM or SIGHUP; stop it cleanly, without a traceback.

    The server runs in a process group of its own, so a Ctrl-C in the terminal reaches only this
    script (JupyterLab would otherwise ask "Shut down this Jupyter server (y/[n])?"); this script
    then asks the server to stop, the way SIGTERM does.
    """
    if os.name == "posix":
        options: dict = {"start_new_session": True}
    else:
        options = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    previous = {s: signal.signal(s, _raise_stop) for s in _stop_signals()}
    process = None
    try:
        process = subprocess.Popen(args, cwd=ROOT, env=env, **options)
        return process.wait()
    except (KeyboardInterrupt, Stop):
        if process is not None:
            print("\nStopping JupyterLab (the server and its kernels) ...", flush=True)
            stop_server(process)
            print("JupyterLab stopped.", flush=True)
        return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_foreground(args: list[str], env: dict[str, str], cwd: Path | str) -> int:
    """Run a command that shares the terminal and return its exit code.

    Ctrl-C reaches the command itself (same process group); this script waits for it to finish.
    SIGTERM or SIGHUP to this script is passed on to it.
    """
    previous = {s: signal.signal(s, _raise_stop) for s in _stop_signals()}
    process = None
    try:
        process = subprocess.Popen(args, cwd=cwd, env=env)
        try:
            return process.wait()
        except KeyboardInterrupt:
            try:
                return process.wait(10)
            except subprocess.TimeoutExpired:
                process.terminate()
                return process.wait()
    except Stop as stop:
        if process is not None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return 128 + stop.args[0]
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def usage_error(message: str) -> int:
    print(f"course.py: {message}\nThe commands are: {', '.join(COMMANDS)}. "
          "`python3 course.py --help` says more.", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    if not argv:
        return usage_error("no command given.")
    command, extra = argv[0], argv[1:]
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command not in COMMANDS:
        return usage_error(f"unknown command {command!r}.")
    if command == "run" and not extra:
        return usage_error("`run` needs a script (or -m MODULE), e.g. "
                           "`python3 course.py run tools/make_student_edition.py`.")
    student = command == "lab" and "--student" in extra
    extra = [a for a in extra if a != "--student"] if command == "lab" else extra
    try:
        python = course_python()
        ensure_installed(python)
        env = command_env(python)
        if command == "run":
            return run_foreground([python, *extra], env, cwd=os.getcwd())
        if command == "lab":
            if student:
                served = prepare_student_edition(python, ROOT / "student", ROOT / "solutions")
                print(f"Opening the student edition ({served}): write each exercise, its check says whether "
                      "it is right. Stop JupyterLab with Ctrl-C.", flush=True)
            else:
                served = ROOT / "notebooks"
                print(f"Opening the instructor edition ({served}, exercises solved); the student edition is "
                      "`python3 course.py lab --student`. Stop JupyterLab with Ctrl-C.", flush=True)
            return serve(lab_command(python, served, extra, is_root()), env)
        env.update(TEST_ENV)
        ruff = run_foreground([python, "-m", "ruff", "check", str(ROOT)], env, cwd=ROOT)
        if ruff != 0:
            print("ruff found problems (see above).", flush=True)
            return ruff
        return run_foreground([python, "-m", "pytest", *extra], env, cwd=ROOT)
    except CourseError as error:
        print(f"course.py: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"course.py: `{' '.join(map(str, error.cmd))}` failed (exit {error.returncode}); "
              "see its messages above.", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stop):
        print("\ncourse.py: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
