"""The model interface every planner of the course shares, and two perfect simulators.

A model is a plain step function, batched over states (as in DeepMind's mctx):

    step(states, actions) -> (next_states, rewards, terminated)

    states:      (B, D) float64 for CartPole, (B,) int64 cell indices for a maze
    actions:     (B,) int64
    next_states: same shape and dtype as states
    rewards:     (B,) float64
    terminated:  (B,) bool, True where the transition ends the episode

A perfect simulator, a tabular model and a neural ensemble all sit behind this
one signature, so Monte Carlo planning and MCTS never care which one they got.

Perfect simulators here:

    maze_step_fn(maze)   any GridMaze layout, read from its tables
    cartpole_step        CartPole-v1's physics as a pure function of the state

Both also carry a compiled twin (a `compiled_model` attribute, read by
`compiled_model(step_fn)`) that the search uses as its fast path; a plain Python
step function (e.g. a neural model) always works, and the search warns when a
step function without a twin is searched on the compiled path's behalf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import njit

from mbrl_helpers.core.compiled import bounds_checked_from_python
from mbrl_helpers.worlds.envs import GridMaze, as_maze

StepFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""step(states, actions) -> (next_states, rewards, terminated); see the module docstring."""

# -- CartPole-v1 (gymnasium's CartPoleEnv, Euler integration) -----------------
GRAVITY = 9.8            # m/s^2
MASS_CART = 1.0          # kg
MASS_POLE = 0.1          # kg
TOTAL_MASS = MASS_CART + MASS_POLE
HALF_LENGTH = 0.5        # m, half the pole's length
POLEMASS_LENGTH = MASS_POLE * HALF_LENGTH
FORCE_MAG = 10.0         # N
TAU = 0.02               # s between state updates
THETA_THRESHOLD = 12 * 2 * math.pi / 360   # rad (12 degrees)
X_THRESHOLD = 2.4        # m
CARTPOLE_N_ACTIONS = 2   # 0 push left, 1 push right
CARTPOLE_STATE_DIM = 4   # x (m), x_dot (m/s), theta (rad), theta_dot (rad/s)

TABLE_KIND, CARTPOLE_KIND = 0, 1
MAZE_KIND = TABLE_KIND  # a maze's perfect model is a table that knows every pair


def _check_actions(actions: np.ndarray, batch: int, n_actions: int) -> np.ndarray:
    actions = np.asarray(actions)
    if actions.shape != (batch,) or not np.issubdtype(actions.dtype, np.integer):
        raise TypeError(
            f"actions must be an int64 array of shape ({batch},), got dtype {actions.dtype} "
            f"and shape {actions.shape}"
        )
    if batch and (actions.min() < 0 or actions.max() >= n_actions):
        raise ValueError(
            f"actions must be in 0..{n_actions - 1}, got values {np.unique(actions).tolist()}"
        )
    return actions.astype(np.int64, copy=False)


def cartpole_step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """CartPole-v1's step as a pure function, batched: the perfect model of the env.

    states: (B, 4) float64 [x (m), x_dot (m/s), theta (rad), theta_dot (rad/s)].
    actions: (B,) int64, 0 pushes the cart left, 1 right (10 N for 0.02 s).
    Returns next_states (B, 4) float64, rewards (B,) float64 (1 per step, the
    failing step included, as in gymnasium) and terminated (B,) bool (cart beyond
    2.4 m or pole beyond 12 degrees). Same constants, Euler integration and
    order of operations as gymnasium's CartPoleEnv.step.
    """
    states = np.asarray(states)
    if states.ndim != 2 or states.shape[1] != CARTPOLE_STATE_DIM:
        raise ValueError(f"states must have shape (B, 4) for CartPole, got {states.shape}")
    if not np.all(np.isfinite(states)):
        raise ValueError("states must be finite for CartPole; got NaN or inf")
    actions = _check_actions(actions, states.shape[0], CARTPOLE_N_ACTIONS)
    x, x_dot, theta, theta_dot = states.astype(np.float64, copy=False).T
    force = np.where(actions == 1, FORCE_MAG, -FORCE_MAG)
    costheta, sintheta = np.cos(theta), np.sin(theta)
    temp = (force + POLEMASS_LENGTH * np.square(theta_dot) * sintheta) / TOTAL_MASS
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (
        HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * np.square(costheta) / TOTAL_MASS)
    )
    xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS
    next_states = np.stack(
        [x + TAU * x_dot, x_dot + TAU * xacc, theta + TAU * theta_dot, theta_dot + TAU * thetaacc],
        axis=1,
    )
    new_x, new_theta = next_states[:, 0], next_states[:, 2]
    terminated = (np.abs(new_x) > X_THRESHOLD) | (np.abs(new_theta) > THETA_THRESHOLD)
    return next_states, np.ones(states.shape[0]), terminated


