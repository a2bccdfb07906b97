"""Speed of notebook 01's experiments: compiled Dyna-Q against a plain-Python reference.

    python3 course.py run benchmarks/bench_dyna_q.py            # full run (about a minute)
    python3 course.py run benchmarks/bench_dyna_q.py --quick    # checks the code runs (CI)
    python3 course.py run benchmarks/bench_dyna_q.py --baseline /tmp/main-checkout
        # also: Figure 8.2's CPU time here against another checkout, alternating (what a change costs)

Prints a table and writes dyna_q.md and dyna_q.json to mbrl_helpers/results/.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_seconds_here_and_there, machine_info, markdown_header, run_benchmark  # noqa: E402

from mbrl_helpers.agents import tabular  # noqa: E402
from mbrl_helpers.agents.dyna_q_reference import dyna_q_reference  # noqa: E402
from mbrl_helpers.course import widgets  # noqa: E402
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze  # noqa: E402

# Version of the JSON keys written below; mbrl_helpers.course.summary checks it. Bump it when they change.
SCHEMA = 1

N_VALUES = (0, 5, 50)


def timed(fn, repeats: int) -> float:
    """Median wall time of fn() in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def figure_8_2(maze: GridMaze, runs: int, episodes: int) -> int:
    """The whole Figure 8.2 experiment; returns the number of Q updates made."""
    updates = 0
    for n in N_VALUES:
        result = tabular.run_dyna_q(maze, planning_steps=n, episodes=episodes, runs=runs, seed=0)
        updates += int(result.steps.sum()) * (n + 1)
    return updates


def figure_8_2_plain(maze: GridMaze, runs: int, episodes: int) -> None:
    """The same runs in plain Python (mbrl_helpers.agents.dyna_q_reference: same draws, same steps)."""
    for n in N_VALUES:
        for run_seed in tabular.run_seeds_from(0, runs):
            dyna_q_reference(maze, n, episodes, int(run_seed))


def slider_latency(k: int, runs: int, episodes: int) -> float:
    """One slider move to an uncached k: rerun 30 agents and draw the figure."""
    widgets.dyna_maze_mean_steps.cache_clear()
    widgets.dyna_maze_mean_steps(0, runs, episodes, 0)  # k = 0 is drawn alongside and stays cached
    start = time.perf_counter()
    fig = widgets.planning_steps_figure(k, runs=runs, episodes=episodes)
    fig.canvas.draw()  # include rendering, as the notebook does
    elapsed = time.perf_counter() - start
    plt.close(fig)
    return elapsed


def slider_move(k: int, runs: int, episodes: int) -> float:
    """One slider move to a precomputed k (what the notebook's slider does): draw only."""
    widgets.dyna_maze_mean_steps(k, runs, episodes, 0)
    start = time.perf_counter()
    fig = widgets.planning_steps_figure(k, runs=runs, episodes=episodes)
    fig.canvas.draw()
    elapsed = time.perf_counter() - start
    plt.close(fig)
    return elapsed


FIGURE_8_2_SETUP = ("from mbrl_helpers.agents import tabular; "
                    "from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze; "
                    "maze = GridMaze(DYNA_MAZE_LAYOUT)")
FIGURE_8_2_STATEMENT = ("for n in (0, 5, 50): tabular.run_dyna_q(maze, planning_steps=n, episodes=50, "
                        "runs=30, seed=0)")


