"""Helpers for tests/test_browser.py: a throw-away JupyterLab server and a headless Chromium.

JupyterLab runs on loopback with a random token, fresh settings, workspace, config and
runtime folders, on a copy of notebooks/ (so autosave never touches the repository).
Chromium is Debian's `chromium`, driven by Playwright for Python. Anything missing is
an error with a message that says how to fix it: this test never skips by itself.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-gpu", "--disable-dev-shm-usage",
]


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing or cannot start."""


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise BrowserUnavailable(
            "Debian's chromium is not installed: `apt-get install -y chromium` (.ci/run does it). "
            "The browser test never skips; set MBRL_SKIP_BROWSER=1 to skip it on purpose."
        )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyter_lab(
    notebooks: Path, tmp: Path, env: dict[str, str], settings: dict[str, dict] | None = None,
    timeout: float = 90.0
):
    """Start JupyterLab on a copy of `notebooks`; yield (base URL, token, served folder).

    The copies have their stored outputs cleared, so the browser shows only what it ran.
    settings: user settings by plugin, e.g.
    {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}.
    """
    served = tmp / "notebooks"
    shutil.copytree(notebooks, served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in served.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, path)
    dirs = {name: tmp / name for name in ("settings", "workspaces", "config", "runtime", "data", "ipython")}
    for folder in dirs.values():
        folder.mkdir()
    for plugin, values in (settings or {}).items():
        file = dirs["settings"] / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(24)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}",
        f"--LabApp.user_settings_dir={dirs['settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no package-index queries from the test
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    # Fresh per-user folders (no user kernelspecs, extensions or IPython start-up files); the
    # course environment's own kernel and widget extension come from sys.prefix.
    server_env = {
        **os.environ, **env,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]), "IPYTHONDIR": str(dirs["ipython"]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    log = (tmp / "jupyter-lab.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=server_env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s; see {log.name}")
            time.sleep(0.5)
        yield base, token, served
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def chromium():
    """A headless Debian Chromium under Playwright; raises BrowserUnavailable if it cannot start."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BrowserUnavailable(
            "Playwright for Python is missing: it is a dev dependency (pip install -e '.[dev]'). "
            "Do not run `playwright install`: the test uses Debian's chromium."
        ) from error
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, headless=True
            )
        except Exception as error:  # noqa: BLE001 - any launch failure means no browser test
            raise BrowserUnavailable(f"{executable} could not be started by Playwright: {error}") from error
        try:
            yield browser
        finally:
            browser.close()