@njit(cache=True)
def cartpole_step_one(state: np.ndarray, action: int, out: np.ndarray) -> tuple[float, bool]:
    """Compiled scalar twin of cartpole_step: one (4,) state; writes the next state to out.

    Returns (reward, terminated). Same arithmetic, in the same order.
    """
    x, x_dot, theta, theta_dot = state[0], state[1], state[2], state[3]
    force = FORCE_MAG if action == 1 else -FORCE_MAG
    costheta, sintheta = math.cos(theta), math.sin(theta)
    temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (
        HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * (costheta * costheta) / TOTAL_MASS)
    )
    xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS
    out[0] = x + TAU * x_dot
    out[1] = x_dot + TAU * xacc
    out[2] = theta + TAU * theta_dot
    out[3] = theta_dot + TAU * thetaacc
    terminated = abs(out[0]) > X_THRESHOLD or abs(out[2]) > THETA_THRESHOLD
    return 1.0, terminated


# -- grid mazes ----------------------------------------------------------------
class MazeModel:
    """A GridMaze's perfect model behind the step-function interface.

    Call it as step(states, actions): states (B,) int64 open cell indices,
    actions (B,) int64 in 0..3 (up, down, left, right). Returns next_states (B,)
    int64, rewards (B,) float64 (1 on entering a goal) and terminated (B,) bool.
    A wall cell or an index outside the grid raises ValueError.
    """

    n_actions = 4

    def __init__(self, maze: GridMaze) -> None:
        self.maze = maze
        tables = maze.tables()
        self.next_state, self.reward, self.terminated = (
            tables.next_state, tables.reward, tables.terminated)
        self.open = ~maze.walls.ravel()

    def compiled_model(self) -> CompiledModel:
        """The compiled twin the search steps instead of calling this object."""
        return table_model(self.next_state, self.reward, self.terminated)

    def __call__(self, states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                          np.ndarray]:
        states = np.asarray(states)
        if states.ndim != 1 or not np.issubdtype(states.dtype, np.integer):
            raise TypeError(
                f"states must be an int64 array of cell indices, shape (B,), got dtype "
                f"{states.dtype} and shape {states.shape}"
            )
        bad = (states < 0) | (states >= self.open.shape[0])
        bad[~bad] = ~self.open[states[~bad]]
        if bad.any():
            raise ValueError(
                f"states must be open cells of this {self.maze.n_rows}x{self.maze.n_cols} maze "
                f"(0..{self.open.shape[0] - 1}, not walls), got {states[bad].tolist()}"
            )
        actions = _check_actions(actions, states.shape[0], self.n_actions)
        return (self.next_state[states, actions], self.reward[states, actions],
                self.terminated[states, actions])


def maze_step_fn(maze: GridMaze | str) -> MazeModel:
    """The perfect model of any GridMaze layout (or registered maze id), as a step function."""
    return MazeModel(as_maze(maze))


@njit(cache=True)
def maze_step_one(next_state: np.ndarray, reward: np.ndarray, terminated: np.ndarray,
                  state: np.ndarray, action: int, out: np.ndarray) -> tuple[float, bool]:
    """Compiled scalar twin of MazeModel: state is a (1,) float64 holding the cell index."""
    s = int(state[0])
    out[0] = next_state[s, action]
    return reward[s, action], terminated[s, action]


# -- the compiled fast path ------------------------------------------------------
class CompiledModel(NamedTuple):
    """A model the compiled search (search_core) steps without Python: one typed record.

    kind: TABLE_KIND (a maze, or a Dyna agent's learned table) or CARTPOLE_KIND.
    next_state: (n_states, A) int64 table, -1 where the table does not know the pair
        (a learned model's untried pair); a (1, 1) dummy for CartPole.
    reward: (n_states, A) float64; terminated: (n_states, A) bool (dummies for CartPole).
    unseen_terminal: what an unknown pair does: True ends the search there (reward 0),
        False stays in the same state (reward 0, not terminated).
    n_actions: the actions the model takes, 0..n_actions-1.
    States are (D,) float64 vectors: CartPole's 4 numbers, or a table's cell index in a (1,).
    """

    kind: int
    next_state: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    unseen_terminal: bool
    n_actions: int


_NO_TABLES = (np.zeros((1, 1), np.int64), np.zeros((1, 1)), np.zeros((1, 1), np.bool_))


def table_model(next_state: np.ndarray, reward: np.ndarray, terminated: np.ndarray,
                unseen_terminal: bool = False) -> CompiledModel:
    """A tabular model (the arrays are shared, not copied) as a CompiledModel."""
    return CompiledModel(TABLE_KIND, next_state, reward, terminated, bool(unseen_terminal),
                         int(next_state.shape[1]))


CARTPOLE_MODEL = CompiledModel(CARTPOLE_KIND, *_NO_TABLES, False, CARTPOLE_N_ACTIONS)
"""cartpole_step's compiled twin."""


def model_action_count(step_fn: StepFn) -> int | None:
    """How many actions step_fn takes, when it says (n_actions attribute, CartPole: 2); else None."""
    count = getattr(step_fn, "n_actions", None)
    return int(count) if isinstance(count, (int, np.integer)) and not isinstance(count, bool) else None