def main(quick: bool, baseline: str | None = None) -> dict:
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    runs, episodes = (3, 5) if quick else (30, 50)
    repeats = 1 if quick else 5
    figure_8_2(maze, runs, episodes)  # warm-up: compile (or load numba's cache)
    slider_latency(5, runs, episodes)

    fig_time = timed(lambda: figure_8_2(maze, runs, episodes), repeats)
    updates = figure_8_2(maze, runs, episodes)
    plain_time = timed(lambda: figure_8_2_plain(maze, runs, episodes), 1)
    latency = statistics.median(slider_latency(100, runs, episodes) for _ in range(repeats))
    move = statistics.median(slider_move(100, runs, episodes) for _ in range(repeats))

    model = tabular.new_tabular_model(maze.n_states)
    tables = maze.tables()
    for s in maze.open_states():
        for a in range(4):
            tabular.model_update(model, int(s), a, tables.reward[s, a], int(tables.next_state[s, a]),
                                 bool(tables.terminated[s, a]))
    q = np.zeros((maze.n_states, 4))
    n_planning = 100_000 if quick else 5_000_000
    tabular.planning(q, model, 10, 0.1, 0.95)
    planning_time = timed(lambda: tabular.planning(q, model, n_planning, 0.1, 0.95), repeats)

    row = {
        "settings": {"runs": runs, "episodes": episodes, "n_values": list(N_VALUES), "seed": 0,
                     "alpha": 0.1, "epsilon": 0.1, "gamma": 0.95, "repeats (median)": repeats},
        "machine": machine_info(),
        "figure_8_2_seconds": round(fig_time, 4),
        "figure_8_2_updates": updates,
        "plain_python_figure_8_2_seconds": round(plain_time, 3),
        "speedup_vs_plain_python": round(plain_time / fig_time, 1),
        "slider_k100_seconds": round(latency, 4),
        "slider_move_precomputed_seconds": round(move, 4),
        "planning_updates_per_second": round(n_planning / planning_time),
    }
    if baseline:
        row["figure_8_2_against_baseline"] = cpu_seconds_here_and_there(
            baseline, FIGURE_8_2_SETUP, FIGURE_8_2_STATEMENT)
    return row


def report(row: dict) -> str:
    lines = [
        "# Dyna-Q speed (notebook 01)",
        "",
        markdown_header(row["machine"]),
        f"- settings: {row['settings']}",
        "",
        "| measurement | value |",
        "| --- | --- |",
        f"| Figure 8.2, compiled (runs x n in 0, 5, 50 x episodes as above) "
        f"| {row['figure_8_2_seconds']:.3f} s |",
        f"| Figure 8.2, plain-Python reference, same runs | {row['plain_python_figure_8_2_seconds']:.2f} s |",
        f"| speed-up over the reference (same run) | {row['speedup_vs_plain_python']:.0f}x |",
        f"| Q updates in Figure 8.2 (real + planning) | {row['figure_8_2_updates']:,} |",
        f"| slider move in notebook 01 (k precomputed; drawing only) "
        f"| {row['slider_move_precomputed_seconds']:.3f} s |",
        f"| slider callback, k = 100, uncached (all runs + drawing) | {row['slider_k100_seconds']:.3f} s |",
        f"| planning updates per second (one thread) | {row['planning_updates_per_second']:,} |",
    ]
    if "figure_8_2_against_baseline" in row:
        ab = row["figure_8_2_against_baseline"]
        lines += [
            f"| Figure 8.2 (30 runs x 50 episodes), CPU time, this checkout ({ab['this_checkout']}) "
            f"| {ab['cpu_seconds_this_checkout']:.3f} s |",
            f"| the same, baseline checkout ({ab['baseline']}), alternating processes "
            f"| {ab['cpu_seconds_baseline']:.3f} s |",
            f"| this / baseline (median of {ab['rounds']} rounds) | {ab['ratio_this_over_baseline']:.2f} |",
        ]
    lines += [
        "",
        "Speed goals: Figure 8.2 under 0.5 s after warm-up; at least 20x the plain reference;",
        "slider under 0.5 s. The notebook precomputes the 21 k values its slider offers (0, 5, ..., 100),",
        "so a move only redraws; the uncached row is what any other k costs.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    baseline = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
    run_benchmark("dyna_q", functools.partial(main, baseline=baseline), report, sys.argv, schema=SCHEMA)
