"""Model-predictive control in the model-based RL loop: real steps to solve, planning cost, controls.

Parts (each resumable: a (config, seed) already in its results file is skipped; run them in
any order, then --report merges them into mpc.json / mpc.md and the slider grid mpc.grid.json):

    python benchmarks/bench_mpc.py --part cartpole      # MPC (CEM, learned ensemble + terminal value)
    python benchmarks/bench_mpc.py --part cartpole_h30  # the same with H = 30, N = 50 (a longer horizon too)
    python benchmarks/bench_mpc.py --part pendulum      # MPC (CEM, learned ensemble) on Pendulum-v1
    python benchmarks/bench_mpc.py --part ablations     # horizon only vs terminal value, random
                                                        # shooting, fit once, true model (2 seeds)
    python benchmarks/bench_mpc.py --part dqn_control   # DQN with the MPC agent's updates per real step
    python benchmarks/bench_mpc.py --part simple_control  # DQN at the simple MBRL recipe's 7 updates/step
    python benchmarks/bench_mpc.py --part grid          # the H x N slider grid, on frozen learned models
    python benchmarks/bench_mpc.py --report
    python benchmarks/bench_mpc.py --quick              # checks that everything runs (no files written)

Solved: CartPole-v1, mean return of 5 real evaluation episodes >= 475; Pendulum-v1, >= -200,
evaluated after each training episode (evaluation episodes are not counted as real steps and
their data is not used for training). Real steps include the random warm-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

import mbrl_helpers  # noqa: E402,F401  (fixes torch's kernels; torch is imported only after it)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header  # noqa: E402

from mbrl_helpers.agents import dqn, imagined  # noqa: E402
from mbrl_helpers.core.reproducibility import kernel_settings, seed_torch  # noqa: E402
from mbrl_helpers.planners import mpc  # noqa: E402
from mbrl_helpers.results import results_dir  # noqa: E402
from mbrl_helpers.worlds import simulators  # noqa: E402

RESULTS = results_dir()   # the package's committed results (mbrl_helpers/results/)
SCHEMA = 1
SEEDS = (0, 1, 2, 3, 4)
ABLATION_SEEDS = (0, 1)
MPC_BUDGET = 3_000          # real steps per MPC run at most (warm-up included)
DQN_BUDGET = 10_000         # real steps per updates-matched DQN run at most (it stops once solved); at
                            # 5,000 no seed had solved, which left the ratio to MPC at "more than 2.99x"
DQN_CONTROL_UPDATES = 6     # updates per real step of the control: at least MPC's (H = 30), see report()
SIMPLE_CONTROL_BUDGET = 10_000   # real steps per DQN run at the simple recipe's replay ratio
SIMPLE_MBRL_UPDATES = 7     # the simple MBRL recipe's measured 7.1 DQN updates per real step (imagined.md)
MAX_EPISODES = 40
ABLATION_BUDGET = 2_000     # real steps per ablation run at most
GRID_H = (5, 10, 15, 20, 30)
GRID_N = (10, 30, 100, 300)
GRID_EPISODES = 2           # real episodes per grid cell
GRID_TRAIN_STEPS = 2_000    # real steps of the loop (default setting, seed 0) before the model is frozen
GRID_EPISODE_STEPS = 200    # grid episodes are cut after this many real steps (CartPole's 500 cost too much)

# imagined transitions per real step, iterations x N x H (each one step of every sampled sequence
# through one ensemble member): the compute side of the overview table
PLANNED_PER_REAL_STEP = {"cartpole": 3 * 100 * 15, "cartpole_h30": 3 * 50 * 30, "pendulum": 3 * 100 * 20}

Runner = Callable[[int], dict]


def mpc_record(result: mpc.MBRLResult, label: str) -> dict:
    return {"label": label, "seed": result.seed, "real_steps": result.real_steps.tolist(),
            "returns": np.round(result.returns, 2).tolist(),
            "eval_returns": np.round(result.eval_returns, 2).tolist(),
            "model_error": np.round(result.model_error, 4).tolist(),
            "plan_ms": np.round(result.plan_ms, 2).tolist(),
            "model_ms": np.round(result.model_ms, 2).tolist(),
            "steps_to_solve": result.steps_to_solve, "updates": result.updates,
            "model_updates": result.model_updates, "wall_time": round(result.wall_time, 1),
            "end_states": np.round(result.extra["end_states"], 3).tolist()}


def mpc_run(env_id: str, label: str, budget: int, quick: bool, **kwargs) -> Runner:
    def run(seed: int) -> dict:
        config = mpc.default_config(env_id)
        if quick:
            config = replace(config, horizon=5, samples=20, iterations=2, eval_episodes=1,
                             max_episode_steps=50,
                             value_updates=20, model=replace(config.model, max_epochs=3, hidden=16))
        result = mpc.run_mbrl(env_id, episodes=MAX_EPISODES if not quick else 2, seed=seed, config=config,
                              max_real_steps=budget if not quick else 300, **kwargs)
        return mpc_record(result, label)
    return run


def dqn_record(result: dqn.RunResult) -> dict:
    return {"label": result.label, "seed": result.seed, "eval_steps": result.eval_steps.tolist(),
            "eval_returns": result.eval_returns.tolist(), "steps_to_solve": result.steps_to_solve,
            "real_steps": result.real_steps, "updates": result.updates,
            "wall_time": round(result.wall_time, 1)}


def dqn_run(updates_per_step: int, budget: int, quick: bool) -> Runner:
    config = dqn.DQNConfig(updates_per_step=updates_per_step, max_steps=budget if not quick else 1_200)
    return lambda seed: dqn_record(dqn.train_dqn(config, seed, label=f"DQN, {updates_per_step} updates/step"))


def mpc_updates_per_step(folder: Path = RESULTS) -> float:
    """The lesson-setting MPC agent's gradient updates (model + terminal value) per real step on
    CartPole, over all its stored runs (0 if none is stored yet)."""
    runs, _ = load_runs("mpc.cartpole_h30.seeds*.json")
    runs = runs.get("MPC, CEM, H = 30, N = 50, learned ensemble + terminal value", [])
    real = sum(r["real_steps"][-1] for r in runs)
    return sum(r["updates"] for r in runs) / real if real else 0.0


def parts(quick: bool = False, part: str = "") -> dict[str, dict[str, Runner]]:
    b, a = MPC_BUDGET, ABLATION_BUDGET
    return {
        # the first setting tried (H = 15, N = 100), kept as the shorter-horizon comparison
        "cartpole": {"MPC, CEM, learned ensemble + terminal value":
                     mpc_run("CartPole-v1", "MPC", b, quick, horizon=15 if not quick else 6,
                             samples=100 if not quick else 10)},
        # a longer horizon as well as the terminal value (same cost per step: half the samples)
        "cartpole_h30": {"MPC, CEM, H = 30, N = 50, learned ensemble + terminal value":
                         mpc_run("CartPole-v1", "MPC H30", b, quick, horizon=30 if not quick else 6,
                                 samples=50 if not quick else 10)},
        "pendulum": {"MPC, CEM, learned ensemble": mpc_run("Pendulum-v1", "MPC", b, quick)},
        "ablations": {   # in order of what the lesson needs most (why the loop matters first)
            "CartPole, model fitted once on the warm-up data":
                mpc_run("CartPole-v1", "once", a, quick, refit=False),
            "Pendulum, model fitted once on the warm-up data":
                mpc_run("Pendulum-v1", "once", a, quick, refit=False),
            "CartPole, true model + terminal value":
                mpc_run("CartPole-v1", "true", a, quick, true_model=simulators.cartpole_step),
            "Pendulum, true model":
                mpc_run("Pendulum-v1", "true", a, quick, true_model=simulators.pendulum_step),
            "CartPole, random shooting + terminal value":
                mpc_run("CartPole-v1", "RS", a, quick, planner="random"),
            "Pendulum, random shooting":
                mpc_run("Pendulum-v1", "RS", a, quick, planner="random"),
            "CartPole, horizon 15, no terminal value":
                mpc_run("CartPole-v1", "H15", a, quick, terminal_value=False),
            "CartPole, horizon 30, no terminal value":
                mpc_run("CartPole-v1", "H30", a, quick, terminal_value=False, horizon=30 if not quick else 6),
        },
        "dqn_control": {f"DQN, {DQN_CONTROL_UPDATES} updates/step (updates-matched to MPC)":
                        dqn_run(DQN_CONTROL_UPDATES, DQN_BUDGET, quick)},
        "simple_control": {f"DQN, {SIMPLE_MBRL_UPDATES} updates/step (updates-matched to simple MBRL)":
                           dqn_run(SIMPLE_MBRL_UPDATES, SIMPLE_CONTROL_BUDGET, quick)},
    }


def default_seeds(part: str) -> tuple[int, ...]:
    return ABLATION_SEEDS if part == "ablations" else SEEDS


def run_part(part: str, seeds: tuple[int, ...], quick: bool = False, only: str = "") -> dict:
    """Run every (config, seed) of a part not yet in its results file; save after each run."""
    seed_torch(0)   # one thread (each run seeds torch itself)
    folder = RESULTS if not quick else Path(tempfile.mkdtemp())
    # seeds given on the command line get their own file, so parts can run side by side
    path = folder / (f"mpc.{part}.json" if seeds == default_seeds(part) else
                     f"mpc.{part}.seeds{'-'.join(map(str, seeds))}.json")
    stored = json.loads(path.read_text()) if path.exists() and not quick else {"runs": {}}
    stored["machine"] = machine_info(("numpy", "torch", "gymnasium")) | kernel_settings()
    for name, runner in parts(quick, part)[part].items():
        if only not in name:
            continue
        done = {r["seed"] for r in stored["runs"].get(name, [])}
        for seed in seeds:
            if seed in done:
                continue
            record = runner(seed)
            # re-read the file first: another process may have added runs of other configurations
            # to it meanwhile (e.g. two --only parts with the same seed), which must not be lost
            if path.exists() and not quick:
                stored["runs"] = {**stored["runs"], **json.loads(path.read_text())["runs"]}
            stored["runs"].setdefault(name, []).append(record)
            print(f"{part} | {name} | seed {seed}: solved at {record['steps_to_solve']} real steps, "
                  f"{record['updates']} updates, {record['wall_time']:.0f} s", flush=True)
            path.write_text(json.dumps(stored))
    return stored


# -- the slider grid ------------------------------------------------------------------------------

def grid_cells(env_id: str, quick: bool = False) -> dict:
    """Train the default loop (seed 0) for GRID_TRAIN_STEPS real steps, freeze model (and value),
    then for every (H, N) run GRID_EPISODES real episodes of MPC: mean return, ms per real step."""
    seed_torch(0)   # one thread (each run seeds torch itself)
    config = mpc.default_config(env_id)
    hs, ns, episodes = (GRID_H, GRID_N, GRID_EPISODES) if not quick else ((3, 5), (10, 20), 1)
    train_steps = GRID_TRAIN_STEPS if not quick else 150
    if quick:
        config = replace(config, max_episode_steps=20, value_updates=10,
                         model=replace(config.model, max_epochs=2))
    model = mpc.train_frozen(env_id, config, seed=0, real_steps=train_steps)
    cells = {}
    for h in hs:
        for n in ns:
            cell = replace(config, horizon=h, samples=n, max_episode_steps=GRID_EPISODE_STEPS)
            returns, ms = mpc.evaluate_frozen(model, cell, episodes=episodes, seed=100)
            cells[f"H={h} N={n}"] = {"horizon": h, "samples": n, "returns": np.round(returns, 1).tolist(),
                                     "ms_per_step": round(ms, 2)}
            print(env_id, h, n, np.round(returns), round(ms, 1), flush=True)
    return {"horizons": list(hs), "samples": list(ns), "episodes": episodes, "train_steps": train_steps,
            "episode_steps": GRID_EPISODE_STEPS,
            "cells": cells}


def run_grid(quick: bool = False) -> dict:
    folder = RESULTS if not quick else Path(tempfile.mkdtemp())
    grid = {"machine": machine_info(("numpy", "torch", "gymnasium")) | kernel_settings(),
            "CartPole-v1": grid_cells("CartPole-v1", quick), "Pendulum-v1": grid_cells("Pendulum-v1", quick)}
    (folder / "mpc.grid.json").write_text(json.dumps(grid))
    return grid


# -- the report -------------------------------------------------------------------------------------

def load_runs(pattern: str) -> tuple[dict, dict]:
    runs, machine = {}, {}
    for path in sorted(RESULTS.glob(pattern)):
        stored = json.loads(path.read_text())
        machine = stored.get("machine", machine)
        for name, results in stored.get("runs", {}).items():
            runs[name] = sorted(runs.get(name, []) + results, key=lambda r: r["seed"])
    return runs, machine


def budget_of(name: str, part: str = "") -> int:
    if part == "ablations":
        return ABLATION_BUDGET
    if "simple MBRL" in name:
        return SIMPLE_CONTROL_BUDGET
    return DQN_BUDGET if name.startswith("DQN") else MPC_BUDGET


def task_of(name: str, part: str) -> str:
    return "Pendulum-v1" if part == "pendulum" or name.startswith("Pendulum") else "CartPole-v1"


def summarise(name: str, runs: list[dict], part: str) -> dict:
    budget = budget_of(name, part)
    summary = imagined.steps_to_solve_summary([r["steps_to_solve"] for r in runs], budget)
    last = [r["real_steps"][-1] if isinstance(r["real_steps"], list) else r["real_steps"] for r in runs]
    row = {"method": name, "task": task_of(name, part), "part": part, **summary,
           "steps_by_seed": [r["steps_to_solve"] for r in runs],
           "updates_per_real_step": round(sum(r["updates"] for r in runs) / sum(last), 2),
           "ms_per_real_step": None, "model_ms_per_real_step": None,
           "model_calls_per_real_step": PLANNED_PER_REAL_STEP.get(part, 0)}
    if "plan_ms" in runs[0]:
        steps = [np.diff([0, *r["real_steps"]]) for r in runs]   # plan_ms is per episode: weight by its steps
        plan = sum(float(np.dot(s, r["plan_ms"])) for s, r in zip(steps, runs, strict=True))
        model = sum(float(np.dot(s, r["model_ms"])) for s, r in zip(steps, runs, strict=True))
        n = sum(float(s.sum()) for s in steps)
        row["ms_per_real_step"], row["model_ms_per_real_step"] = round(plan / n, 1), round(model / n, 1)
        row["best_eval_return_median"] = float(np.median([max(r["eval_returns"]) for r in runs]))
    else:
        row["ms_per_real_step"] = round(1000 * sum(r["wall_time"] for r in runs) / sum(last), 1)
    return row


def fmt(value: float, budget: int) -> str:
    return f"> {budget:,}" if not np.isfinite(value) else f"{value:,.0f}"


def report() -> dict:
    parts_runs, machine = {}, {}
    for part in ("cartpole", "cartpole_h30", "pendulum", "ablations", "dqn_control", "simple_control"):
        runs, m = load_runs(f"mpc.{part}.json")
        for name, more in load_runs(f"mpc.{part}.seeds*.json")[0].items():   # parts run seed by seed
            by_seed = {r["seed"]: r for r in more} | {r["seed"]: r for r in runs.get(name, [])}
            runs[name] = [by_seed[seed] for seed in sorted(by_seed)]   # one run per seed
        parts_runs[part], machine = runs, m or machine
    matched = mpc_updates_per_step()
    rows = [summarise(name, runs, part) for part, named in parts_runs.items() for name, runs in named.items()]
    by = {r["method"]: r for r in rows}
    mpc_row = by.get("MPC, CEM, H = 30, N = 50, learned ensemble + terminal value")
    control = next((r for r in rows if "updates-matched to MPC" in r["method"]), None)
    ratio = None
    if mpc_row and control and np.isfinite(mpc_row["median"]):
        ratio = (control["median"] / mpc_row["median"]) if np.isfinite(control["median"]) else float("inf")
    merged = {"schema": SCHEMA, "machine": machine, "table": rows, "runs": parts_runs,
              "dqn_control_ratio_of_medians": ratio, "mpc_updates_per_real_step": round(matched, 2),
              "dqn_control_updates_per_real_step": DQN_CONTROL_UPDATES,
              "solved_definition": "mean return of 5 real evaluation episodes after each training episode: "
                                   ">= 475 (CartPole-v1), >= -200 (Pendulum-v1); real steps include the "
                                   "random warm-up; evaluation episodes are not counted"}
    (RESULTS / "mpc.json").write_text(json.dumps(merged))
    lines = ["# MPC in the model-based RL loop: real steps to solve", "",
             "Solved: mean return of 5 real evaluation episodes after a training episode >= 475",
             "(CartPole-v1) or >= -200 (Pendulum-v1). Real steps include the random warm-up (200 steps);",
             "evaluation episodes are not counted and their data is not used. Unsolved runs count as more",
             "than the budget. Updates: gradient steps of model fitting (one Adam step of all ensemble",
             "members at once) plus the terminal value's TD updates, per real step; DQN's are its own.",
             "ms / real step: planning time per real step on one torch thread during the runs (model calls",
             "in brackets), wall time on a machine shared with other jobs (so inflated; the CPU time at the",
             "default setting, measured on its own, is in the slider grid below); for DQN, wall time of the",
             "whole run per real step. (The H = 15 CartPole run and Pendulum seeds 0-2 were timed in wall",
             "time, before the planner's clock became CPU time; every later run in CPU time.)", "",
             "| task | method | seeds | solved | median real steps | quartiles | budget | "
             "real steps by seed | "
             "updates / real step | ms / real step (model) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        b = r["budget"]
        ms = f"{r['ms_per_real_step']}" + (f" ({r['model_ms_per_real_step']})" if r["model_ms_per_real_step"]
                                           is not None else "")
        lines.append(f"| {r['task']} | {r['method']} | {r['runs']} | {r['solved']} | {fmt(r['median'], b)} | "
                     f"{fmt(r['q25'], b)} - {fmt(r['q75'], b)} | {b:,} | {r['steps_by_seed']} | "
                     f"{r['updates_per_real_step']} | {ms} |")
    if ratio is not None:
        bound = control["budget"] / mpc_row["median"]
        lines += ["", "Updates-matched DQN control / MPC, ratio of median real steps to solve CartPole-v1: " +
                  (f"{ratio:.1f}x" if np.isfinite(ratio) else
                   f"more than {bound:.1f}x (the control's median run did not solve within its "
                   f"{control['budget']:,} real steps)")]
    grid_path = RESULTS / "mpc.grid.json"
    if grid_path.exists():
        grid = json.loads(grid_path.read_text())
        for env_id in ("CartPole-v1", "Pendulum-v1"):
            g = grid[env_id]
            lines += ["", f"Slider grid, {env_id}: mean return of {g['episodes']} real episodes (ms per real "
                      f"step) with the model frozen after {g['train_steps']:,} real steps of the default "
                      "loop",
                      "", "| H \\ N | " + " | ".join(str(n) for n in g["samples"]) + " |",
                      "| --- |" + " --- |" * len(g["samples"])]
            for h in g["horizons"]:
                cells = [g["cells"][f"H={h} N={n}"] for n in g["samples"]]
                lines.append(f"| {h} | " + " | ".join(f"{np.mean(c['returns']):.0f} ({c['ms_per_step']:.0f})"
                                                    for c in cells) + " |")
    lines += ["", "Machine:", "", markdown_header(machine)]
    (RESULTS / "mpc.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("cartpole", "cartpole_h30", "pendulum", "ablations",
                                           "dqn_control", "simple_control", "grid"))
    parser.add_argument("--seeds", default="", help="comma-separated seeds (default: the part's)")
    parser.add_argument("--only", default="",
                        help="run only the part's configurations whose name contains this")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.quick:
        for part in ("cartpole", "pendulum"):
            run_part(part, (0,), quick=True)
        run_grid(quick=True)
    elif args.part == "grid":
        run_grid()
    elif args.part:
        seeds = (tuple(int(s) for s in args.seeds.split(",")) if args.seeds
                 else default_seeds(args.part))
        run_part(args.part, seeds, only=args.only)
    if args.report:
        report()
    print(f"{time.perf_counter() - start:.0f} s elapsed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
