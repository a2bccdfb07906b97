"""Machine, versions and date, printed and stored beside every benchmark result."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """The repository's commit, with "+ uncommitted changes" if the tree differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return commit + (" + uncommitted changes" if dirty else "")


def command_line() -> str:
    """How this benchmark was started, as a reader would type it again."""
    script = Path(sys.argv[0])
    name = f"benchmarks/{script.name}" if script.suffix == ".py" else sys.argv[0]
    return " ".join(["python3 course.py run", name, *sys.argv[1:]])


def machine_info(packages: tuple[str, ...] = ("numpy", "numba")) -> dict:
    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "command": command_line(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    for name in packages:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    info["kernels"] = kernel_info(torch_used="torch" in packages)
    return info


def kernel_info(torch_used: bool) -> str:
    """Which machine code ran: numba's target CPU and, for torch runs, ATen's and MKL's kernels.

    Timings depend on it, and results of torch training would too without the course's pin
    (mbrl_helpers.reproducibility), which is why it is recorded.
    """
    import numba

    parts = [f"numba target {numba.config.CPU_NAME or 'host'}"]
    if torch_used:
        from mbrl_helpers.reproducibility import kernel_settings

        parts += [f"{key} {value}" for key, value in kernel_settings().items()]
    return ", ".join(parts)


def markdown_header(info: dict) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


def run_benchmark(name: str, main, report, argv: list[str], schema: int = 1) -> None:
    """The command line every benchmark shares: run, print the table, store it unless --quick.

    main(quick) -> dict of results; report(dict) -> markdown text. Results go to
    <name>.md and <name>.json in mbrl_helpers/results/ (package data, see mbrl_helpers.results);
    the JSON carries "schema": schema, the version of its keys, which mbrl_helpers.summary
    checks (bump it when the keys change).
    """
    import json
    import sys

    from mbrl_helpers.results import results_dir

    quick = "--quick" in argv
    row = main(quick)
    text = report(row)
    row = {"schema": schema} | row
    print(text)
    sys.stdout.flush()
    if not quick:
        results = results_dir()
        (results / f"{name}.md").write_text(text + "\n")
        (results / f"{name}.json").write_text(json.dumps(row, indent=2) + "\n")
