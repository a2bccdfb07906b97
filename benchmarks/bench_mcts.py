"""Speed of notebook 06's search: UCT on CartPole with the true model, three ways.

    python3 course.py run benchmarks/bench_mcts.py            # full run (about two minutes)
    python3 course.py run benchmarks/bench_mcts.py --quick    # checks the code runs (CI)

Rows, all measured in the same run from the same CartPole state:
- naive reference: UCT written the textbook way in plain Python, one object per
  node, the model a deep copy of gymnasium's CartPoleEnv stepped per simulated step;
- package, plain-Python path: mcts.mcts_search(compiled=False) with the numpy
  step function mbrl_helpers.worlds.simulators.cartpole_step (batch 1): any model works here;
- package, compiled path: the same algorithm in numba (the default for perfect simulators).
Also decisions per second at 100 simulations, the slider callback's latency, and a
larger CartPole sweep (10 seeds) than the notebook can afford.

Prints a table and writes mcts.md and mcts.json to mbrl_helpers/results/.
"""

from __future__ import annotations

import copy
import io
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import gymnasium as gym  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header, run_benchmark  # noqa: E402

from mbrl_helpers.course import widgets  # noqa: E402
from mbrl_helpers.planners import mcts  # noqa: E402
from mbrl_helpers.worlds import simulators as sim  # noqa: E402

# Version of the JSON keys written below; mbrl_helpers.course.summary checks it. Bump it when they change.
SCHEMA = 1

STATE = np.array([0.0, 0.0, 0.05, 0.0])
TARGET_SIMS_PER_SECOND = 20_000  # the course's speed goal for UCT on CartPole, depth 20 with rollouts


# -- a naive reference: objects, and the gymnasium env itself as the model --------------------
class NaiveNode:
    def __init__(self, env, reward, done):
        self.env, self.reward, self.done = env, reward, done
        self.children: dict[int, NaiveNode] = {}
        self.visits, self.value_sum = 0, 0.0


def naive_uct(state: np.ndarray, n_simulations: int, depth: int, c: float = 1.0,
              seed: int = 0) -> list[int]:
    """Textbook UCT with min-max normalisation; copies the env for every step it simulates."""
    rng = random.Random(seed)
    env = gym.make("CartPole-v1").unwrapped
    env.reset(seed=seed)
    env.state = state.copy()
    root = NaiveNode(env, 0.0, False)
    q_min, q_max = math.inf, -math.inf
    for _ in range(n_simulations):
        node, path = root, [root]
        value = 0.0
        while not node.done:
            untried = [a for a in (0, 1) if a not in node.children]
            if untried:
                action = rng.choice(untried)
                child_env = copy.deepcopy(node.env)
                _, r, done, _, _ = child_env.step(action)
                child = NaiveNode(child_env, r, done)
                node.children[action] = child
                path.append(child)
                if not done:
                    rollout_env = copy.deepcopy(child_env)
                    for _ in range(depth):
                        _, r, done, _, _ = rollout_env.step(rng.randrange(2))
                        value += r
                        if done:
                            break
                break
            best_score = -math.inf
            for kid in node.children.values():
                q = kid.reward + kid.value_sum / kid.visits
                q = (q - q_min) / (q_max - q_min) if q_max > q_min else 0.5
                score = q + c * math.sqrt(math.log(node.visits) / kid.visits)
                if score > best_score:
                    best, best_score = kid, score
            node = best
            path.append(node)
        g = value
        for i in range(len(path) - 1, -1, -1):
            path[i].visits += 1
            path[i].value_sum += g
            if i > 0:
                q = path[i].reward + path[i].value_sum / path[i].visits
                q_min, q_max = min(q_min, q), max(q_max, q)
            g = path[i].reward + g
    return [root.children[a].visits if a in root.children else 0 for a in (0, 1)]


# -- measurements ---------------------------------------------------------------------
def sims_per_second(fn, n_simulations: int, repeats: int) -> float:
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        fn(n_simulations, seed)
        times.append(time.perf_counter() - start)
    return n_simulations / statistics.median(times)


def package(compiled: bool, depth: int):
    def run(n: int, seed: int) -> None:
        mcts.mcts_search(sim.cartpole_step, STATE, n_actions=2, n_simulations=n, depth=depth,
                         seed=seed, compiled=compiled)
    return run


def naive(depth: int):
    def run(n: int, seed: int) -> None:
        naive_uct(STATE, n, depth, seed=seed)
    return run


def slider_latency(n_simulations: int, depth: int, c: float) -> float:
    """One slider move: the search, the figure, and rendering it to PNG as the notebook does."""
    start = time.perf_counter()
    fig = widgets.mcts_tree_figure(n_simulations, depth, c)
    fig.savefig(io.BytesIO(), format="png")
    elapsed = time.perf_counter() - start
    plt.close(fig)
    return elapsed


def trivial_render() -> float:
    """The same-size figure with one line: what any redraw costs on this machine right now."""
    start = time.perf_counter()
    fig, ax = plt.subplots(figsize=(11, 4.6))
    ax.plot([0, 1], [0, 1])
    fig.savefig(io.BytesIO(), format="png")
    elapsed = time.perf_counter() - start
    plt.close(fig)
    return elapsed