def compiled_model(step_fn: StepFn) -> CompiledModel | None:
    """The compiled twin of step_fn, or None if it has none.

    A step function names its twin itself: an attribute `compiled_model`, the record or a
    method returning it (cartpole_step, MazeModel and dyna_mcts.TabularModelStep have one).
    A wrapper (a lambda around cartpole_step, a neural model) has none: the search then
    runs its plain-Python path, and says so.
    """
    twin = getattr(step_fn, "compiled_model", None)
    if callable(twin):
        twin = twin()
    return twin if isinstance(twin, CompiledModel) else None


@njit(cache=True)
def model_step(model: CompiledModel, state: np.ndarray, action: int,
               out: np.ndarray) -> tuple[float, bool]:
    """One step of a CompiledModel from state (D,) float64; the next state is written to out.

    Returns (reward, terminated). A table pair the model does not know (-1) stays in
    place with reward 0 and ends the search if model.unseen_terminal.
    """
    if model.kind == CARTPOLE_KIND:
        return cartpole_step_one(state, action, out)
    s = int(state[0])
    s_next = model.next_state[s, action]
    if s_next < 0:
        out[0] = state[0]
        return 0.0, model.unseen_terminal
    out[0] = s_next
    return model.reward[s, action], model.terminated[s, action]


def check_step_output(step_fn: StepFn, states: np.ndarray, actions: np.ndarray) -> None:
    """Call step_fn once and raise TypeError/ValueError unless it keeps the interface."""
    out = step_fn(states, actions)
    if not isinstance(out, tuple) or len(out) != 3:
        raise TypeError("a step function must return (next_states, rewards, terminated)")
    next_states, rewards, terminated = (np.asarray(o) for o in out)
    batch = states.shape[0]
    if next_states.shape != states.shape:
        raise ValueError(f"next_states must have the states' shape {states.shape}, "
                         f"got {next_states.shape}")
    if rewards.shape != (batch,) or terminated.shape != (batch,):
        raise ValueError(f"rewards and terminated must have shape ({batch},), got "
                         f"{rewards.shape} and {terminated.shape}")
    if terminated.dtype != np.bool_:
        raise TypeError(f"terminated must be bool, got {terminated.dtype}")


# -- Pendulum-v1 (gymnasium's PendulumEnv, semi-implicit Euler) ------------------------------------
PENDULUM_G = 10.0         # m/s^2, gymnasium's default g
PENDULUM_MASS = 1.0       # kg
PENDULUM_LENGTH = 1.0     # m
PENDULUM_DT = 0.05        # s between state updates
PENDULUM_MAX_SPEED = 8.0  # rad/s
PENDULUM_MAX_TORQUE = 2.0  # N m


def pendulum_step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pendulum-v1's step as a pure function, batched: the perfect model of the env (g = 10).

    states: (B, 3) float64 observations [cos theta, sin theta, theta_dot (rad/s)], theta = 0 upright.
    actions: (B, 1) float64 torque (N m), clipped to [-2, 2]. Returns next_states (B, 3), rewards
    (B,) = -(theta^2 + 0.1 theta_dot^2 + 0.001 u^2) with theta wrapped to [-pi, pi), and terminated
    (B,) all False (Pendulum never terminates; it is truncated after 200 steps). Same arithmetic as
    gymnasium's PendulumEnv.step.
    """
    states = np.asarray(states, np.float64)
    if states.ndim != 2 or states.shape[1] != 3:
        raise ValueError(f"states must have shape (B, 3) for Pendulum, got {states.shape}")
    u = np.clip(np.asarray(actions, np.float64).reshape(len(states), -1)[:, 0],
                -PENDULUM_MAX_TORQUE, PENDULUM_MAX_TORQUE)
    theta, theta_dot = np.arctan2(states[:, 1], states[:, 0]), states[:, 2]
    wrapped = ((theta + np.pi) % (2 * np.pi)) - np.pi
    rewards = -(wrapped ** 2 + 0.1 * theta_dot ** 2 + 0.001 * u ** 2)
    new_dot = theta_dot + (3 * PENDULUM_G / (2 * PENDULUM_LENGTH) * np.sin(theta)
                           + 3.0 / (PENDULUM_MASS * PENDULUM_LENGTH ** 2) * u) * PENDULUM_DT
    new_dot = np.clip(new_dot, -PENDULUM_MAX_SPEED, PENDULUM_MAX_SPEED)
    new_theta = theta + new_dot * PENDULUM_DT
    next_states = np.stack([np.cos(new_theta), np.sin(new_theta), new_dot], axis=1)
    return next_states, rewards, np.zeros(len(states), bool)


cartpole_step.n_actions = CARTPOLE_N_ACTIONS
cartpole_step.compiled_model = CARTPOLE_MODEL  # its compiled twin, found by compiled_model()

# Calls from Python run bounds-checked twins (an index out of range: ValueError, not a crash);
# compiled callers keep the kernels as they are.
bounds_checked_from_python(cartpole_step_one)
bounds_checked_from_python(maze_step_one)
bounds_checked_from_python(model_step)
