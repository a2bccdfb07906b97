"""Speed of notebook 02's experiments: Figures 8.4 and 8.5 and Example 8.4 at the book's run counts.

    python3 course.py run benchmarks/bench_tabular_02.py            # full run (a minute or two)
    python3 course.py run benchmarks/bench_tabular_02.py --quick    # checks the code runs (CI)
    python3 course.py run benchmarks/bench_tabular_02.py --baseline /tmp/main-checkout
        # also: CPU time here against another checkout, alternating (what a change costs)

Prints a table and writes tabular_02.md and tabular_02.json to mbrl_helpers/results/.
Speed goal: all three experiments together in under 10 s after warm-up on 2 cores.
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_seconds_here_and_there, machine_info, markdown_header, run_benchmark  # noqa: E402
from reference_tabular_02 import dyna_q_plus_plain, updates_until_near_optimal_plain  # noqa: E402

from mbrl_helpers.agents import dyna_q_plus, sweeping  # noqa: E402
from mbrl_helpers.course import widgets  # noqa: E402
from mbrl_helpers.worlds.envs import make_blocking_maze, make_scaled_dyna_maze, make_shortcut_maze  # noqa: E402

# Version of the JSON keys written below; mbrl_helpers.course.summary checks it. Bump it when they change.
SCHEMA = 1

AGENTS = dyna_q_plus.AGENTS
KAPPA = 1e-3


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall time and median CPU time (all threads) of fn() in seconds, and fn's last result.

    On a machine shared with other work the wall time grows but the CPU time barely does.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls), statistics.median(cpus), result


def changing_maze_figure(maze, steps: int, runs: int) -> int:
    """One of Figures 8.4 / 8.5 as notebook 02 runs it (3 agents); returns the Q updates made."""
    settings = widgets.CHANGING_MAZE_SETTINGS
    for agent in AGENTS:
        dyna_q_plus.run_changing_maze(maze, agent=agent, steps=steps, runs=runs, seed=0, kappa=KAPPA,
                                      **settings)
    return len(AGENTS) * runs * steps * (settings["planning_steps"] + 1)


def example_8_4(resolutions: tuple[int, ...], runs: int) -> int:
    """Example 8.4 as notebook 02 runs it; returns the Q updates made (both methods)."""
    result = sweeping.run_updates_until_near_optimal(resolutions, runs=runs, seed=0)
    return int(sum(u.sum() for u in result.updates.values()))


def plain_workload(runs: int, resolutions: tuple[int, ...]) -> None:
    """A fraction of the work in plain Python: Figure 8.4 (Dyna-Q and Dyna-Q+) and Example 8.4."""
    for plus in (False, True):
        for seed in range(runs):
            dyna_q_plus_plain(make_blocking_maze(), 3000, seed, plus=plus, kappa=KAPPA)
    for r in resolutions:
        for sweep in (True, False):
            for seed in range(runs):
                updates_until_near_optimal_plain(make_scaled_dyna_maze(r), seed, sweeping=sweep)


def compiled_workload(runs: int, resolutions: tuple[int, ...]) -> None:
    """The same work as plain_workload, compiled."""
    for agent in (dyna_q_plus.DYNA_Q, dyna_q_plus.DYNA_Q_PLUS):
        dyna_q_plus.run_changing_maze(make_blocking_maze(), agent=agent, steps=3000, runs=runs, seed=0,
                                      kappa=KAPPA, **widgets.CHANGING_MAZE_SETTINGS)
    sweeping.run_updates_until_near_optimal(resolutions, runs=runs, seed=0)


def slider_move(kappa: float, runs: int, steps: int) -> tuple[float, float]:
    """One move of the kappa slider to a precomputed value: draw only. (wall, CPU) seconds."""
    widgets.shortcut_maze_mean(dyna_q_plus.DYNA_Q_PLUS, kappa, runs, steps, 0)
    start, start_cpu = time.perf_counter(), time.process_time()
    fig = widgets.kappa_figure(kappa, runs=runs, steps=steps)
    fig.canvas.draw()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    plt.close(fig)
    return elapsed, cpu


def slider_uncached(kappa: float, runs: int, steps: int) -> float:
    """One move of the kappa slider to a value not computed before: run all agents and draw."""
    widgets.shortcut_maze_mean.cache_clear()
    widgets.shortcut_maze_mean(dyna_q_plus.DYNA_Q, 0.0, runs, steps, 0)  # drawn alongside, stays cached
    start = time.perf_counter()
    fig = widgets.kappa_figure(kappa, runs=runs, steps=steps)
    fig.canvas.draw()
    elapsed = time.perf_counter() - start
    plt.close(fig)
    return elapsed


# A baseline checkout may predate the package's layer folders (mbrl_helpers.agents.sweeping was
# mbrl_helpers.sweeping): m('agents.sweeping') imports the module from whichever layout is there.
MODULES = ("import importlib, importlib.util; m = lambda name: importlib.import_module('mbrl_helpers.' + "
           "(name if importlib.util.find_spec('mbrl_helpers.course') else name.split('.')[1])); ")

# What --baseline times in both checkouts: Example 8.4 at r = 1..4 (prioritized sweeping's
# queue, Dyna-Q's episodes) and Figures 8.4 + 8.5 (Dyna-Q's and Dyna-Q+'s planning).
AGAINST_BASELINE = {
    "Example 8.4 at r = 1..4": (MODULES + "sweeping = m('agents.sweeping')",
                    "sweeping.run_updates_until_near_optimal((1, 2, 3, 4), runs=30, seed=0)"),
    "Figures 8.4 and 8.5": (
        MODULES + "d = m('agents.dyna_q_plus'); envs = m('worlds.envs'); widgets = m('course.widgets'); "
        "mazes = ((envs.make_blocking_maze(), 3000), (envs.make_shortcut_maze(), 6000))",
        "for maze, steps in mazes: [d.run_changing_maze(maze, agent=a, steps=steps, runs=30, seed=0, "
        "kappa=1e-3, **widgets.CHANGING_MAZE_SETTINGS) for a in (0, 1, 2)]"),
}


def main(quick: bool, baseline: str | None = None) -> dict:
    runs = 3 if quick else 30
    resolutions = (1, 2) if quick else (1, 2, 3, 4, 5, 6)
    repeats = 1 if quick else 3
    blocking, shortcut = make_blocking_maze(), make_shortcut_maze()
    # warm-up: compile (or load numba's cache)
    changing_maze_figure(blocking, 1200, 2)
    example_8_4((1,), 2)
    slider_uncached(2e-3, 2, 3500)

    t_84, c_84, u_84 = timed(lambda: changing_maze_figure(blocking, 3000, runs), repeats)
    t_85, c_85, u_85 = timed(lambda: changing_maze_figure(shortcut, 6000, runs), repeats)
    t_ex, c_ex, u_ex = timed(lambda: example_8_4(resolutions, runs), repeats)
    load = os.getloadavg()[0]
    steps = 3500 if quick else 6000
    moves = [slider_move(KAPPA, runs, steps) for _ in range(max(repeats, 5))]
    move = statistics.median(wall for wall, _ in moves)
    move_cpu = statistics.median(cpu for _, cpu in moves)
    uncached = statistics.median(slider_uncached(2e-3, runs, steps) for _ in range(repeats))
    plain_runs, plain_resolutions = (1, (1,)) if quick else (3, (1, 2))
    t_plain, _, _ = timed(lambda: plain_workload(plain_runs, plain_resolutions), 1)
    t_same, _, _ = timed(lambda: compiled_workload(plain_runs, plain_resolutions), repeats)
    against = {name: cpu_seconds_here_and_there(baseline, setup, statement)
               for name, (setup, statement) in AGAINST_BASELINE.items()} if baseline else None
    row = {
        "settings": {
            "runs": runs, "seed": 0, "repeats (median)": repeats,
            "figures 8.4/8.5": {**widgets.CHANGING_MAZE_SETTINGS, "kappa": KAPPA,
                                "agents": ["Dyna-Q", "Dyna-Q+", "Dyna-Q+ (bonus in action choice)"],
                                "steps": [3000, 6000]},
            "example 8.4": {"resolutions": list(resolutions), "planning_steps": 5, "alpha": 0.5,
                            "theta": 1e-4, "epsilon": 0.1, "gamma": 0.95, "factor": 1.2},
        },
        "machine": machine_info(),
        "load_average_1min_after": round(load, 2),
        "figure_8_4_seconds": round(t_84, 3),
        "figure_8_4_cpu_seconds": round(c_84, 3),
        "figure_8_5_cpu_seconds": round(c_85, 3),
        "example_8_4_cpu_seconds": round(c_ex, 3),
        "all_three_cpu_seconds": round(c_84 + c_85 + c_ex, 3),
        "figure_8_4_updates": u_84,
        "figure_8_5_seconds": round(t_85, 3),
        "figure_8_5_updates": u_85,
        "example_8_4_seconds": round(t_ex, 3),
        "example_8_4_updates": u_ex,
        "all_three_seconds": round(t_84 + t_85 + t_ex, 3),
        "kappa_slider_move_precomputed_seconds": round(move, 4),
        "kappa_slider_move_precomputed_cpu_seconds": round(move_cpu, 4),
        "kappa_slider_uncached_seconds": round(uncached, 4),
        "plain_python_workload": (f"Figure 8.4 (Dyna-Q, Dyna-Q+) and Example 8.4 at "
                                  f"r = {list(plain_resolutions)}, {plain_runs} runs each"),
        "plain_python_seconds": round(t_plain, 3),
        "compiled_same_workload_seconds": round(t_same, 4),
        "speedup_vs_plain_python": round(t_plain / t_same, 1),
    }
    if against:
        row["against_baseline"] = against
    return row


def report(row: dict) -> str:
    lines = [
        "# Notebook 02 speed: changing mazes and prioritized sweeping",
        "",
        markdown_header(row["machine"]),
        f"- settings: {row['settings']}",
        "",
        f"- 1-minute load average right after the timed runs: {row['load_average_1min_after']}"
        " (2 cores; above 2 means other work was competing)",
        "",
        "| measurement | wall time | CPU time (all threads) | Q updates |",
        "| --- | --- | --- | --- |",
        f"| Figure 8.4, blocking maze (3 agents x runs x 3000 steps) | {row['figure_8_4_seconds']:.3f} s "
        f"| {row['figure_8_4_cpu_seconds']:.3f} s | {row['figure_8_4_updates']:,} |",
        f"| Figure 8.5, shortcut maze (3 agents x runs x 6000 steps) | {row['figure_8_5_seconds']:.3f} s "
        f"| {row['figure_8_5_cpu_seconds']:.3f} s | {row['figure_8_5_updates']:,} |",
        f"| Example 8.4 (Dyna-Q and prioritized sweeping, runs x resolutions) "
        f"| {row['example_8_4_seconds']:.3f} s | {row['example_8_4_cpu_seconds']:.3f} s "
        f"| {row['example_8_4_updates']:,} |",
        f"| **all three** | **{row['all_three_seconds']:.3f} s** "
        f"| **{row['all_three_cpu_seconds']:.3f} s** | |",
        f"| kappa slider move (precomputed; drawing only) "
        f"| {row['kappa_slider_move_precomputed_seconds']:.3f} s "
        f"| {row['kappa_slider_move_precomputed_cpu_seconds']:.3f} s | |",
        f"| kappa slider, uncached kappa (30 agents x 6000 steps + drawing) "
        f"| {row['kappa_slider_uncached_seconds']:.3f} s | | |",
        f"| plain-Python reference (benchmarks/reference_tabular_02.py): {row['plain_python_workload']} "
        f"| {row['plain_python_seconds']:.2f} s | | |",
        f"| the same work, compiled | {row['compiled_same_workload_seconds']:.3f} s | | |",
        f"| speed-up over the plain reference (same work, same run) "
        f"| {row['speedup_vs_plain_python']:.0f}x | | |",
    ]
    for name, ab in row.get("against_baseline", {}).items():
        lines += [
            f"| {name}, CPU time, this checkout ({ab['this_checkout']}) / baseline "
            f"({ab['baseline']}), alternating processes, median of {ab['rounds']} rounds "
            f"| {ab['ratio_this_over_baseline']:.2f} "
            f"| {ab['cpu_seconds_this_checkout']:.3f} s / {ab['cpu_seconds_baseline']:.3f} s | |",
        ]
    lines += [
        "",
        "Speed goal: the three experiments together under 10 s after warm-up on this 2-core",
        "machine; a slider move under 0.5 s. Times are medians over the repeats, after numba's",
        "compilation (cached on disk). The load average above says whether other work competed.",
        "The runs are spread over numba's threads: on an idle machine the wall time approaches",
        "CPU time / cores; on a busy one the runs share what CPU is left (wall time ~ CPU time).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    baseline = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
    run_benchmark("tabular_02", functools.partial(main, baseline=baseline), report, sys.argv,
                  schema=SCHEMA)
