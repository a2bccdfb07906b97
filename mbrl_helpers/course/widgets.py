"""The plain functions behind the notebooks' sliders, and the one helper that wires them.

A callback takes the slider values as keyword arguments and returns a
matplotlib Figure. Tests call callbacks directly; notebooks only wire sliders
to them with `interactive_figure`. Results are cached, so moving a slider back
to a value already seen redraws at once.

Sections follow the lessons' order; notebook 05's H x N slider draws from its own figures module
(mpc_plots.grid_figure), and the learning-curve figure lives with the other figures (plots).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mbrl_helpers import results
from mbrl_helpers.agents import tabular
from mbrl_helpers.core.validation import check_int
from mbrl_helpers.course import plots
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

# == wiring a slider to a callback ===================================================================

def callback_error_message(callback: Callable, values: dict, error: BaseException) -> str:
    """What the output area under the sliders says when the callback raised."""
    settings = ", ".join(f"{name}={value!r}" for name, value in values.items())
    name = getattr(callback, "__name__", type(callback).__name__)
    return (f"Could not draw {name}({settings}):\n{type(error).__name__}: {error}\n"
            "Move a slider to try another setting.")


def interactive_figure(callback: Callable[..., Figure], **sliders):  # -> ipywidgets.VBox
    """Sliders above an output area that shows callback(**slider values).

    Each slider should have continuous_update=False, so the figure is redrawn
    once, on release. Returns the widget box to display.
    """
    import ipywidgets
    from IPython.display import display

    output = ipywidgets.Output()

    def redraw(_change: object = None) -> None:
        values = {name: slider.value for name, slider in sliders.items()}
        try:
            fig = callback(**values)
        except Exception as error:  # noqa: BLE001 - shown beside the slider, not in the kernel log
            output.outputs = ()  # the old figure would suggest the new setting worked
            output.append_stderr(callback_error_message(callback, values, error))
            return
        with output:
            output.clear_output(wait=True)
            display(fig)
        plt.close(fig)  # drawn once in the output area, not again by the inline backend

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([*sliders.values(), output])


# == notebook 01: the planning-steps slider (Figure 8.2) ============================================

@lru_cache(maxsize=512)
def dyna_maze_mean_steps(planning_steps: int, runs: int, episodes: int, seed: int) -> np.ndarray:
    """Mean steps per episode, (episodes,), of Dyna-Q on the Dyna Maze (cached; read-only)."""
    result = tabular.run_dyna_q(
        GridMaze(DYNA_MAZE_LAYOUT), planning_steps=planning_steps, episodes=episodes,
        runs=runs, seed=seed,
    )
    mean = result.mean_steps
    mean.flags.writeable = False
    return mean


K_SLIDER = range(0, 101, 5)  # the k values notebook 01's slider offers


def precompute_planning_steps(
    ks: range | list[int] = K_SLIDER, *, runs: int = 30, episodes: int = 50, seed: int = 0
) -> None:
    """Fill the cache for these k, so the slider only has to draw (about 0.1 s a move)."""
    from tqdm.auto import tqdm

    for k in tqdm(list(ks), desc="precomputing k"):
        check_int("k", k, low=0)
        dyna_maze_mean_steps(k, runs, episodes, seed)


def planning_steps_figure(k: int, *, runs: int = 30, episodes: int = 50, seed: int = 0) -> Figure:
    """Slider callback of notebook 01: steps per episode for k planning steps beside k = 0.

    k: planning steps per real step, 0..100 on the slider (any k >= 0 works).
    Averaged over `runs` agents (the book's 30). Returns the figure.
    """
    check_int("k", k, low=0)
    curves = {"k = 0 (Q-learning)": dyna_maze_mean_steps(0, runs, episodes, seed)}
    if k != 0:
        curves[f"k = {k} planning steps"] = dyna_maze_mean_steps(k, runs, episodes, seed)
    fig = plots.plot_steps_per_episode(
        curves, title=f"Dyna-Q with k = {k} planning steps ({runs} runs)"
    )
    return fig


# == notebook 02: the kappa slider of the shortcut maze (Figure 8.5) ===========

# Settings of notebook 02's changing-maze figures (see the notebook for why).
CHANGING_MAZE_SETTINGS = {"planning_steps": 10, "alpha": 1.0, "epsilon": 0.1, "gamma": 0.95}
KAPPA_SLIDER = (0.0, 1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2)  # the kappa values notebook 02's slider offers


@lru_cache(maxsize=64)
def shortcut_maze_mean(agent: int, kappa: float, runs: int, steps: int, seed: int) -> np.ndarray:
    """Mean cumulative reward, (steps,), of an agent in the shortcut maze (cached; read-only).

    agent: dyna_q_plus.DYNA_Q, DYNA_Q_PLUS or DYNA_Q_PLUS_ACT; settings CHANGING_MAZE_SETTINGS.
    """
    from mbrl_helpers.agents import dyna_q_plus
    from mbrl_helpers.worlds.envs import make_shortcut_maze

    result = dyna_q_plus.run_changing_maze(
        make_shortcut_maze(), agent=agent, steps=steps, runs=runs, seed=seed, kappa=kappa,
        **CHANGING_MAZE_SETTINGS,
    )
    mean = result.mean
    mean.flags.writeable = False
    return mean


def precompute_kappas(
    kappas: tuple[float, ...] = KAPPA_SLIDER, *, runs: int = 30, steps: int = 6000, seed: int = 0
) -> None:
    """Fill the cache for these kappa (and Dyna-Q), so the slider only has to draw."""
    from mbrl_helpers.agents.dyna_q_plus import DYNA_Q, DYNA_Q_PLUS

    shortcut_maze_mean(DYNA_Q, 0.0, runs, steps, seed)
    for kappa in kappas:
        shortcut_maze_mean(DYNA_Q_PLUS, float(kappa), runs, steps, seed)


def kappa_figure(kappa: float = 1e-3, *, runs: int = 30, steps: int = 6000, seed: int = 0) -> Figure:
    """Slider callback of notebook 02: the shortcut maze, Dyna-Q+ with this kappa beside Dyna-Q.

    kappa >= 0, the bonus weight (the slider offers KAPPA_SLIDER). Averaged over
    `runs` agents for `steps` real steps; the walls change at step 3000.
    """
    from mbrl_helpers.agents.dyna_q_plus import DYNA_Q, DYNA_Q_PLUS
    from mbrl_helpers.core.validation import check_number

    check_number("kappa", kappa, low=0)
    curves = {
        "Dyna-Q": shortcut_maze_mean(DYNA_Q, 0.0, runs, steps, seed),
        f"Dyna-Q+, kappa = {kappa:g}": shortcut_maze_mean(DYNA_Q_PLUS, float(kappa), runs, steps, seed),
    }
    top = max(float(c[-1]) for c in curves.values())
    return plots.plot_cumulative_reward(
        curves, switch_step=3000, ylim=(0, max(400.0, 1.05 * top)),
        title=f"Shortcut maze: Dyna-Q+ with kappa = {kappa:g} ({runs} runs)",
    )


# == notebook 03: the rollout-depth slider (open-loop model vs real CartPole) =====
# The model's 50-step rollouts are computed once (models.open_loop_rollout);
# a slider move only draws.

CARTPOLE_LABELS = ("cart position x (m)", "cart velocity (m/s)", "pole angle theta (rad)",
                   "pole angular velocity (rad/s)")


def rollout_depth_figure(depth: int = 10, start: int = 0, *, real: object, predicted: object,
                         labels: tuple[str, ...] = CARTPOLE_LABELS, dt: float = 0.02) -> Figure:
    """Slider callback of notebook 03: the model's first `depth` open-loop steps vs the real trajectory.

    real: data.Trajectories (states (N, H + 1, D), alive (N, H + 1)); predicted: models.Rollout
    of the same shape, rolled out from real.states[:, 0] with real.actions (computed once).
    depth: 1..H; start: which start state, 0..N-1; labels: (D,) axis labels with units;
    dt: seconds per step. Only draws, so a move takes about 0.1-0.2 s.
    """
    n, horizon_plus_one, dim = real.states.shape
    check_int("depth", depth, low=1, high=horizon_plus_one - 1)
    check_int("start", start, low=0, high=n - 1)
    steps = np.arange(horizon_plus_one)
    alive = real.alive[start]
    nrows = -(-dim // 2)
    # A modest dpi and fixed margins (tight_layout is slow) keep a redraw well under 0.5 s.
    fig, axes = plt.subplots(nrows, 2, figsize=(9, 2.6 * nrows), dpi=80, squeeze=False)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.9, wspace=0.3, hspace=0.45)
    for d, ax in enumerate(axes.flat):
        if d >= dim:
            ax.set_visible(False)
            continue
        ax.plot(steps[alive], real.states[start, alive, d], color=plots.COLOURS[0], linestyle="-",
                marker="o", markersize=3, markevery=5, label="real environment")
        ax.plot(steps[:depth + 1], predicted.states[start, :depth + 1, d], color=plots.COLOURS[1],
                linestyle="--", marker="s", markersize=3, markevery=5,
                label=f"model, {depth} steps open-loop")
        ax.axvline(depth, color=plots.COLOURS[2], linestyle=":", linewidth=1)
        ax.set_ylabel(labels[d])
        ax.set_xlabel(f"time step ({dt:g} s each)")
        ax.set_xlim(0, horizon_plus_one - 1)
    axes.flat[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"Open-loop rollout of the learned model: depth k = {depth}, start state {start}")
    return fig


# == notebook 04: the k x h slider (Dyna-DQN learning curves read from the benchmark grid) =======
# Curves come from benchmarks/bench_imagined.py's committed results (mbrl_helpers/results/).

def load_imagined_grid(path: str | Path | None = None) -> dict:
    """The k x h grid of Dyna-DQN learning curves (results file imagined.grid.json).

    path: read this file instead of the package's committed one.
    Returns {"runs": {"k=K h=H": [run dicts with eval_steps, eval_returns, ...]}, ...}.
    Raises MissingResultsError naming the file and the command that makes it.
    """
    command = "python3 course.py run benchmarks/bench_imagined.py --part grid"
    if path is None:
        return results.load_json("imagined.grid.json", command=command)
    path = Path(path)
    return results.load_json(path.name, folder=path.parent, command=command)


def imagined_grid_figure(k: int = 16, h: int = 3, *, grid: dict | None = None) -> Figure:
    """Slider callback of notebook 04: Dyna-DQN with k imagined transitions per real step
    from h-step rollouts, beside k = 0 (DQN at the same 4 updates per real step).

    k: 0, 16 or 64; h: 1, 3 or 5 (the values the benchmark grid holds).
    Draws precomputed curves only (well under 0.5 s).
    """
    grid = grid if grid is not None else load_imagined_grid()
    check_int("k", k, low=0)
    check_int("h", h, low=1)
    runs = grid["runs"]
    offered_k = sorted({int(name.split()[0][2:]) for name in runs})
    offered_h = sorted({int(name.split()[1][2:]) for name in runs})
    if k not in offered_k or h not in offered_h:
        raise ValueError(f"(k, h) = ({k}, {h}) is not in the precomputed grid; k must be one of "
                         f"{offered_k} and h one of {offered_h}")
    key = f"k={k} h={h}"
    baseline = next(name for name in runs if name.startswith("k=0 "))
    shown = [baseline] if k == 0 or key not in runs else [baseline, key]
    labelled = {("k = 0 (DQN, 4 updates/step)" if name == baseline else f"k = {k}, h = {h}"):
                [(np.asarray(r["eval_steps"]), np.asarray(r["eval_returns"])) for r in runs[name]]
                for name in shown}
    missing = " - this (k, h) was not measured" if k and key not in runs else ""
    if k == 0:  # no imagined transitions: the rollout length has nothing to act on
        title = "Dyna-DQN with k = 0: nothing is imagined, so h changes nothing (DQN, 4 updates/step)"
    else:
        title = (f"Dyna-DQN: k = {k} imagined transitions per real step, rollouts of h = {h} "
                 f"(benchmark){missing}")
    return plots.learning_curves_figure(labelled, max_steps=int(grid.get("budget", 10_000)), title=title)


def disable_h_when_k_is_zero(k_slider: object, h_slider: object) -> None:
    """Notebook 04's sliders: grey out the rollout-length slider h while k = 0.

    With k = 0 imagined transitions per real step no rollout is made, so h changes nothing; a
    disabled slider says so where the reader looks. k_slider, h_slider: ipywidgets sliders
    (anything with .value, .disabled and .observe).
    """
    def update(_change: object = None) -> None:
        h_slider.disabled = k_slider.value == 0

    k_slider.observe(update, names="value")
    update()


# == notebook 06: the MCTS slider (simulations, rollout depth, c) ================
# One search from a fixed CartPole state, redrawn as a tree.

MCTS_WIDGET_STATE = (0.0, 0.0, 0.05, 0.0)  # x (m), x_dot (m/s), theta (rad), theta_dot (rad/s)


def mcts_tree_figure(n_simulations: int = 100, depth: int = 20, c: float = 1.0, *,
                     seed: int = 0) -> Figure:
    """Slider callback of notebook 06: one UCT search from MCTS_WIDGET_STATE, drawn.

    n_simulations: 1..500 on the slider; depth: rollout depth 1..50; c >= 0.
    Returns the tree beside the root statistics (well under 0.5 s; see benchmarks).
    """
    from mbrl_helpers.course import tree_plot
    from mbrl_helpers.planners import mcts
    from mbrl_helpers.worlds import simulators

    result = mcts.mcts_search(
        simulators.cartpole_step, np.array(MCTS_WIDGET_STATE), n_actions=2,
        n_simulations=n_simulations, depth=depth, c=c, seed=seed,
    )
    return tree_plot.search_figure(
        result, gamma=1.0, action_names=("push left", "push right"),
        title=f"UCT on CartPole: {n_simulations} simulations, rollout depth {depth}, c = {c:g}",
    )


# == notebook 07: the budget x leaf-evaluation slider of Dyna-MCTS =================

BUDGET_SLIDER = (1, 2, 5, 10, 20, 50, 100)  # model calls of planning per real step


@lru_cache(maxsize=256)
def dyna_mcts_mean_steps(planner: str, budget: int, rollout_depth: int, searches: int, runs: int,
                         episodes: int, seed: int) -> np.ndarray:
    """Mean steps per episode, (episodes,), of a Dyna agent on the Dyna Maze (cached; read-only)."""
    from mbrl_helpers.agents import dyna_mcts

    mean = dyna_mcts.dyna_mcts_curves(planner, budget, rollout_depth, runs=runs, episodes=episodes,
                                      seed=seed, searches=searches)
    mean.flags.writeable = False
    return mean


def dyna_mcts_figure(budget: int = 5, rollout_depth: int = 0, *, runs: int = 10, episodes: int = 30,
                     seed: int = 0) -> Figure:
    """Slider callback of notebook 07: Dyna-Q vs Dyna-MCTS at the same model calls per real step.

    budget >= 1: model calls of planning per real step (Dyna-Q's n, the search's budget).
    rollout_depth >= 0: 0 values a new leaf by max_a Q; d > 0 by a random rollout of d steps.
    Three curves: Dyna-Q, one search from the current state, and the budget split into one
    search from the current state plus four from visited states (when budget >= 5).
    """
    check_int("budget", budget, low=1)
    check_int("rollout_depth", rollout_depth, low=0)
    leaf = "max_a Q at leaves" if rollout_depth == 0 else f"random rollouts of {rollout_depth} at leaves"
    curves = {
        f"Dyna-Q, n = {budget}": dyna_mcts_mean_steps("dyna-q", budget, 0, 1, runs, episodes, seed),
        f"Dyna-MCTS from the current state ({leaf})":
            dyna_mcts_mean_steps("mcts", budget, rollout_depth, 1, runs, episodes, seed),
    }
    if budget >= 5:
        curves["Dyna-MCTS, 1 search from the current + 4 from visited states"] = \
            dyna_mcts_mean_steps("mcts", budget, rollout_depth, 5, runs, episodes, seed)
    return plots.plot_steps_per_episode(
        curves, title=f"Dyna Maze: {budget} model calls of planning per real step ({runs} runs)")
