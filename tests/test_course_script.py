"""course.py: the one command that sets up the environment, opens the course, runs tests and scripts."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

import course

ROOT = Path(__file__).resolve().parent.parent


def test_uses_an_active_environment(monkeypatch):
    monkeypatch.setattr(sys, "prefix", "/some/venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert course.in_active_environment()
    monkeypatch.setattr(sys, "prefix", "/usr")
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert not course.in_active_environment()
    monkeypatch.setenv("CONDA_PREFIX", "/opt/conda/envs/mbrl")
    assert course.in_active_environment()


# -- Python version, help and usage errors ------------------------------------------------------

def test_required_python_is_the_one_pyproject_declares():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert declared == ">={}.{}".format(*course.REQUIRED_PYTHON)


def test_an_old_python_is_refused_with_the_version_found_and_needed():
    message = course.python_version_problem((3, 10, 12, "final", 0), "/usr/bin/python3")
    assert "Python 3.10.12 (/usr/bin/python3)" in message and "needs Python 3.11 or newer" in message
    assert course.python_version_problem((3, 11, 0, "final", 0), "python") is None
    assert course.python_version_problem((3, 13, 1, "final", 0), "python") is None


def older_pythons() -> list[str]:
    """Interpreters 3.6 to 3.10 on this machine (on PATH, or installed by pyenv)."""
    found = {}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in range(6, 11):
        candidates = [shutil.which(f"python3.{minor}"), *sorted(pyenv.glob(f"3.{minor}.*/bin/python"))]
        for candidate in filter(None, candidates):
            if "shims" not in str(candidate) and os.access(candidate, os.X_OK):
                found[minor] = str(candidate)
                break
    return list(found.values())


def test_course_py_run_by_an_older_python_stops_at_once_with_a_clear_message(tmp_path):
    pythons = older_pythons()
    if not pythons:
        pytest.skip("no Python 3.6 to 3.10 on this machine to try course.py with")
    shutil.copy(ROOT / "course.py", tmp_path)   # a checkout of its own: a .venv would appear here
    for python in pythons:
        started = time.perf_counter()
        done = subprocess.run([python, str(tmp_path / "course.py"), "lab"], capture_output=True, text=True,
                              cwd=tmp_path, timeout=60)
        assert done.returncode == 1, (python, done.stdout, done.stderr)
        assert "needs Python 3.11 or newer" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert time.perf_counter() - started < 10
        assert not (tmp_path / ".venv").exists(), f"{python} created a virtual environment"


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_exits_0_and_names_every_command(flag, capsys):
    assert course.main([flag]) == 0
    out = capsys.readouterr().out
    for command in ("python3 course.py lab", "lab --student", "python3 course.py test",
                    "python3 course.py run", "`py`"):
        assert command in out


def test_an_unknown_command_names_itself_and_the_valid_ones(capsys):
    assert course.main(["deploy"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'deploy'" in err and "lab, test, run" in err
    assert course.main([]) == 2
    assert "no command given" in capsys.readouterr().err
    assert course.main(["run"]) == 2
    assert "`run` needs a script" in capsys.readouterr().err


# -- installation -------------------------------------------------------------------------------

@pytest.fixture
def pip_calls(monkeypatch, tmp_path):
    """Record the pip commands ensure_installed would run, with the environment in tmp_path."""
    calls = []
    monkeypatch.delenv("MBRL_SKIP_INSTALL", raising=False)
    monkeypatch.setattr(course.subprocess, "check_output", lambda *a, **k: f"{tmp_path}\n")
    monkeypatch.setattr(course.subprocess, "check_call", lambda args, **k: calls.append(args))
    monkeypatch.setattr(course, "installed_version", lambda python, package: None)
    monkeypatch.setattr(course, "wants_cpu_torch", lambda: False)
    return calls


def test_installs_once_per_pyproject_version(pip_calls, tmp_path):
    course.ensure_installed("python")
    assert len(pip_calls) == 2  # torch first, then the package with its dev extras
    assert pip_calls[0][-1] == "torch==2.13.0" and pip_calls[1][-1].endswith("[dev]")
    course.ensure_installed("python")
    assert len(pip_calls) == 2  # stamp matches pyproject.toml: nothing to do
    (tmp_path / ".mbrl-course-installed").write_text("an older pyproject")
    course.ensure_installed("python")
    assert len(pip_calls) == 4


def test_skip_install_leaves_the_environment_alone(pip_calls, monkeypatch):
    monkeypatch.setenv("MBRL_SKIP_INSTALL", "1")
    course.ensure_installed("python")
    assert pip_calls == []


def test_torch_pin_is_the_one_in_pyproject():
    assert course.TORCH in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_linux_without_a_gpu_gets_the_cpu_build_of_torch(pip_calls, monkeypatch):
    monkeypatch.setattr(course, "wants_cpu_torch", lambda: True)
    monkeypatch.setattr(course, "index_reachable", lambda url, timeout=5.0: None)
    course.ensure_installed("python")
    assert pip_calls[0][-3:] == ["--index-url", course.TORCH_CPU_INDEX, "torch==2.13.0"]


def test_an_unreachable_cpu_index_falls_back_to_the_default_one_and_says_so(pip_calls, monkeypatch, capsys):
    monkeypatch.setattr(course, "wants_cpu_torch", lambda: True)
    monkeypatch.setattr(course, "index_reachable", lambda url, timeout=5.0: "Name or service not known")
    course.ensure_installed("python")
    assert pip_calls[0][-1] == "torch==2.13.0" and "--index-url" not in pip_calls[0]
    out = capsys.readouterr().out
    assert "cannot be used (Name or service not known)" in out and "CUDA build" in out


def test_a_failing_cpu_index_install_falls_back_to_the_default_index(pip_calls, monkeypatch, capsys):
    monkeypatch.setattr(course, "wants_cpu_torch", lambda: True)
    monkeypatch.setattr(course, "index_reachable", lambda url, timeout=5.0: None)

    def pip(args, **kwargs):
        pip_calls.append(args)
        if "--index-url" in args:
            raise subprocess.CalledProcessError(1, args)

    monkeypatch.setattr(course.subprocess, "check_call", pip)
    course.ensure_installed("python")
    assert "--index-url" in pip_calls[0]
    assert pip_calls[1][-1] == "torch==2.13.0" and "--index-url" not in pip_calls[1]
    assert "cannot be used (pip exited with 1)" in capsys.readouterr().out


def test_the_index_check_is_quick_when_the_index_cannot_be_reached():
    started = time.perf_counter()
    problem = course.index_reachable("http://127.0.0.1:9/never-listening/", timeout=2)
    assert problem and time.perf_counter() - started < 5


def test_an_installed_torch_2_13_0_of_any_build_is_kept(pip_calls, monkeypatch):
    monkeypatch.setattr(course, "wants_cpu_torch", lambda: True)
    monkeypatch.setattr(course, "installed_version", lambda python, package: "2.13.0+cpu")
    course.ensure_installed("python")
    assert len(pip_calls) == 1 and pip_calls[0][-1].endswith("[dev]")


def test_cpu_torch_only_on_linux_without_an_nvidia_gpu(monkeypatch):
    monkeypatch.setattr(course, "has_nvidia_gpu", lambda: False)
    for platform, wanted in (("linux", True), ("darwin", False), ("win32", False)):
        monkeypatch.setattr(course.sys, "platform", platform)
        assert course.wants_cpu_torch() is wanted
    monkeypatch.setattr(course.sys, "platform", "linux")
    monkeypatch.setattr(course, "has_nvidia_gpu", lambda: True)
    assert not course.wants_cpu_torch()


def test_a_failed_venv_is_removed_and_explained(monkeypatch, tmp_path):
    monkeypatch.setattr(course, "VENV", tmp_path / ".venv")

    def no_ensurepip(folder, with_pip):
        (tmp_path / ".venv" / "bin").mkdir(parents=True)
        raise subprocess.CalledProcessError(1, ["python", "-m", "ensurepip"])

    monkeypatch.setattr(course.venv, "create", no_ensurepip)
    with pytest.raises(course.CourseError, match=r"apt install python3-venv"):
        course.create_venv()
    assert not (tmp_path / ".venv").exists()


# -- lab and run --------------------------------------------------------------------------------

def test_lab_allows_root_only_when_run_as_root():
    served = ROOT / "notebooks"
    as_root = course.lab_command("python", served, ["--no-browser"], root=True)
    assert as_root[:5] == ["python", "-m", "jupyter", "lab", str(served)] and "--allow-root" in as_root
    assert "--allow-root" not in course.lab_command("python", served, [], root=False)
    assert course.lab_command("python", served, ["--allow-root"], root=True).count("--allow-root") == 1


def test_student_edition_is_made_once_and_the_students_work_is_kept(tmp_path):
    notebook = ROOT / "notebooks" / "01_dyna_q.ipynb"
    student, solutions = tmp_path / "student", tmp_path / "solutions"
    served = course.prepare_student_edition(sys.executable, student, solutions, [notebook])
    assert served == student
    made = json.loads((student / notebook.name).read_text())
    assert made["metadata"]["mbrl_edition"] == "student"
    assert (solutions / "01_dyna_q.md").exists()
    (student / notebook.name).write_text("the student's own work")
    course.prepare_student_edition(sys.executable, student, solutions, [notebook])
    assert (student / notebook.name).read_text() == "the student's own work"


def test_run_runs_a_script_in_the_course_environment_and_returns_its_exit_code(monkeypatch, tmp_path):
    monkeypatch.setenv("MBRL_SKIP_INSTALL", "1")
    script = tmp_path / "script.py"
    script.write_text("import sys\nprint(sys.executable, sys.argv[1:])\nsys.exit(3)\n")
    out = tmp_path / "out.txt"
    code = subprocess.call([sys.executable, str(ROOT / "course.py"), "run", str(script), "--flag"],
                           stdout=out.open("w"), cwd=tmp_path, env={**os.environ, "MBRL_SKIP_INSTALL": "1"})
    assert code == 3
    assert out.read_text().strip() == f"{sys.executable} ['--flag']"


# -- the real thing: JupyterLab started by course.py, then stopped by SIGTERM or Ctrl-C -----------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def fetch(url: str, token: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.status, reply.read()


def wait_for_kernel(connection_file: Path, timeout: float = 60) -> None:
    """Until the kernel answers a kernel_info request (it is fully started, as when a notebook is open)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
    finally:
        client.stop_channels()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds child processes in Linux's /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_lab_serves_the_course_and_stops_cleanly(how, tmp_path):
    """As the user running the tests (root in CI): course.py lab answers on loopback, serves /lab
    and a notebook, runs a kernel; after SIGTERM to course.py, or Ctrl-C in its terminal (SIGINT to
    its process group), the port is free, no process it started is left, no traceback printed."""
    port, token = free_port(), secrets.token_hex(16)
    folders = {name: tmp_path / name for name in ("config", "data", "runtime", "ipython", "workspaces",
                                                  "settings")}
    for folder in folders.values():
        folder.mkdir()
    env = {**os.environ, "MBRL_SKIP_INSTALL": "1", "JUPYTER_CONFIG_DIR": str(folders["config"]),
           "JUPYTER_DATA_DIR": str(folders["data"]), "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
           "IPYTHONDIR": str(folders["ipython"])}
    # Ctrl-C in a terminal reaches a program whose SIGINT is in its default state; a shell's
    # background job inherits it ignored. Start course.py as from a terminal either way (exec keeps
    # the default state, and Python then turns SIGINT into KeyboardInterrupt).
    as_from_a_terminal = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, "
                          "signal.SIG_DFL); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"]
    args = [*as_from_a_terminal, str(ROOT / "course.py"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--LabApp.workspaces_dir={folders['workspaces']}",
            f"--LabApp.user_settings_dir={folders['settings']}", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly"]
    log_path = tmp_path / "course-lab.log"
    with log_path.open("w") as log:
        # its own session, as a shell gives a command its own process group in the terminal
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (
                f"course.py lab exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if fetch(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no answer on {base} within 120 s:\n{log_path.read_text()}"
            time.sleep(0.5)
        status, page = fetch(f"{base}/lab", token)
        assert status == 200 and b"jupyter-config-data" in page
        status, body = fetch(f"{base}/api/contents/01_dyna_q.ipynb", token)
        notebook = json.loads(body)
        assert status == 200 and notebook["type"] == "notebook" and notebook["content"]["cells"]
        status, body = fetch(f"{base}/api/kernels", token, method="POST")
        kernel = json.loads(body)["id"]
        assert status == 201
        wait_for_kernel(folders["runtime"] / f"kernel-{kernel}.json")
        started = course.descendants(process.pid)
        assert len(started) >= 2, "expected the server and a kernel under course.py"
    finally:
        if how == "SIGTERM":
            process.send_signal(signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in started if alive(pid)]
    for pid in left:   # never leave a server behind, even when this test fails
        os.kill(pid, signal.SIGKILL)
    output = log_path.read_text()
    assert not left, f"left running: {left} of {started}\n{output}"
    assert code == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "JupyterLab stopped." in output
    assert port_is_free(port)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_a_hangup_ignored_as_under_nohup_stays_ignored():
    """course.py stops the server on SIGHUP (the terminal closed), unless SIGHUP was ignored when it
    started, as `nohup python3 course.py lab` asks."""
    previous = signal.getsignal(signal.SIGHUP)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        assert signal.SIGHUP not in course._stop_signals()
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        assert signal.SIGHUP in course._stop_signals()
    finally:
        signal.signal(signal.SIGHUP, previous)