def cartpole_sweep(seeds: range) -> dict:
    env = gym.make("CartPole-v1")
    out = {}
    for label, settings in (("MCTS normalised, depth 20", {"planner": "mcts"}),
                            ("MCTS raw Q, depth 20", {"planner": "mcts", "normalise": False}),
                            ("flat rollouts, depth 20", {"planner": "rollout"}),
                            ("MCTS normalised, depth 50", {"planner": "mcts", "depth": 50}),
                            ("flat rollouts, depth 50", {"planner": "rollout", "depth": 50})):
        settings = {"depth": 20} | settings
        steps = [mcts.run_episode(env, sim.cartpole_step, n_simulations=100, seed=s,
                                  **settings).steps for s in seeds]
        out[label] = steps
    return out


def main(quick: bool) -> dict:
    depths = (10, 20, 50)
    repeats = 1 if quick else 5
    n_naive, n_python, n_compiled = (20, 20, 2000) if quick else (200, 300, 20_000)
    package(True, 20)(100, 0)  # warm-up: compile (or load numba's cache)
    slider_latency(10, 5, 1.0)
    rows = {}
    for depth in depths:
        rows[depth] = {
            "naive reference (objects + env deepcopy)": sims_per_second(naive(depth), n_naive,
                                                                        repeats),
            "package, plain-Python path (numpy model)": sims_per_second(package(False, depth),
                                                                        n_python, repeats),
            "package, compiled path": sims_per_second(package(True, depth), n_compiled, repeats),
        }
    decisions = {label: rows[20][label] / 100 for label in rows[20]}
    slider = {
        "yardstick: a one-line plot of the same size, rendered": statistics.median(
            trivial_render() for _ in range(repeats)),
        "defaults (100 sims, depth 20, c 1)": statistics.median(
            slider_latency(100, 20, 1.0) for _ in range(repeats)),
        "largest (500 sims, depth 50, c 3)": statistics.median(
            slider_latency(500, 50, 3.0) for _ in range(repeats)),
    }
    sweep = cartpole_sweep(range(2) if quick else range(10))
    return {
        "settings": {"state": STATE.tolist(), "c": 1.0, "gamma": 1.0, "normalise": True,
                     "repeats (median)": repeats, "simulations timed": {
                         "naive": n_naive, "python": n_python, "compiled": n_compiled}},
        "machine": machine_info(("numpy", "numba", "gymnasium", "matplotlib")),
        "simulations_per_second": {str(d): {k: round(v) for k, v in r.items()}
                                   for d, r in rows.items()},
        "decisions_per_second_100_sims_depth_20": {k: round(v, 1) for k, v in decisions.items()},
        "slider_seconds": {k: round(v, 3) for k, v in slider.items()},
        "cartpole_100_sims_steps_by_seed": sweep,
        "target_met": rows[20]["package, compiled path"] >= TARGET_SIMS_PER_SECOND,
    }


def report(row: dict) -> str:
    sps = row["simulations_per_second"]
    labels = list(sps["20"])
    lines = [
        "# MCTS speed (notebook 06)",
        "",
        markdown_header(row["machine"]),
        f"- settings: {row['settings']}",
        f"- 1-minute load average after the run: {os.getloadavg()[0]:.2f} (2 cores; above 2 means"
        " other work competed and timings are pessimistic)",
        "",
        "UCT simulations per second on CartPole-v1 with the true model (rollouts to the given depth):",
        "",
        "| implementation | depth 10 | depth 20 | depth 50 | decisions/s at 100 sims, depth 20 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label in labels:
        lines.append(f"| {label} | {sps['10'][label]:,} | {sps['20'][label]:,} | "
                     f"{sps['50'][label]:,} | "
                     f"{row['decisions_per_second_100_sims_depth_20'][label]:,} |")
    naive20 = sps["20"][labels[0]]
    lines += [
        "",
        f"Speed-up over the naive reference at depth 20 (same run): plain-Python path "
        f"{sps['20'][labels[1]] / naive20:.1f}x, compiled path {sps['20'][labels[2]] / naive20:.0f}x.",
        f"Speed goal: at least {TARGET_SIMS_PER_SECOND:,} simulations/s at depth 20 -> "
        f"{'met' if row['target_met'] else 'NOT met'} by the compiled path; the plain-Python path "
        "(what a learned model plugs into) does not reach it.",
        "",
        "| slider move (search + figure + PNG render) | seconds |",
        "| --- | ---: |",
    ]
    lines += [f"| {k} | {v:.3f} |" for k, v in row["slider_seconds"].items()]
    lines += ["", "CartPole-v1 episodes at 100 simulations per decision, c = 1 "
              "(steps balanced, 500 = full):", "",
              "| planner | steps by seed | all 500 |", "| --- | --- | --- |"]
    for label, steps in row["cartpole_100_sims_steps_by_seed"].items():
        lines.append(f"| {label} | {steps} | {sum(s == 500 for s in steps)} of {len(steps)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    run_benchmark("mcts", main, report, sys.argv, schema=SCHEMA)
