"""The MPC lesson's figures and slider callback (drawn from a small fake grid, and from a real plan)."""

import time

import gymnasium as gym
import matplotlib

import mbrl_helpers  # noqa: F401

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mbrl_helpers.course import mpc_plots  # noqa: E402
from mbrl_helpers.planners import mpc  # noqa: E402
from mbrl_helpers.worlds.simulators import cartpole_step, pendulum_step  # noqa: E402


def fake_grid():
    env = {"horizons": [5, 15], "samples": [10, 100], "episodes": 2, "train_steps": 1000,
           "cells": {f"H={h} N={n}": {"horizon": h, "samples": n, "returns": [h * n, h],
                                      "ms_per_step": h * n / 50}
                     for h in (5, 15) for n in (10, 100)}}
    return {"CartPole-v1": env, "Pendulum-v1": env}


def test_grid_figure_marks_the_chosen_cell_quickly():
    grid = fake_grid()
    start = time.perf_counter()
    fig = mpc_plots.grid_figure(15, 100, grid=grid)
    fig.canvas.draw()
    assert time.perf_counter() - start < 2.0   # generous: the benchmark measures the real latency
    assert "H = 15, N = 100" in fig._suptitle.get_text() and "return 758" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="H must be one of"):
        mpc_plots.grid_figure(7, 100, grid=grid)
    with pytest.raises(TypeError, match="samples"):
        mpc_plots.grid_figure(5, 1.5, grid=grid)


@pytest.mark.parametrize(("env_id", "step"), [("CartPole-v1", cartpole_step), ("Pendulum-v1", pendulum_step)])
def test_plans_figure_draws_one_planning_step(env_id, step):
    env = gym.make(env_id)
    config = mpc.replace(mpc.default_config(env), horizon=8, samples=30, iterations=2)
    state = env.reset(seed=0)[0].astype(np.float64)
    plan = mpc.plan(step, state, mpc.ActionSpace.of(env), config, np.random.default_rng(0))
    fig = mpc_plots.plans_figure(plan, env_id=env_id)
    assert fig.axes[0].get_xlabel() == "time into the plan (s)"
    plt.close(fig)


def test_curves_figure_and_missing_results(tmp_path):
    curves = {"MPC": [(np.array([300, 600]), np.array([100.0, 500.0])), (np.array([400]), np.array([480.0]))]}
    fig = mpc_plots.mpc_curves_figure(curves, max_steps=1000, solved_return=475, title="t", ylim=(0, 520))
    assert fig.axes[0].get_legend_handles_labels()[1] == ["MPC (2 seeds)"]
    plt.close(fig)
    with pytest.raises(FileNotFoundError, match="bench_mpc"):
        mpc_plots.load_mpc_results("mpc.json", tmp_path)


def test_the_pendulum_angle_turning_through_the_bottom_is_drawn_without_a_jump():
    theta = np.array([3.0, 3.1, 3.2, 3.3])   # through pi: atan2 alone jumps from about 3.1 to -3.1
    states = np.stack([np.cos(theta), np.sin(theta), np.zeros(4)], axis=-1)
    assert np.allclose(mpc_plots.plan_angle(states, "Pendulum-v1"), theta)
