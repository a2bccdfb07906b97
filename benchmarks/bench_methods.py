"""Notebook 08's common-task numbers: every planning method of the course on the same footing.

    python3 course.py run benchmarks/bench_methods.py            # full run (about a minute)
    python3 course.py run benchmarks/bench_methods.py --quick    # checks the code runs (CI)

For each method and task, measured in one run:
- real environment steps until solved (Dyna Maze: the greedy path, checked after each
  episode, is within 1.2 x the 14-step shortest path, as in the book's Example 8.4; a planner
  that does not learn "solves" it when its own episode is that short; CartPole: an episode
  of at least 475 steps);
- model calls per real step (planning updates, or simulated steps of a search);
- CPU milliseconds per real step on this machine (all threads; labelled with the load);
- Shortcut Maze (Figure 8.5): reward collected after the shortcut opens, Dyna-Q vs Dyna-Q+:
  what a wrong model costs when the world changes.
The CartPole learners (DQN, Dyna-DQN, simple MBRL) are measured by bench_imagined.py and the
MCTS speed by bench_mcts.py; mbrl_helpers.course.summary reads all of these files.

Prints a table and writes methods.md and methods.json to mbrl_helpers/results/.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header, run_benchmark  # noqa: E402

from mbrl_helpers.agents import dyna_q_plus, sweeping  # noqa: E402
from mbrl_helpers.agents.tabular import run_seeds_from  # noqa: E402
from mbrl_helpers.course import widgets  # noqa: E402
from mbrl_helpers.planners import mcts  # noqa: E402
from mbrl_helpers.worlds import simulators as sim  # noqa: E402
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze, make_shortcut_maze  # noqa: E402

# Version of the JSON keys written below; mbrl_helpers.course.summary checks it. Bump it when they change.
SCHEMA = 1

BOOK = {"alpha": 0.1, "epsilon": 0.1, "gamma": 0.95}   # the Dyna Maze settings of Figure 8.2
FACTOR = 1.2                                            # "near-optimal": within 1.2 x shortest
MAZE_MCTS = {"n_simulations": 3000, "depth": 50, "gamma": 0.95, "c": 0.5}   # notebook 06's maze search
CARTPOLE_MCTS = {"n_simulations": 100, "depth": 20, "c": 1.0}               # notebook 06's defaults


def tabular_learner(method: int, planning_steps: int, runs: int, max_episodes: int) -> dict:
    """Dyna-Q (method DYNA_Q) or prioritized sweeping on the Dyna Maze until near-optimal."""
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    seeds = run_seeds_from(0, runs)
    settings = sweeping.SweepingSettings(planning_steps, BOOK["alpha"], BOOK["epsilon"], BOOK["gamma"],
                                         theta=1e-4)
    kwargs = {"settings": settings, "factor": FACTOR, "max_episodes": max_episodes}
    sweeping.until_near_optimal_runs(maze, method, seeds[:1], **kwargs)  # compile (or load the cache)
    cpu = time.process_time()
    out = sweeping.until_near_optimal_runs(maze, method, seeds, **kwargs)
    cpu = time.process_time() - cpu
    updates, steps, episodes = out[:, 0], out[:, 1], out[:, 2]
    solved = episodes > 0
    return {"real_steps_to_solve": [int(s) if ok else None for s, ok in zip(steps, solved, strict=True)],
            "model_calls_per_real_step": round(float(updates.sum() / steps.sum()) - 1.0, 2),
            "cpu_ms_per_real_step": round(1000 * cpu / float(steps.sum()), 5),
            "solved": int(solved.sum()), "runs": runs}


def search_episodes(env: gym.Env, step_fn, seeds: range, max_steps: int,
                    is_solved: Callable[[mcts.EpisodeResult], bool], settings: dict) -> dict:
    """One episode per seed, every decision planned by UCT with the perfect model (no learning).

    A planner that does not learn solves the task in its first episode or never; is_solved
    says whether an episode counts.
    """
    mcts.run_episode(env, step_fn, max_steps=2, seed=0, **settings)    # compile
    cpu = time.process_time()
    episodes = [mcts.run_episode(env, step_fn, seed=s, max_steps=max_steps, **settings) for s in seeds]
    cpu = time.process_time() - cpu
    steps = np.array([e.steps for e in episodes])
    simulated = np.array([e.simulated_steps for e in episodes])
    solved = np.array([is_solved(e) for e in episodes], dtype=bool)
    return {"real_steps_to_solve": [int(s) if ok else None for s, ok in zip(steps, solved, strict=True)],
            "episode_steps": steps.tolist(),
            "model_calls_per_real_step": round(float(simulated.sum() / steps.sum()), 1),
            "cpu_ms_per_real_step": round(1000 * cpu / float(steps.sum()), 4),
            "solved": int(solved.sum()), "runs": len(seeds)}


def shortcut(agent: int, runs: int) -> dict:
    """Figure 8.5: reward before and after the shortcut opens (switch at 3,000 of 6,000 steps)."""
    maze = make_shortcut_maze()
    settings = widgets.CHANGING_MAZE_SETTINGS
    dyna_q_plus.run_changing_maze(maze, agent=agent, steps=100, runs=2, seed=0, kappa=1e-3, **settings)
    cpu = time.process_time()
    result = dyna_q_plus.run_changing_maze(maze, agent=agent, steps=6000, runs=runs, seed=0,
                                           kappa=1e-3, **settings)
    cpu = time.process_time() - cpu
    before = result.reward_between(0, result.switch_step)
    after = result.reward_between(result.switch_step, 6000)
    return {"reward_before_switch": before.tolist(), "reward_after_switch": after.tolist(),
            "model_calls_per_real_step": float(settings["planning_steps"]),
            "cpu_ms_per_real_step": round(1000 * cpu / (runs * 6000), 5), "runs": runs,
            "switch_step": int(result.switch_step), "kappa": 1e-3}


def main(quick: bool) -> dict:
    runs = 5 if quick else 30
    max_episodes = 200 if quick else 1000
    maze_seeds, cartpole_seeds = (range(1), range(1)) if quick else (range(8), range(5))
    maze_search = MAZE_MCTS | ({"n_simulations": 300} if quick else {})
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    limit = int(np.floor(FACTOR * maze.shortest_path_length()))
    dyna_maze = {
        "Q-learning (Dyna-Q, n = 0)": tabular_learner(sweeping.DYNA_Q, 0, runs, max_episodes),
        "Dyna-Q, n = 5": tabular_learner(sweeping.DYNA_Q, 5, runs, max_episodes),
        "Dyna-Q, n = 50": tabular_learner(sweeping.DYNA_Q, 50, runs, max_episodes),
        "prioritized sweeping, n = 5": tabular_learner(sweeping.PRIORITIZED_SWEEPING, 5, runs,
                                                       max_episodes),
        "MCTS (UCT), perfect simulator": search_episodes(
            maze, sim.maze_step_fn(maze), maze_seeds, 100,
            lambda e: e.total_reward > 0 and e.steps <= limit, maze_search),
    }
    cartpole = {
        "MCTS (UCT), perfect simulator": search_episodes(
            gym.make("CartPole-v1"), sim.cartpole_step, cartpole_seeds, 500,
            lambda e: e.steps >= 475, CARTPOLE_MCTS),
    }
    shortcut_runs = 5 if quick else 30
    shortcut_maze = {name: shortcut(agent, shortcut_runs) for agent, name in
                     ((dyna_q_plus.DYNA_Q, "Dyna-Q, n = 10"), (dyna_q_plus.DYNA_Q_PLUS, "Dyna-Q+, n = 10"))}
    return {
        "settings": {"dyna maze": {**BOOK, "runs": runs, "max_episodes": max_episodes, "seed": 0,
                                   "solved": f"greedy path <= {limit} steps (1.2 x shortest 14)",
                                   "mcts": maze_search, "mcts seeds": len(maze_seeds)},
                     "cartpole": {"mcts": CARTPOLE_MCTS, "seeds": len(cartpole_seeds),
                                  "solved": "episode of >= 475 steps"},
                     "shortcut maze": {**widgets.CHANGING_MAZE_SETTINGS, "kappa": 1e-3,
                                       "steps": 6000}},
        "machine": machine_info(("numpy", "numba", "gymnasium")),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "dyna_maze": dyna_maze,
        "cartpole": cartpole,
        "shortcut_maze": shortcut_maze,
        "quick": quick,
    }


def median_steps(steps: list) -> str:
    """Median with unsolved runs counted as more than any solved one."""
    value = statistics.median([np.inf if s is None else s for s in steps])
    return "unsolved" if value == np.inf else f"{value:,.0f}"


def report(row: dict) -> str:
    lines = ["# Every method on common tasks (notebook 08)", "", markdown_header(row["machine"]),
             f"- settings: {row['settings']}",
             f"- 1-minute load average after the run: {row['load_average_1min_after']} (2 cores; above 2"
             " means other work competed and CPU times are pessimistic)", "",
             "| task | method | solved | median real steps to solve | model calls / real step | "
             "CPU ms / real step |", "| --- | --- | --- | ---: | ---: | ---: |"]
    for task, key in (("Dyna Maze", "dyna_maze"), ("CartPole-v1", "cartpole")):
        for name, r in row[key].items():
            lines.append(f"| {task} | {name} | {r['solved']} of {r['runs']} | "
                         f"{median_steps(r['real_steps_to_solve'])} | {r['model_calls_per_real_step']:,} | "
                         f"{r['cpu_ms_per_real_step']} |")
    lines += ["", "Shortcut Maze (Figure 8.5; the shortcut opens after 3,000 of 6,000 steps):", "",
              "| method | mean reward before the switch | mean reward after | CPU ms / real step |",
              "| --- | ---: | ---: | ---: |"]
    for name, r in row["shortcut_maze"].items():
        lines.append(f"| {name} | {np.mean(r['reward_before_switch']):.1f} | "
                     f"{np.mean(r['reward_after_switch']):.1f} | {r['cpu_ms_per_real_step']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    run_benchmark("methods", main, report, sys.argv, schema=SCHEMA)
