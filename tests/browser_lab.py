"""Helpers for tests/test_browser.py: a throw-away JupyterLab server and a headless Chromium.

JupyterLab runs on loopback with a random token, fresh settings, workspace, config and
runtime folders, on a copy of notebooks/ (so autosave never touches the repository).
Chromium is an installed Chromium-based browser (Debian's `chromium` in CI; Chromium, Google
Chrome or Edge elsewhere; or the one MBRL_CHROMIUM names), driven by Playwright for Python,
which never downloads a browser here. When none can be started, the browser test fails in CI
(CI set) and is skipped elsewhere, loudly, saying how to enable it (`unavailable`).
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
import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-gpu", "--disable-dev-shm-usage",
]


# Begins the skip message, which conftest.py repeats at the end of the test run.
NO_BROWSER_TEST = "NO BROWSER TEST"
HOW_TO_ENABLE = (
    "To run it, install Chromium or Google Chrome (Debian: `apt-get install chromium`; macOS and "
    "Windows: Google Chrome or Microsoft Edge; Ubuntu's snap chromium cannot be driven by "
    "Playwright), or set MBRL_CHROMIUM to the path of a Chromium-based browser. "
    "Never `playwright install`: nothing is downloaded at test time."
)
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
                 "microsoft-edge", "msedge")


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing or cannot start."""


def running_in_ci(environ=os.environ) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def chromium_candidates(environ=os.environ) -> list[str]:
    """Executables to try, best first: MBRL_CHROMIUM alone if set, else browsers on PATH, then the
    usual install locations of macOS and Windows."""
    if environ.get("MBRL_CHROMIUM"):
        return [environ["MBRL_CHROMIUM"]]
    found = [shutil.which(name) for name in BROWSER_NAMES]
    places = [Path("/Applications") / app for app in (
        "Chromium.app/Contents/MacOS/Chromium", "Google Chrome.app/Contents/MacOS/Google Chrome",
        "Microsoft Edge.app/Contents/MacOS/Microsoft Edge")]
    windows_folders = (environ.get(v) for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"))
    for folder in filter(None, windows_folders):
        places += [Path(folder) / "Google/Chrome/Application/chrome.exe",
                   Path(folder) / "Microsoft/Edge/Application/msedge.exe"]
    found += [str(p) for p in places if p.is_file()]
    return list(dict.fromkeys(p for p in found if p))


def chromium_path() -> str:
    """The first candidate browser; BrowserUnavailable if there is none."""
    candidates = chromium_candidates()
    if not candidates:
        raise BrowserUnavailable(f"no Chromium-based browser found (looked for {', '.join(BROWSER_NAMES)} "
                                 "on PATH and in the usual install folders).")
    return candidates[0]


def unavailable(reason: str, environ=os.environ) -> None:
    """No usable browser: fail in CI (CI set), else skip loudly, saying how to enable the test."""
    if running_in_ci(environ):
        pytest.fail(f"The browser test must run in CI (CI is set), but {reason} {HOW_TO_ENABLE}",
                    pytrace=False)
    pytest.skip(f"{NO_BROWSER_TEST}: the sliders were not tried in a real browser: {reason} {HOW_TO_ENABLE}")


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
    """The first candidate browser that starts headless under Playwright; BrowserUnavailable if none does."""
    chromium_path()   # raises when there is no candidate at all
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BrowserUnavailable(
            "Playwright for Python is missing: it is a dev dependency (pip install -e '.[dev]')."
        ) from error
    with sync_playwright() as playwright:
        failures = []
        for executable in chromium_candidates():
            try:
                browser = playwright.chromium.launch(
                    executable_path=executable, args=CHROMIUM_ARGS, headless=True
                )
                break
            except Exception as error:  # noqa: BLE001 - any launch failure: try the next one
                failures.append(f"{executable}: {str(error).splitlines()[0]}")
        else:
            raise BrowserUnavailable(f"no browser could be started by Playwright ({'; '.join(failures)}).")
        try:
            yield browser
        finally:
            browser.close()
