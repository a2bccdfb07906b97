"""Dyna with MCTS planning vs Dyna-Q at equal budgets of model calls (notebook 07, tabular part).

    python3 course.py run benchmarks/bench_dyna_mcts.py            # full run (about a minute or two)
    python3 course.py run benchmarks/bench_dyna_mcts.py --quick    # checks the code runs (CI)

Dyna Maze (the book's Figure 8.2 settings: alpha 0.1, epsilon 0.1, gamma 0.95,
30 runs): steps per episode, real steps until the greedy policy follows a
shortest path (14 steps), how far values have spread after two episodes, and
wall time per real step, for Dyna-Q (tabular.planning, n = B) and variants of
Dyna-MCTS (a UCT search of B model calls per real step), B in {5, 50}.
Shortcut Maze (notebook 02's Figure 8.5 settings: alpha 1, 6000 steps, the
shortcut opens at 3000, 30 runs): goals before and after the change, and
whether the agent's greedy path ever takes the shortcut.
Also: the compute time of dyna_mcts_curves, what a notebook slider calls.

Prints a table and writes dyna_mcts.md and dyna_mcts.json to mbrl_helpers/results/.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header, run_benchmark  # noqa: E402

from mbrl_helpers.agents import dyna_mcts as dm  # noqa: E402
from mbrl_helpers.agents import tabular  # noqa: E402
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, SHORTCUT_MAZE_LAYOUTS, GridMaze, make_shortcut_maze  # noqa: E402

SCHEMA = 1  # version of the results keys (mbrl_helpers.course.summary checks it); bump when they change
SEED = 0
# label -> options of run_dyna_mcts; "{B}" in a value is replaced by the budget
DYNA_MAZE_AGENTS = {
    "Dyna-Q (tabular.planning, n = B)": {"planner": "dyna-q"},
    "Dyna-MCTS: search from the current state": {},
    "... and update every tree edge": {"update": "tree"},
    "... acting by the search": {"act": "search"},
    "... unseen pairs end the search": {"unseen": "terminal"},
    "... UCT's mean backups as targets": {"backup": "mean"},
    "... random rollouts (depth 10, no Q) at leaves": {"rollout_depth": 10, "bootstrap": False},
    "Dyna-MCTS: 1 search from the current + 4 from visited states": {"searches": 5},
    "Dyna-MCTS: B one-call searches from visited states": {"searches": "{B}", "roots": "visited"},
}
SHORTCUT_AGENTS = {
    "Dyna-Q (tabular.planning, n = B)": {"planner": "dyna-q"},
    "Dyna-MCTS: search from the current state": {},
    "... acting by the search": {"act": "search"},
    "... unseen pairs end the search": {"unseen": "terminal"},
    "Dyna-MCTS: 1 search from the current + 4 from visited states": {"searches": 5},
}


def options_for(options: dict, budget: int) -> dict:
    return {k: (budget if v == "{B}" else v) for k, v in options.items()}


def run_kwargs(options: dict) -> dict:
    """run_dyna_mcts' keywords for a row's options: the ablations' keys (backup, update, act,
    roots) go into one dyna_mcts.Ablation, the variants only this benchmark runs."""
    kwargs = {k: v for k, v in options.items() if k not in dm.Ablation._fields}
    ablation = {k: v for k, v in options.items() if k in dm.Ablation._fields}
    return kwargs | ({"ablation": dm.Ablation(**ablation)} if ablation else {})


def censored_stats(found: np.ndarray) -> dict:
    """Median and quartiles of steps-to-optimal over runs, never-found runs counted as +inf."""
    values = np.where(found >= 0, found, np.inf).astype(float)
    q1, med, q3 = np.percentile(values, [25, 50, 75], method="lower")
    as_num = lambda v: None if np.isinf(v) else int(v)  # noqa: E731
    return {"found": int((found >= 0).sum()), "runs": int(found.size), "median": as_num(med),
            "q1": as_num(q1), "q3": as_num(q3)}


def per_step_seconds(maze: GridMaze, budget: int, options: dict, episodes: int, repeats: int) -> float:
    """CPU time per real step of one agent on one thread (median of repeats); long runs, so
    the call's fixed cost (checks, tables, dispatch) is well under 1 % of it. CPU time, not
    wall time, so that other work on a shared machine does not inflate it much."""
    numba.set_num_threads(1)
    try:
        times = []
        for r in range(repeats):
            start = time.process_time()
            result = dm.run_dyna_mcts(maze, budget=budget, episodes=episodes, runs=1, seed=100 + r,
                                      **run_kwargs(options))
            times.append((time.process_time() - start) / int(result.real_steps[0]))
        return statistics.median(times)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def dyna_maze(budgets: tuple[int, ...], runs: int, episodes: int, long_episodes: int,
              repeats: int) -> dict:
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    out = {}
    for budget in budgets:
        rows = {}
        for label, options in DYNA_MAZE_AGENTS.items():
            opts = options_for(options, budget)
            if opts.get("searches", 1) > budget:
                continue
            # one long run: its first `episodes` episodes are those of a shorter run (same draws)
            result = dm.run_dyna_mcts(maze, budget=budget, episodes=long_episodes, runs=runs,
                                      seed=SEED, **run_kwargs(opts))
            early = dm.run_dyna_mcts(maze, budget=budget, episodes=2, runs=runs, seed=SEED,
                                     **run_kwargs(opts))
            spread = (early.q.max(axis=2) > 0).sum(axis=1)
            steps = result.steps[:, :episodes]
            rows[label] = {
                "options": opts,
                "mean_steps_per_episode": np.round(steps.mean(axis=0), 2).tolist(),
                "episode_2": float(steps[:, 1].mean()),
                "episodes_2_10": float(steps[:, 1:10].mean()),
                "last_10": float(steps[:, -10:].mean()),
                "steps_to_optimal": censored_stats(result.steps_to_optimal),
                "steps_to_optimal_by_run": result.steps_to_optimal.tolist(),
                "states_valued_after_2_episodes": float(spread.mean()),
                "model_calls_per_real_step": float(result.model_calls.sum() / result.real_steps.sum()),
                "seconds_per_real_step": per_step_seconds(maze, budget, opts, long_episodes, repeats),
            }
        out[str(budget)] = rows
    q_learning = dm.run_dyna_mcts(maze, budget=0, episodes=long_episodes, runs=runs, seed=SEED,
                                  planner="dyna-q")
    out["q-learning"] = {"steps_to_optimal": censored_stats(q_learning.steps_to_optimal),
                         "episode_2": float(q_learning.steps[:, 1].mean()),
                         "last_10": float(q_learning.steps[:, episodes - 10:episodes].mean())}
    return out


def shortcut_maze(budgets: tuple[int, ...], runs: int, steps: int, switch: int) -> dict:
    maze = make_shortcut_maze(switch_step=switch)
    after = GridMaze(SHORTCUT_MAZE_LAYOUTS[1])
    shortest = after.shortest_path_length()
    out = {}
    for budget in budgets:
        rows = {}
        for label, options in SHORTCUT_AGENTS.items():
            result = dm.run_dyna_mcts_changing(maze, budget=budget, steps=steps, runs=runs, seed=SEED,
                                               **run_kwargs(options))
            cum = result.cumulative_reward
            before = cum[:, switch - 1]
            found = result.steps_to_optimal >= 0
            final_len = np.array([len(tabular.greedy_path(after, q)) - 1 for q in result.q])
            rows[label] = {
                "options": options,
                "goals_before_switch": float(before.mean()),
                "goals_after_switch": float((cum[:, -1] - before).mean()),
                "final_cumulative_reward": float(cum[:, -1].mean()),
                "shortcut_found_runs": int(found.sum()),
                "final_greedy_path_takes_shortcut": int((final_len == shortest).sum()),
                "goals_before_switch_if_found": float(before[found].mean()) if found.any() else None,
                "goals_before_switch_if_not": float(before[~found].mean()) if (~found).any() else None,
                "mean_cumulative_every_100_steps": np.round(cum.mean(axis=0)[99::100], 2).tolist(),
            }
        out[str(budget)] = rows
    return {"runs": runs, "steps": steps, "switch_step": switch, "shortest_after": shortest,
            "shortest_before": GridMaze(SHORTCUT_MAZE_LAYOUTS[0]).shortest_path_length(),
            "budgets": out}


def slider_seconds(budgets: tuple[int, ...], repeats: int) -> dict:
    """dyna_mcts_curves (10 runs x 30 episodes, all threads): the compute of one slider move,
    wall seconds and CPU seconds (all threads) as medians of repeats."""
    dm.dyna_mcts_curves(budget=5)  # warm-up: compile or load numba's cache
    out = {}
    for planner in ("dyna-q", "mcts"):
        for budget in budgets:
            for depth in ((0, 10) if planner == "mcts" else (0,)):
                wall, cpu = [], []
                for r in range(repeats):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    dm.dyna_mcts_curves(planner, budget, depth, runs=10, episodes=30, seed=r)
                    wall.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                label = f"{planner}, B = {budget}" + (f", rollout depth {depth}" if depth else "")
                out[label] = {"wall": round(statistics.median(wall), 3),
                              "cpu": round(statistics.median(cpu), 3)}
    return out


def main(quick: bool) -> dict:
    if quick:
        runs, episodes, long_episodes, repeats, budgets = 3, 12, 15, 1, (5,)
        shortcut = shortcut_maze((5,), 2, 600, 300)
    else:
        runs, episodes, long_episodes, repeats, budgets = 30, 50, 200, 3, (5, 50)
        shortcut = shortcut_maze((10, 50), 30, 6000, 3000)
    return {
        "settings": {"seed": SEED, "runs": runs, "episodes": episodes,
                     "episodes for steps to optimal": long_episodes,
                     "dyna maze": dm.DYNA_MAZE_SETTINGS, "shortcut maze": dm.SHORTCUT_MAZE_SETTINGS,
                     "search defaults": {"c": 1.0, "unseen": "stay", "leaf": "max_a Q",
                                         "backup": "max", "update": "root", "act": "q"},
                     "numba threads": numba.config.NUMBA_NUM_THREADS},
        "machine": machine_info(("numpy", "numba")),
        "dyna_maze": dyna_maze(budgets, runs, episodes, long_episodes, repeats),
        "shortcut_maze": shortcut,
        "slider_seconds": slider_seconds((5, 50) if not quick else (5,), repeats),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def fmt_optimal(s: dict) -> str:
    def v(x):
        return "never" if x is None else f"{x:,}"
    return f"{s['found']}/{s['runs']} | {v(s['median'])} | {v(s['q1'])} - {v(s['q3'])}"


def report(row: dict) -> str:
    st = row["settings"]
    lines = [
        "# Dyna with MCTS planning vs Dyna-Q at equal model-call budgets",
        "",
        markdown_header(row["machine"]),
        f"- settings: {st}",
        f"- 1-minute load average after the run: {row['load_average_1min']} (2 cores; above 2 means"
        " other work competed and timings are pessimistic)",
        "",
        f"## Dyna Maze (Figure 8.2 settings, {st['runs']} runs)",
        "",
        "B = model calls of planning per real step. Steps to optimal: real steps until the greedy",
        "policy (ties to the lowest action) first follows a 14-step path, over a run of "
        f"{st['episodes for steps to optimal']} episodes; median and interquartile range over runs, a run",
        "that never got there counted as infinitely slow. 'Valued states': states with max_a Q > 0",
        "after two episodes (how far the goal's value has spread). Time per real step: one agent on",
        "one thread, CPU time.",
        "",
    ]
    dyna = row["dyna_maze"]
    for budget in [k for k in dyna if k != "q-learning"]:
        rows = dyna[budget]
        base = next(iter(rows.values()))
        lines += [
            f"### B = {budget}",
            "",
            "| agent | steps, episode 2 | episodes 2-10 | last 10 episodes | reached optimal | "
            "median steps to optimal | IQR | valued states after 2 episodes | calls per real step | "
            "CPU µs per real step | time vs Dyna-Q |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for label, r in rows.items():
            lines.append(
                f"| {label} | {r['episode_2']:.0f} | {r['episodes_2_10']:.1f} | {r['last_10']:.1f} | "
                f"{fmt_optimal(r['steps_to_optimal'])} | {r['states_valued_after_2_episodes']:.1f} | "
                f"{r['model_calls_per_real_step']:.2f} | {r['seconds_per_real_step'] * 1e6:.1f} | "
                f"{r['seconds_per_real_step'] / base['seconds_per_real_step']:.1f}x |")
        lines.append("")
    ql = dyna["q-learning"]
    lines += [f"No planning at all (Q-learning, B = 0): episode 2 {ql['episode_2']:.0f} steps, last 10 "
              f"episodes {ql['last_10']:.1f}, reached optimal {fmt_optimal(ql['steps_to_optimal'])}.", ""]
    sc = row["shortcut_maze"]
    lines += [
        f"## Shortcut Maze (Figure 8.5 setting: alpha 1, {sc['steps']} steps, the shortcut opens at "
        f"{sc['switch_step']}, {sc['runs']} runs)",
        "",
        f"Shortest path {sc['shortest_before']} steps before the change, {sc['shortest_after']} after "
        "(through the shortcut). 'Found': the greedy path took the shortcut at some step after the",
        "change; 'at the end': it does after the last step.",
        "",
        "| B | agent | goals before change | goals after | final cumulative reward | shortcut found | "
        "at the end | goals before change, runs that found it / did not |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for budget, rows in sc["budgets"].items():
        for label, r in rows.items():
            f, n = r["goals_before_switch_if_found"], r["goals_before_switch_if_not"]
            split = f"{'-' if f is None else f'{f:.1f}'} / {'-' if n is None else f'{n:.1f}'}"
            lines.append(
                f"| {budget} | {label} | {r['goals_before_switch']:.1f} | {r['goals_after_switch']:.1f} | "
                f"{r['final_cumulative_reward']:.1f} | {r['shortcut_found_runs']}/{sc['runs']} | "
                f"{r['final_greedy_path_takes_shortcut']}/{sc['runs']} | {split} |")
    lines += ["", "## Slider: dyna_mcts_curves (10 runs x 30 episodes, all threads, compute only)", "",
              "| setting | wall seconds | CPU seconds (all threads) |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {v['wall']:.3f} | {v['cpu']:.3f} |" for k, v in row["slider_seconds"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    run_benchmark("dyna_mcts", main, report, sys.argv, schema=SCHEMA)
