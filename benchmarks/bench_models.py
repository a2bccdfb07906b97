"""Accuracy and speed of notebook 03's neural dynamics models (mbrl_helpers.learning.models).

    python3 course.py run benchmarks/bench_models.py          # full run (a few minutes on 2 cores)
    python3 course.py run benchmarks/bench_models.py --quick  # checks the code runs (small data, few epochs)

Per environment (CartPole-v1, Pendulum-v1), with 5000 random transitions, for a single
model and a 5-member ensemble: held-out one-step error normalised by the variance of the
true change per dimension (target < 0.01 on CartPole), termination accuracy (target 99%+;
the learned head and, for CartPole, the known rule on the predicted state), training time
and epochs, and predictions per second through the step-function interface, batched
(1024 states per call) vs one state per call. Also the notebook's slider redraw time.
Prints a table and writes models.md and models.json to mbrl_helpers/results/.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# before torch: importing mbrl_helpers fixes torch's CPU kernels (mbrl_helpers.core.reproducibility)
import mbrl_helpers  # noqa: E402, F401

# isort: split
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header, run_benchmark  # noqa: E402

from mbrl_helpers.course import widgets  # noqa: E402
from mbrl_helpers.learning import data, models  # noqa: E402

# Version of the JSON keys written below; mbrl_helpers.course.summary checks it. Bump it when they change.
SCHEMA = 1

ENVS = {"CartPole-v1": "learned", "Pendulum-v1": "never"}


def predictions_per_second(step, states: np.ndarray, actions: np.ndarray, batched: bool) -> float:
    """States predicted per second through step(), all in one call or one state per call."""
    start = time.perf_counter()
    if batched:
        step(states, actions)
    else:
        for i in range(len(states)):
            step(states[i:i + 1], actions[i:i + 1])
    return len(states) / (time.perf_counter() - start)


def measure(env_id: str, ensemble_size: int, train: data.Transitions, test: data.Transitions,
            config: models.ModelConfig) -> dict:
    start = time.perf_counter()
    model = models.train_ensemble(train, config, seed=0, progress=False)
    train_seconds = time.perf_counter() - start
    step = model.as_step_fn()
    error = models.one_step_error(step, test)
    row = {
        "env": env_id, "ensemble_size": ensemble_size, "transitions": len(train),
        "nmse_mean": float(error.normalized.mean()), "nmse_max": float(error.normalized.max()),
        "nmse_per_dim": [float(v) for v in error.normalized],
        "reward_mse": error.reward_mse,   # CartPole's reward is constant (1): its variance is 0
        "reward_nmse": float(error.reward_mse / test.rewards.var()) if test.rewards.var() > 1e-12 else None,
        "termination_accuracy": error.termination_accuracy,
        "never_terminates_accuracy": float(1 - test.terminated.mean()),
        "train_seconds": train_seconds, "epochs": len(model.history.train),
    }
    if env_id == "CartPole-v1":
        predicted = step(test.states, test.actions)[0]
        rule = models.cartpole_terminated(predicted)
        row["rule_termination_accuracy"] = float((rule == test.terminated).mean())
    reps = np.resize(np.arange(len(test)), 1024)
    states, actions = test.states[reps], test.actions[reps]
    step(states[:8], actions[:8])  # warm-up
    row["preds_per_s_batched"] = max(predictions_per_second(step, states, actions, True) for _ in range(3))
    row["preds_per_s_single"] = predictions_per_second(step, states[:200], actions[:200], False)
    return row


def slider_latency(model: models.Ensemble) -> dict:
    """Seconds for one redraw of notebook 03's slider: the callback, and callback + PNG render."""
    real = data.collect_trajectories("CartPole-v1", 5, 50, data.cartpole_balancing_policy(), seed=100)
    rollout = models.open_loop_rollout(model.as_step_fn(), real.states[:, 0], real.actions)
    callback, total, cpu = [], [], []
    for depth in (1, 10, 25, 50, 30):
        start, start_cpu = time.perf_counter(), time.process_time()
        fig = widgets.rollout_depth_figure(depth, depth % 5, real=real, predicted=rollout)
        middle = time.perf_counter()
        fig.savefig(io.BytesIO(), format="png")
        callback.append(middle - start)
        total.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)   # CPU time: what it costs without contention
        plt.close(fig)
    return {"callback_s_median": float(np.median(callback)), "with_render_s_median": float(np.median(total)),
            "with_render_s_max": float(np.max(total)), "with_render_cpu_s_median": float(np.median(cpu))}


