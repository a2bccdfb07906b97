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
    (mbrl_helpers.core.reproducibility), which is why it is recorded.
    """
    import numba

    parts = [f"numba target {numba.config.CPU_NAME or 'host'}"]
    if torch_used:
        from mbrl_helpers.core.reproducibility import kernel_settings

        parts += [f"{key} {value}" for key, value in kernel_settings().items()]
    return ", ".join(parts)


def markdown_header(info: dict) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


def run_benchmark(name: str, main, report, argv: list[str], schema: int = 1) -> None:
    """The command line every benchmark shares: run, print the table, store it unless --quick.

    main(quick) -> dict of results; report(dict) -> markdown text. Results go to
    <name>.md and <name>.json in mbrl_helpers/results/ (package data, see mbrl_helpers.results);
    the JSON carries "schema": schema, the version of its keys, which mbrl_helpers.course.summary
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


def cpu_seconds_here_and_there(baseline: str, setup: str, statement: str, *, rounds: int = 3,
                               repeats: int = 3) -> dict:
    """CPU seconds of `statement` with this checkout's mbrl_helpers and with baseline's, alternating.

    baseline: the root of another checkout of the course (e.g. `git worktree add /tmp/base main`).
    Each round times the statement in a fresh process per checkout (best of `repeats` after
    one warm-up run, CPU time of all threads), so both sides see the same machine load;
    the rounds' medians are returned with their ratio. What a change of the code costs or
    saves, measured in one run: compare the ratio, not the seconds, across machines.
    """
    import json
    import statistics
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    here = str(Path(__file__).resolve().parents[1])
    child = textwrap.dedent(f"""
        import json, time
        {setup}
        def run():
            {statement}
        run()
        times = []
        for _ in range({repeats}):
            start = time.process_time()
            run()
            times.append(time.process_time() - start)
        print(json.dumps(min(times)))
    """)

    def seconds(root: str) -> float:
        env = {**os.environ, "PYTHONPATH": root}
        out = subprocess.run([sys.executable, "-c", child], env=env, cwd=root, check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    times_here, times_there = [], []
    for _ in range(rounds):
        times_there.append(seconds(baseline))
        times_here.append(seconds(here))
    here_s, there_s = statistics.median(times_here), statistics.median(times_there)
    return {"baseline": _describe_checkout(baseline), "this_checkout": _describe_checkout(here),
            "statement": statement, "rounds": rounds,
            "cpu_seconds_this_checkout": round(here_s, 4), "cpu_seconds_baseline": round(there_s, 4),
            "ratio_this_over_baseline": round(here_s / there_s, 3)}


def _describe_checkout(root: str) -> str:
    """root's git commit (short hash and date) if it is a git checkout, else the path."""
    import subprocess

    try:
        out = subprocess.run(["git", "-C", root, "log", "-1", "--format=commit %h of %cs"], check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return root
    # results files rewritten by an earlier benchmark of the same run do not count as changes
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--",
                            ".", ":!mbrl_helpers/results"], capture_output=True, text=True).stdout.strip()
    return f"{out}{' with uncommitted changes' if dirty else ''}"
