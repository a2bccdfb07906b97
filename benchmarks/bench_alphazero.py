"""Batched PUCT and the AlphaZero-style agent on CartPole with a learned model (notebook 07).

    python3 course.py run benchmarks/bench_alphazero.py --part speed     # simulations/s vs batch size
    python3 course.py run benchmarks/bench_alphazero.py --part agent --seeds 0,1   # one file per seed
    python3 course.py run benchmarks/bench_alphazero.py --part agent --simulations 64  # 64 simulations
    python3 course.py run benchmarks/bench_alphazero.py --report         # merge into alphazero.md/.json
    python3 course.py run benchmarks/bench_alphazero.py --quick          # checks the code runs (CI)

speed: simulations per second of puct.batched_search with the policy-value network as the
leaf evaluator, batch_size 1 (one model call and one network call per node) vs 8, 16, 32,
all in the same run from the same CartPole states; once with the true model
(simulators.cartpole_step: the network's cost alone) and once with a learned model
(a models.Ensemble of 5 x 64 trained on 2,000 random transitions: the realistic case).
Also the share of the search's time spent outside the model and network calls
(selection, expansion bookkeeping and backup).

agent: alphazero.train_alphazero with its default config, real steps to 475 (notebook 04's
protocol) per seed, against the DQN numbers read from the results file imagined.json
(not re-run). Per-run curves and the value / prior log are stored for the notebook.
Runs with another simulation budget (--simulations) or sampled training actions
(--sample-actions) form their own row.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

# before torch: importing mbrl_helpers fixes torch's CPU kernels (mbrl_helpers.core.reproducibility)
import mbrl_helpers  # noqa: F401

# isort: split
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header  # noqa: E402

from mbrl_helpers.agents import alphazero as az  # noqa: E402
from mbrl_helpers.agents import imagined  # noqa: E402
from mbrl_helpers.learning import models  # noqa: E402
from mbrl_helpers.planners import puct  # noqa: E402
from mbrl_helpers.results import results_dir  # noqa: E402
from mbrl_helpers.worlds import simulators as sim  # noqa: E402

SCHEMA = 1
RESULTS = results_dir()   # the package's committed results (mbrl_helpers/results/)
SEEDS = (0, 1, 2, 3, 4)
BATCHES = (1, 8, 16, 32)
DQN_ROWS = ("DQN, 1 update/step", "DQN, 4 updates/step (replay-matched)")


# -- speed ---------------------------------------------------------------------------------------
class Timed:
    """Wrap a model or evaluator: count the seconds spent inside it."""

    def __init__(self, fn) -> None:
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args):
        start = time.perf_counter()
        out = self.fn(*args)
        self.seconds += time.perf_counter() - start
        return out


def learned_cartpole_model(n: int, seed: int = 0) -> sim.StepFn:
    """A models.Ensemble (notebook 04's MODEL) trained on n transitions of random play."""
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    state, _ = env.reset(seed=seed)
    rows = {k: [] for k in ("states", "actions", "rewards", "next_states", "terminated")}
    for _ in range(n):
        action = int(rng.integers(2))
        nxt, reward, terminated, truncated, _ = env.step(action)
        for key, value in zip(rows, (state, action, reward, nxt, terminated), strict=True):
            rows[key].append(value)
        state = env.reset()[0] if terminated or truncated else nxt
    data = {k: np.asarray(v) for k, v in rows.items()}
    ensemble = models.train_ensemble(data, imagined.MODEL, seed, n_actions=2, progress=False)
    return ensemble.as_step_fn("mean")


def root_states(count: int, seed: int = 0) -> np.ndarray:
    """Near-upright CartPole states (as after a reset), (count, 4)."""
    return np.random.default_rng(seed).uniform(-0.05, 0.05, size=(count, 4))


def search_speed(step_fn, n_simulations: int, states: np.ndarray, repeats: int) -> list[dict]:
    """Simulations/s of batched_search with an (untrained) network evaluator per batch size."""
    torch.manual_seed(0)
    net = az.PolicyValueNet(4, 2, hidden=64)
    rows = []
    for batch in BATCHES:
        model, evaluator = Timed(step_fn), Timed(az.network_evaluator(net, 100.0))
        puct.batched_search(model, states[0], evaluator, n_actions=2, n_simulations=8, batch_size=batch)
        best = None
        for _ in range(repeats):                      # the fastest repeat: least disturbed by the load
            model.seconds = evaluator.seconds = 0.0
            calls = {"model": 0, "net": 0}
            start = time.perf_counter()
            for state in states:
                r = puct.batched_search(model, state, evaluator, n_actions=2, n_simulations=n_simulations,
                                        batch_size=batch, check_model=False)
                calls["model"] += r.model_calls
                calls["net"] += r.evaluator_calls
            seconds = time.perf_counter() - start
            if best is None or seconds < best[0]:
                best = (seconds, model.seconds + evaluator.seconds, dict(calls))
        seconds, inside, calls = best
        rows.append({"batch_size": batch, "sims_per_s": len(states) * n_simulations / seconds,
                     "model_calls_per_search": calls["model"] / len(states),
                     "network_calls_per_search": calls["net"] / len(states),
                     "bookkeeping_share": 1 - inside / seconds})
    base = rows[0]["sims_per_s"]
    for row in rows:
        row["ratio_vs_batch_1"] = row["sims_per_s"] / base
    return rows


def run_speed(quick: bool) -> dict:
    torch.set_num_threads(1)
    n_sims, n_states, repeats = (32, 3, 1) if quick else (128, 40, 3)
    states = root_states(n_states)
    learned = learned_cartpole_model(300 if quick else 2_000)
    return {"n_simulations": n_sims, "root_states": n_states,
            "repeats": repeats,
            "true model": search_speed(sim.cartpole_step, n_sims, states, repeats),
            "learned model": search_speed(learned, n_sims, states, repeats),
            "machine": machine_info(("numpy", "numba", "torch")),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


# -- the agent -----------------------------------------------------------------------------------
QUICK_CONFIG = az.AlphaZeroConfig(
    n_simulations=8, batch_size=4, hidden=16, train_every=100, updates_per_phase=20, random_steps=100,
    refit_every=100, max_steps=200, eval_every=200, eval_episodes=1,
    model=models.ModelConfig(ensemble_size=2, hidden=16, termination="cartpole", max_epochs=2, patience=1))


def as_dict(result) -> dict:
    return {"label": result.label, "seed": result.seed, "eval_steps": result.eval_steps.tolist(),
            "eval_returns": result.eval_returns.tolist(), "steps_to_solve": result.steps_to_solve,
            "real_steps": result.real_steps, "updates": result.updates,
            "wall_time": round(result.wall_time, 2), "extra": result.extra}


def run_agent(seed: int, config: az.AlphaZeroConfig) -> dict:
    torch.set_num_threads(1)
    result = az.train_alphazero(config, seed)
    print(f"agent | seed {seed}: solved at {result.steps_to_solve} real steps, returns "
          f"{result.eval_returns.tolist()}, {result.wall_time:.0f} s", flush=True)
    return as_dict(result) | {"load_average": [round(x, 2) for x in os.getloadavg()]}


# -- the report ----------------------------------------------------------------------------------
def dqn_rows() -> list[dict]:
    table = json.loads((RESULTS / "imagined.json").read_text())["table"]
    return [row for row in table if row["method"] in DQN_ROWS]


def fmt_steps(value: float, budget: int) -> str:
    return f"> {budget:,}" if not np.isfinite(value) else f"{value:,.0f}"


def speed_lines(speed: dict) -> list[str]:
    lines = [f"Simulations per second of `puct.batched_search` ({speed['n_simulations']} simulations "
             f"per search, {speed['root_states']} near-upright roots, an untrained 64-unit policy-value "
             f"net as the leaf evaluator; fastest of {speed['repeats']} repeats; load average at the end "
             f"{speed['load_average']}). The last column is selection, backup and the glue around the "
             "calls (numba and numpy):", "",
             "| model | batch size | simulations/s | vs batch 1 | model calls / search | "
             "network calls / search | time outside model + network |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for model in ("true model", "learned model"):
        for row in speed[model]:
            lines.append(f"| {model} | {row['batch_size']} | {row['sims_per_s']:,.0f} | "
                         f"{row['ratio_vs_batch_1']:.1f}x | {row['model_calls_per_search']:.1f} | "
                         f"{row['network_calls_per_search']:.1f} | {row['bookkeeping_share']:.0%} |")
    return lines


def agent_row(label: str, runs: list[dict], budget: int) -> dict:
    summary = imagined.steps_to_solve_summary([r["steps_to_solve"] for r in runs], budget)
    real = sum(r["real_steps"] for r in runs)

    def mean_extra(key: str) -> float:
        return float(np.mean([r["extra"][key] for r in runs]))

    return {"method": label, **summary, "seeds": [r["seed"] for r in runs],
            "updates_per_real_step": round(sum(r["updates"] for r in runs) / real, 2),
            "simulations_per_real_step": mean_extra("simulations_per_step"),
            "model_calls_per_real_step": mean_extra("model_calls_per_step"),
            "network_calls_per_real_step": mean_extra("network_calls_per_step"),
            "wall_time_median": float(np.median([r["wall_time"] for r in runs])),
            "ms_per_real_step": round(1000 * sum(r["wall_time"] for r in runs) / real, 2)}


def agent_lines(groups: dict[str, list[dict]], budget: int) -> tuple[list[str], list[dict]]:
    """The table (agent rows, then the DQN rows of imagined.json) and per-seed curves."""
    agent_rows = [agent_row(label, runs, budget) for label, runs in groups.items() if runs]
    rows = agent_rows + dqn_rows()
    lines = ["| method | seeds | solved | median real steps to 475 | quartiles | budget | "
             "updates / real step | median wall time (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        b = r["budget"]
        lines.append(f"| {r['method']} | {r['runs']} | {r['solved']} | {fmt_steps(r['median'], b)} | "
                     f"{fmt_steps(r['q25'], b)} - {fmt_steps(r['q75'], b)} | {b:,} | "
                     f"{r['updates_per_real_step']} | {r['wall_time_median']:.0f} |")
    for row in agent_rows:
        lines += ["", f"{row['method']}, per real step: {row['simulations_per_real_step']:.0f} simulations, "
                  f"{row['model_calls_per_real_step']:.1f} model calls, "
                  f"{row['network_calls_per_real_step']:.1f} network calls (search only; "
                  f"{row['ms_per_real_step']} ms per real step in all, evaluation and model fits included)."]
    for label, runs in groups.items():
        lines += ["", f"{label}, per seed (real steps to 475; evaluation returns every 1,000 real steps):",
                  ""]
        for r in runs:
            lines.append(f"- seed {r['seed']}: {r['steps_to_solve']}; {r['eval_returns']}")
        lines += ["", f"{label}: the value and the prior on real steps not yet trained on (first searched "
                  "training phase -> last; value RMSE in return units, beside the targets' std, the error of "
                  "predicting their mean; prior agreement = the prior's argmax is the search's action):", ""]
        for r in runs:
            lines.append(f"- seed {r['seed']}: {learning_summary(r['extra']['log'])}")
    return lines, rows


def learning_summary(log: dict) -> str:
    """Value RMSE (and the targets' spread) and prior agreement at the first and last searched phase."""
    rmse = np.array(log["value_rmse"], dtype=float)
    spread = np.array(log["value_rmse_baseline"], dtype=float)
    agree = np.array(log["prior_agreement"], dtype=float)
    ok = np.flatnonzero(np.isfinite(rmse) & np.isfinite(agree))
    if ok.size == 0:
        return "no searched phase"
    a, b = ok[0], ok[-1]
    return (f"value RMSE {rmse[a]:.1f} -> {rmse[b]:.1f} (targets' std {spread[a]:.1f} -> {spread[b]:.1f}), "
            f"prior agreement {agree[a]:.0%} -> {agree[b]:.0%} "
            f"(real steps {log['step'][a]} -> {log['step'][b]})")


def agent_groups() -> dict[str, list[dict]]:
    """Stored agent runs: the default config, and any run with another simulation budget or sampling."""
    groups: dict[str, list[dict]] = {}
    default = az.AlphaZeroConfig().n_simulations
    for path in sorted(RESULTS.glob("alphazero.agent.*seed*.json")):
        run = json.loads(path.read_text())
        sims, sampled = run["config"]["n_simulations"], run["config"].get("sample_actions", False)
        label = f"AlphaZero-style, {sims} simulations"
        label += ", training actions sampled from the visit counts" if sampled else ""
        label += " (default)" if sims == default and not sampled else ""
        groups.setdefault(label, []).append(run)
    return dict(sorted(groups.items(), key=lambda kv: "(default)" not in kv[0]))


def config_dict(config: az.AlphaZeroConfig) -> dict:
    from dataclasses import asdict

    return asdict(config)


def report() -> dict:
    speed_path = RESULTS / "alphazero.speed.json"
    speed = json.loads(speed_path.read_text()) if speed_path.exists() else None
    groups = agent_groups()
    config = config_dict(az.AlphaZeroConfig())
    lines = ["# Batched PUCT and the AlphaZero-style agent (CartPole-v1, learned model)", "",
             "Regenerate: see the docstring of `benchmarks/bench_alphazero.py`. The machine (2 cores) was "
             "shared with other jobs: timings are rough, ratios within one run are the comparable part.", ""]
    if speed:
        lines += speed_lines(speed) + [""]
    rows = []
    if groups:
        lines += ["Real steps to 475 (mean greedy return over 5 real episodes >= 475, evaluated every "
                  "1,000 real steps; \"greedy\" for the agent = the search without root noise, acting by "
                  "most visits). DQN rows are read from `mbrl_helpers/results/imagined.json` "
                  "(not re-run).", ""]
        agent, rows = agent_lines(groups, config["max_steps"])
        lines += agent
        lines += ["", "Agent config (other rows differ only as their names say): "
                  + ", ".join(f"{k}={v}" for k, v in config.items() if k != "model")]
    machine = (speed or {}).get("machine") or machine_info(("numpy", "numba", "torch"))
    lines += ["", "Machine:", "", markdown_header(machine)]
    text = "\n".join(lines)
    (RESULTS / "alphazero.md").write_text(text + "\n")
    merged = {"schema": SCHEMA, "machine": machine, "speed": speed, "table": rows, "runs": groups,
              "config": config}
    (RESULTS / "alphazero.json").write_text(json.dumps(merged, indent=1, default=str) + "\n")
    print(text)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "agent"))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--simulations", type=int, default=az.AlphaZeroConfig().n_simulations,
                        help="the agent's simulations per real step (default: the config's)")
    parser.add_argument("--sample-actions", action="store_true",
                        help="while training, act by sampling the visit counts")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.quick:
        speed = run_speed(quick=True)
        print("\n".join(speed_lines(speed)))
        run = run_agent(0, QUICK_CONFIG)
        print("\n".join(agent_lines({"AlphaZero-style (quick)": [run]}, QUICK_CONFIG.max_steps)[0]))
    elif args.part == "speed":
        speed = run_speed(quick=False)
        (RESULTS / "alphazero.speed.json").write_text(json.dumps(speed, indent=1) + "\n")
        print("\n".join(speed_lines(speed)))
    elif args.part == "agent":
        for seed in (int(s) for s in args.seeds.split(",")):
            config = replace(az.AlphaZeroConfig(), n_simulations=args.simulations,
                             sample_actions=args.sample_actions or az.AlphaZeroConfig().sample_actions)
            run = run_agent(seed, config) | {"config": config_dict(config)}
            tag = "" if config == az.AlphaZeroConfig() else f"sims{args.simulations}."
            tag += "sampled." if config.sample_actions else ""
            path = RESULTS / f"alphazero.agent.{tag}seed{seed}.json"
            path.write_text(json.dumps(run, default=str) + "\n")
    if args.report:
        report()
    print(f"{time.perf_counter() - start:.0f} s elapsed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