def main(quick: bool) -> dict:
    torch.set_num_threads(1)
    n_train = 500 if quick else 5000
    max_epochs = 3 if quick else 100
    sizes = (1,) if quick else (1, 5)
    rows, cartpole_model = [], None
    for env_id, termination in ENVS.items():
        train = data.collect_transitions(env_id, n_train, seed=0)
        test = data.collect_transitions(env_id, 200 if quick else 2000, seed=1000)
        for size in sizes:
            config = models.ModelConfig(ensemble_size=size, hidden=64, layers=2, batch_size=256,
                                        max_epochs=max_epochs, patience=10, termination=termination)
            rows.append(measure(env_id, size, train, test, config))
            print(f"{env_id} E={size}: NMSE {rows[-1]['nmse_mean']:.2g}, {rows[-1]['train_seconds']:.1f} s",
                  flush=True)
        if env_id == "CartPole-v1":
            cartpole_model = models.train_ensemble(train, config, seed=0, progress=False)
    settings = {"transitions": n_train, "max_epochs": max_epochs, "patience": 10, "hidden": 64, "layers": 2,
                "batch_size": 256, "holdout": 0.1, "test_transitions": 200 if quick else 2000,
                "torch_threads": torch.get_num_threads(), "policy": "uniformly random"}
    machine = machine_info(("numpy", "torch", "gymnasium", "matplotlib"))
    machine["load_average_1_5_15_min"] = " ".join(f"{v:.1f}" for v in os.getloadavg())  # shared machine?
    return {"machine": machine, "settings": settings,
            "rows": rows, "slider": slider_latency(cartpole_model), "quick": quick}


def report(result: dict) -> str:
    lines = ["# Neural dynamics models (notebook 03)", "", markdown_header(result["machine"]), "",
             "Settings: " + ", ".join(f"{k} {v}" for k, v in result["settings"].items()), "",
             "| env | E | NMSE mean | NMSE worst dim | reward error / variance | termination (learned) | "
             "rule on predicted state | 'never ends' baseline | train s | epochs | preds/s batched (1024) "
             "| preds/s one at a time | speed-up |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        rule = f"{r['rule_termination_accuracy']:.4f}" if "rule_termination_accuracy" in r else "n/a"
        learned = f"{r['termination_accuracy']:.4f}" if r["env"] == "CartPole-v1" else "n/a (never ends)"
        reward = (f"{r['reward_nmse']:.2g}" if r["reward_nmse"] is not None
                  else f"MSE {r['reward_mse']:.1g} (r = 1 always)")
        lines.append(
            f"| {r['env']} | {r['ensemble_size']} | {r['nmse_mean']:.2g} | {r['nmse_max']:.2g} | "
            f"{reward} | {learned} | {rule} | {r['never_terminates_accuracy']:.3f} | "
            f"{r['train_seconds']:.1f} | {r['epochs']} | {r['preds_per_s_batched']:,.0f} | "
            f"{r['preds_per_s_single']:,.0f} | {r['preds_per_s_batched'] / r['preds_per_s_single']:.0f}x |")
    s = result["slider"]
    lines += ["", f"Slider (rollout depth) redraw: callback {s['callback_s_median']:.3f} s median; "
              f"with PNG render {s['with_render_s_median']:.3f} s median, "
              f"{s['with_render_s_max']:.3f} s max (wall clock); CPU time with render "
              f"{s['with_render_cpu_s_median']:.3f} s median.",
              "", "NMSE: held-out mean squared error of the next state per dimension divided by the variance "
              "of the true change s' - s (0 perfect, 1 = predicting the mean change). Target < 0.01 on "
              "CartPole with 5k transitions; termination accuracy target 99%+."]
    return "\n".join(lines)


if __name__ == "__main__":
    run_benchmark("models", main, report, sys.argv, schema=SCHEMA)
