"""Tree search on a learned CartPole model vs the true one: return against search depth.

    python3 course.py run benchmarks/bench_learned_mcts.py            # full run (about 30-40 minutes)
    python3 course.py run benchmarks/bench_learned_mcts.py --quick    # checks the code runs (CI)

Every model is searched by the same planner (learned_mcts.run_search_episode: batched PUCT,
uniform priors, random rollouts of `depth` steps from each new leaf), on the same seeds:
- true simulator: simulators.cartpole_step;
- learned, 2,000 transitions: a 5-member ensemble fitted to 2,000 random-policy transitions
  (notebook 07's budget of real data), mean of the members;
- learned, 2,000 + guard: the same ensemble, a simulated branch ends where members disagree;
- learned, 300 transitions: a model fitted to little data, where model error shows.
Real steps for "MCTS on a learned model" = the model's data + the evaluated episode's own steps.

Prints a table and writes learned_mcts.md and learned_mcts.json to mbrl_helpers/results/.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

# before torch: importing mbrl_helpers fixes torch's CPU kernels (mbrl_helpers.core.reproducibility)
import mbrl_helpers  # noqa: F401

# isort: split
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header, run_benchmark  # noqa: E402

from mbrl_helpers.agents import learned_mcts  # noqa: E402
from mbrl_helpers.worlds import simulators  # noqa: E402

# Version of the JSON keys written below; mbrl_helpers.course.summary checks it. Bump it when they change.
SCHEMA = 1

GUARD_THRESHOLD = learned_mcts.GUARD_THRESHOLD
SOLVED = 475


def main(quick: bool) -> dict:
    torch.set_num_threads(1)
    if quick:
        depths, seeds, small, search = [3], [0], 100, dict(n_simulations=8, batch_size=4, max_steps=20)
        big = 300
    else:
        depths, seeds, small = [5, 15, 50], [0, 1, 2, 3, 4], 300
        search = dict(n_simulations=64, batch_size=16, max_steps=500)
        big = learned_mcts.MAX_TRANSITIONS
    search["c"] = 0.5
    start = time.perf_counter()
    ensemble = learned_mcts.fit_cartpole_model(big, seed=0)
    little = learned_mcts.fit_cartpole_model(small, seed=0)
    step_fns = {
        "true simulator": simulators.cartpole_step,
        f"learned, {big:,} transitions": ensemble.as_step_fn("mean"),
        f"learned, {big:,} + disagreement guard": learned_mcts.guarded_step_fn(ensemble, GUARD_THRESHOLD),
        f"learned, {small:,} transitions": little.as_step_fn("mean"),
    }
    returns, seconds = {}, {}
    for name, step_fn in step_fns.items():
        t = time.perf_counter()
        returns[name] = learned_mcts.depth_sweep({name: step_fn}, depths, seeds, **search)[name].tolist()
        seconds[name] = round(time.perf_counter() - t, 1)
        print(f"{name}: {returns[name]} ({seconds[name]} s)", flush=True)
    return {
        "machine": machine_info(("numpy", "numba", "torch", "gymnasium")),
        "settings": {**search, "gamma": 1.0, "depths": depths, "seeds": seeds,
                     "guard_threshold": GUARD_THRESHOLD, "model": str(learned_mcts.MODEL),
                     "model_transitions": {"big": big, "small": small}},
        "returns": returns,            # {model: [[return per seed] per depth]}
        "seconds": seconds,
        "solved": SOLVED,
        "total_seconds": round(time.perf_counter() - start, 1),
        "load_average": round(os.getloadavg()[0], 2),
    }


def report(row: dict) -> str:
    s = row["settings"]
    depths, seeds = s["depths"], s["seeds"]
    lines = [
        "# Tree search on a learned CartPole model (notebook 07)",
        "",
        markdown_header(row["machine"]),
        f"- settings: {s}",
        f"- 1-minute load average after the run: {row['load_average']} (2 cores)",
        f"- total time: {row['total_seconds']} s",
        "",
        f"CartPole-v1 return (steps balanced, 500 = full) of batched PUCT with random-rollout leaves, "
        f"{s['n_simulations']} simulations per decision, by rollout depth; mean over seeds {seeds}, "
        "then the number of seeds reaching 475:",
        "",
        "| model | " + " | ".join(f"depth {d}" for d in depths) + " |",
        "| --- |" + " ---: |" * len(depths),
    ]
    for name, by_depth in row["returns"].items():
        cells = [f"{np.mean(r):.0f} ({sum(x >= row['solved'] for x in r)}/{len(r)})" for r in by_depth]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    big = s["model_transitions"]["big"]
    learned = row["returns"][f"learned, {big:,} transitions"]
    best = int(np.argmax([np.mean(r) for r in learned]))
    solved = sum(x >= row["solved"] for x in learned[best])
    lines += ["", f"MCTS on the model from {big:,} real transitions, best depth {depths[best]}: "
              f"{solved} of {len(seeds)} seeds reach {row['solved']} in their first real episode, "
              f"i.e. {big:,} real steps of data + that episode's own steps."]
    return "\n".join(lines)


if __name__ == "__main__":
    run_benchmark("learned_mcts", main, report, sys.argv, schema=SCHEMA)
