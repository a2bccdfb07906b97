"""Tabular Dyna-Q (Sutton & Barto, section 8.2), compiled with numba.

The pieces are small functions the notebook teaches one at a time:

    epsilon_greedy      pick an action, breaking ties at random
    q_learning_update   one-step Q-learning on a real or a modelled transition
    model_update        remember what (s, a) led to: a deterministic tabular model
    model_sample        a previously seen state and an action taken there
    real_step           take an action in the maze, learn from it and remember it
    planning            n simulated Q-learning updates from the model
    dyna_q_episodes     the whole loop: act, learn, remember, plan

They are numba functions so the whole experiment of Figure 8.2 (30 runs) takes
a fraction of a second, yet each reads like the book's pseudocode. They can be
called from plain Python too. Their random numbers come from numba's own
generator, seeded with `seed_numba`, not from numpy's global one.

`run_dyna_q` is the experiment runner: many independent agents on a maze.
planning_steps = 0 is plain one-step tabular Q-learning.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit, prange

from mbrl_helpers.core.compiled import RNG_STATE_BYTES, checked, restore_rng_state, save_rng_state
from mbrl_helpers.core.numba_tools import (  # noqa: F401 - also tabular.X for the notebooks
    argmax_random_tie,
    random_index,
    row_max,
    seed_numba,
)
from mbrl_helpers.core.validation import (
    MAX_PLANNING_STEPS,
    check_agent_params,
    check_array,
    check_index,
    check_indices,
    check_int,
    check_number,
    check_unit_interval,
)
from mbrl_helpers.worlds.envs import ChangingMaze, GridMaze, as_maze

N_ACTIONS = 4


@njit(cache=True)
def epsilon_greedy(q_row: np.ndarray, epsilon: float) -> int:
    """With probability epsilon a uniformly random action, else a greedy one (random ties).

    q_row: (n_actions,) action values of the current state.
    """
    if np.random.random() < epsilon:
        return random_index(q_row.shape[0])
    return argmax_random_tie(q_row)


@njit(cache=True)
def q_learning_update(
    q: np.ndarray,
    s: int,
    a: int,
    r: float,
    s_next: int,
    terminated: bool,
    alpha: float,
    gamma: float,
) -> float:
    """Q(s,a) += alpha * (r + gamma * max_a' Q(s',a') - Q(s,a)); no bootstrap past the end.

    q: (n_states, n_actions), updated in place. Returns the TD error before the update.
    """
    target = r
    if not terminated:
        target += gamma * row_max(q[s_next])
    td_error = target - q[s, a]
    q[s, a] += alpha * td_error
    return td_error


class TabularModel(NamedTuple):
    """A deterministic tabular model: what each tried (s, a) led to last time.

    next_state: (n_states, n_actions) int64, -1 where (s, a) was never tried.
    reward:     (n_states, n_actions) float64.
    terminated: (n_states, n_actions) bool.
    seen_states: (n_states,) int64; its first n_seen[0] entries are the states
        tried so far, in the order first seen (so sampling one is O(1)).
    n_seen:     (1,) int64; a one-element array so compiled code can update it in place.
    """

    next_state: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    seen_states: np.ndarray
    n_seen: np.ndarray


def new_tabular_model(n_states: int, n_actions: int = N_ACTIONS) -> TabularModel:
    """An empty model: nothing tried yet."""
    return TabularModel(
        next_state=np.full((n_states, n_actions), -1, dtype=np.int64),
        reward=np.zeros((n_states, n_actions), dtype=np.float64),
        terminated=np.zeros((n_states, n_actions), dtype=np.bool_),
        seen_states=np.zeros(n_states, dtype=np.int64),
        n_seen=np.zeros(1, dtype=np.int64),
    )


@njit(cache=True)
def model_update(
    model: TabularModel, s: int, a: int, r: float, s_next: int, terminated: bool
) -> None:
    """Model(s, a) <- (r, s_next, terminated), assuming a deterministic world."""
    if row_max(model.next_state[s]) < 0:  # first action ever tried in s
        model.seen_states[model.n_seen[0]] = s
        model.n_seen[0] += 1
    model.next_state[s, a] = s_next
    model.reward[s, a] = r
    model.terminated[s, a] = terminated


@njit(cache=True)
def model_sample(model: TabularModel) -> tuple[int, int]:
    """A random previously seen state, and a random action previously taken in it."""
    s = model.seen_states[random_index(model.n_seen[0])]
    n_tried = 0
    for a in range(N_ACTIONS):
        if model.next_state[s, a] >= 0:
            n_tried += 1
    pick = random_index(n_tried)
    for a in range(N_ACTIONS):
        if model.next_state[s, a] >= 0:
            if pick == 0:
                return s, a
            pick -= 1
    return s, -1  # unreachable: every seen state has a tried action


# inline="always": numba puts the step's statements into each caller, so the runners compile
# to what they were when they held a copy of them (no call, no reference counting per step).
@njit(cache=True, inline="always")
def real_step(  # noqa: PLR0913 - compiled: a record of arrays would cost reference counting
    next_state: np.ndarray,
    reward: np.ndarray,
    terminated: np.ndarray,
    q: np.ndarray,
    model: TabularModel,
    s: int,
    a: int,
    alpha: float,
    gamma: float,
) -> tuple[int, bool]:
    """Steps (c)-(e) of the book's box: take action a in state s, learn from what happened.

    The real world is a deterministic maze given as tables (n_states, n_actions):
    next_state, reward, terminated. q (n_states, n_actions) and model are updated in
    place. Returns (s_next, terminated) of the step. Every Dyna agent of the package
    (Dyna-Q, Dyna-Q+, Dyna-MCTS) takes its real steps here; they differ in how they
    choose a and how they plan.
    """
    s_next = next_state[s, a]                                  # (c) take a; observe r, s'
    r = reward[s, a]
    done = terminated[s, a]
    q_learning_update(q, s, a, r, s_next, done, alpha, gamma)  # (d) direct RL
    model_update(model, s, a, r, s_next, done)                 # (e) model learning
    return s_next, done


# _nrt=False: planning allocates nothing, so it needs no reference counting; counting the
# references to the model's arrays on every update would cost a third of its time.
@njit(cache=True, _nrt=False)
def planning(
    q: np.ndarray,
    model: TabularModel,
    n: int,
    alpha: float,
    gamma: float,
    updates_at: np.ndarray | None = None,
) -> None:
    """n planning updates: Q-learning on transitions replayed from the model.

    updates_at: optional (n_states,) int64, incremented at each updated state
    (sweeping.where_updates_go maps where planning went).
    """
    for _ in range(n):
        s, a = model_sample(model)              # a seen state, an action tried there
        q_learning_update(
            q, s, a, model.reward[s, a], model.next_state[s, a], model.terminated[s, a], alpha, gamma
        )
        if updates_at is not None:
            updates_at[s] += 1


@njit(cache=True)
def dyna_q_episodes(  # noqa: PLR0913 - compiled: a record of arrays would cost reference counting
    next_state: np.ndarray,
    reward: np.ndarray,
    terminated: np.ndarray,
    start: int,
    q: np.ndarray,
    model: TabularModel,
    planning_steps: int,
    episodes: int,
    alpha: float,
    epsilon: float,
    gamma: float,
    max_steps_per_episode: int,
    stop_after_steps: int,
    visits: np.ndarray | None = None,
    updates_at: np.ndarray | None = None,
) -> np.ndarray:
    """Tabular Dyna-Q (the book's box on p. 164) for a number of episodes.

    The real world is a deterministic maze given as tables (n_states, n_actions):
    next_state, reward, terminated. q and model are updated in place.
    stop_after_steps > 0 stops in the middle of an episode after that many real
    steps in total (for snapshots such as Figure 8.3); -1 runs to the end.
    Returns steps: (episodes,) int64, real steps taken in each episode
    (0 for episodes not reached). visits, updates_at: optional (n_states,) int64,
    given together: real visits and Q updates per state are added to them.
    """
    steps = np.zeros(episodes, dtype=np.int64)
    total = 0
    for episode in range(episodes):
        s = start
        t = 0
        while True:
            a = epsilon_greedy(q[s], epsilon)                      # (b) choose an action
            s_next, done = real_step(next_state, reward, terminated,  # (c) take it, (d) direct
                                     q, model, s, a, alpha, gamma)    # RL, (e) model learning
            planning(q, model, planning_steps, alpha, gamma, updates_at)  # (f) planning
            if visits is not None:                                 # counts for maps of
                visits[s] += 1                                     # where updates went
                updates_at[s] += 1
            s = s_next
            t += 1
            total += 1
            if done or t >= max_steps_per_episode or total == stop_after_steps:
                break
        steps[episode] = t
        if total == stop_after_steps:
            break
    return steps


# -- the experiment runner: many agents, cut into slices Ctrl-C can stop between ----------
# A run's progress between slices: episode, state, steps in this episode, steps in all,
# planning updates still owed by the last real step, that step's next state and its end.
_EPISODE, _STATE, _T, _TOTAL, _OWED, _S_NEXT, _DONE, _STARTED = range(8)


@njit(cache=True, parallel=True)
def _dyna_q_slice(  # noqa: PLR0913 - compiled: loose arrays are free, a record of them costs reference counting
    next_state, reward, terminated, start, run_seeds, progress, rng_states, steps, q,
    model_next, model_reward, model_terminated, model_seen, model_n_seen,
    planning_steps, episodes, alpha, epsilon, gamma, max_steps_per_episode, stop_after_steps,
    budget,
):
    """Advance every run of run_dyna_q by about `budget` updates (real or planned).

    dyna_q_episodes' loop, draw for draw: the same calls (epsilon_greedy, real_step,
    planning) in the same order, so only the scheduling lives here. It can stop after
    any real step or any planning update and continue in the next call: progress
    (runs, 8) int64 and each run's generator state (rng_states) carry over. Returns
    the number of runs still going.
    """
    for run in prange(run_seeds.shape[0]):
        p = progress[run]
        if p[_EPISODE] >= episodes:
            continue
        if p[_STARTED] == 0:
            np.random.seed(run_seeds[run])
            p[_STATE], p[_STARTED] = start, 1
        else:
            restore_rng_state(rng_states[run])
        model = TabularModel(model_next[run], model_reward[run], model_terminated[run],
                             model_seen[run], model_n_seen[run])
        q_run = q[run]
        work = 0
        while work < budget and p[_EPISODE] < episodes:
            if p[_OWED] == 0:                                   # one real step, (b)-(e)
                s = p[_STATE]
                a = epsilon_greedy(q_run[s], epsilon)
                s_next, done = real_step(next_state, reward, terminated, q_run, model, s, a,
                                         alpha, gamma)
                p[_OWED], p[_S_NEXT], p[_DONE] = planning_steps, s_next, done
                work += 1
            if p[_OWED] > 0:                                     # (f), in pieces
                n = min(p[_OWED], max(budget - work, 1))
                planning(q_run, model, n, alpha, gamma)
                p[_OWED] -= n
                work += n
                if p[_OWED] > 0:
                    continue
            p[_STATE] = p[_S_NEXT]
            p[_T] += 1
            p[_TOTAL] += 1
            if p[_DONE] or p[_T] >= max_steps_per_episode or p[_TOTAL] == stop_after_steps:
                steps[run, p[_EPISODE]] = p[_T]
                p[_EPISODE] = episodes if p[_TOTAL] == stop_after_steps else p[_EPISODE] + 1
                p[_STATE], p[_T] = start, 0
        save_rng_state(rng_states[run])
    n_going = 0
    for run in range(run_seeds.shape[0]):
        if progress[run, _EPISODE] < episodes:
            n_going += 1
    return n_going


# Updates per run per slice: a slice of the book's Figure 8.2 set-up is well under 0.1 s.
SLICE_UPDATES = 1 << 20


def _run_sliced(tables, run_seeds, planning_steps, episodes, alpha, epsilon, gamma,  # noqa: PLR0913 - compiled: loose arrays are free, a record of them costs reference counting
                max_steps_per_episode, stop_after_steps=-1):
    """steps (runs, episodes) and q (runs, n_states, 4), computed slice by slice."""
    runs, n_states = run_seeds.shape[0], tables.next_state.shape[0]
    steps = np.zeros((runs, episodes), dtype=np.int64)
    q = np.zeros((runs, n_states, N_ACTIONS))
    model = (np.full((runs, n_states, N_ACTIONS), -1, dtype=np.int64),
             np.zeros((runs, n_states, N_ACTIONS)),
             np.zeros((runs, n_states, N_ACTIONS), dtype=np.bool_),
             np.zeros((runs, n_states), dtype=np.int64), np.zeros((runs, 1), dtype=np.int64))
    progress = np.zeros((runs, 8), dtype=np.int64)
    rng_states = np.zeros((runs, RNG_STATE_BYTES), dtype=np.uint8)
    budget = max(1, SLICE_UPDATES // runs)
    while _dyna_q_slice(tables.next_state, tables.reward, tables.terminated, tables.start,
                        run_seeds, progress, rng_states, steps, q, *model, planning_steps,
                        episodes, alpha, epsilon, gamma, max_steps_per_episode,
                        stop_after_steps, budget):
        pass  # back in Python between slices: KeyboardInterrupt lands here
    capped = (steps >= max_steps_per_episode).sum()
    return steps, q, int(capped)


@dataclass
class DynaQResult:
    """What run_dyna_q returns.

    steps: (runs, episodes) int64, real steps in each episode of each run.
    q: (runs, n_states, 4) float64, final action values of each run.
    run_seeds: (runs,) int64, the seed each run used (rerun one with it).
    """

    steps: np.ndarray
    q: np.ndarray
    run_seeds: np.ndarray
    planning_steps: int

    @property
    def mean_steps(self) -> np.ndarray:
        """(episodes,) steps per episode averaged over runs."""
        return self.steps.mean(axis=0)




def _fixed_maze(maze: GridMaze | str | gym.Env, function: str) -> GridMaze:
    """The GridMaze behind maze, refusing one whose walls move (these runners never move them)."""
    grid = as_maze(maze)
    if isinstance(grid, ChangingMaze):
        raise ValueError(
            f"{function} runs on a maze whose walls stay put; "
            f"{maze if isinstance(maze, str) else type(grid).__name__} changes its walls after "
            "switch_step steps: run it with "
            "dyna_q_plus.run_changing_maze (Dyna-Q and Dyna-Q+ on the blocking and shortcut mazes)"
        )
    return grid


def _warn_capped(n_capped: int, cap: int) -> None:
    if n_capped:
        warnings.warn(
            f"{n_capped} episode(s) stopped at max_steps_per_episode = {cap} before reaching "
            "the goal; their step counts are that cap, not the steps to the goal",
            RuntimeWarning, stacklevel=3,
        )


def run_seeds_from(seed: int, runs: int) -> np.ndarray:
    """Independent per-run seeds (runs,) int64 derived from one experiment seed."""
    check_int("seed", seed, low=0)
    check_int("runs", runs, low=1)
    return np.random.SeedSequence(int(seed)).generate_state(int(runs), dtype=np.uint32).astype(np.int64)


def run_dyna_q(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    maze: GridMaze | str | gym.Env,
    *,
    planning_steps: int,
    episodes: int,
    runs: int,
    seed: int,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    gamma: float = 0.95,
    max_steps_per_episode: int = 1_000_000,
) -> DynaQResult:
    """Run `runs` independent Dyna-Q agents on a maze for `episodes` episodes each.

    maze: a GridMaze, or the id of a registered one such as "mbrl/DynaMaze-v0"
        (walls that stay put; for the blocking and shortcut mazes see dyna_q_plus).
    planning_steps: n, simulated updates per real step (0: plain Q-learning).
    max_steps_per_episode: an episode stops there even without reaching the
        goal (a RuntimeWarning says so).
    Q starts at 0; ties are broken at random. Same seed, same result. The runs
    are computed in slices, so Ctrl-C ("Interrupt kernel") stops them within a second.
    """
    grid = _fixed_maze(maze, "run_dyna_q")
    check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_int("episodes", episodes, low=1)
    check_int("runs", runs, low=1)
    check_int("max_steps_per_episode", max_steps_per_episode, low=1)
    tables = grid.tables()
    run_seeds = run_seeds_from(seed, runs)
    steps, q, n_capped = _run_sliced(
        tables, run_seeds, int(planning_steps), int(episodes), float(alpha), float(epsilon),
        float(gamma), int(max_steps_per_episode),
    )
    _warn_capped(n_capped, max_steps_per_episode)
    return DynaQResult(steps=steps, q=q, run_seeds=run_seeds, planning_steps=int(planning_steps))


def q_snapshot(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    maze: GridMaze | str | gym.Env,
    *,
    planning_steps: int,
    seed: int,
    episode: int = 2,
    fraction: float = 0.5,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    gamma: float = 0.95,
    max_steps_per_episode: int = 1_000_000,
) -> np.ndarray:
    """One agent's Q, (n_states, 4), `fraction` of the way through episode `episode`.

    Figure 8.3 is this with episode=2, fraction=0.5. The agent is run once to
    learn how long that episode is, then rerun with the same seed and stopped
    halfway: the two runs are identical up to that point. max_steps_per_episode: an
    episode stops there even without reaching the goal (a RuntimeWarning says so).
    """
    grid = _fixed_maze(maze, "q_snapshot")
    check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_int("episode", episode, low=1)
    check_unit_interval("fraction", fraction)
    check_int("max_steps_per_episode", max_steps_per_episode, low=1)
    tables = grid.tables()
    run_seeds = run_seeds_from(seed, 1)
    args = (tables, run_seeds, int(planning_steps), int(episode), float(alpha),
            float(epsilon), float(gamma), int(max_steps_per_episode))
    steps, _, n_capped = _run_sliced(*args)
    _warn_capped(n_capped, max_steps_per_episode)
    stop = int(steps[0, : episode - 1].sum()) + max(1, round(fraction * steps[0, episode - 1]))
    return _run_sliced(*args, stop_after_steps=stop)[1][0]


def greedy_path(
    maze: GridMaze | str | gym.Env, q: np.ndarray, max_steps: int | None = None
) -> list[int]:
    """States visited by the greedy policy of q from S, until a goal or max_steps.

    q: (n_states, 4). Ties go to the lowest action index, so the path is
    deterministic. max_steps defaults to the number of cells. Returns the list
    of cell indices, start included; len(path) - 1 steps were taken.
    """
    grid = as_maze(maze)
    q = np.asarray(q)
    if q.shape != (grid.n_states, N_ACTIONS):
        raise ValueError(f"q must have shape ({grid.n_states}, 4) for this maze, got {q.shape}")
    limit = grid.n_states if max_steps is None else max_steps
    check_int("max_steps", limit, low=0)
    path = [grid.start]
    s = grid.start
    for _ in range(limit):
        if grid.is_goal(s):
            break
        s = grid.move(s, int(np.argmax(q[s])))
        path.append(s)
    return path


def reaches_goal(maze: GridMaze | str | gym.Env, path: list[int]) -> bool:
    """True if the path ends on a goal cell."""
    return as_maze(maze).is_goal(path[-1])


# -- checks on calls from Python (compiled callers skip them) -----------------------------
# Compiled code does not check indices: s = 5 on a 5-state table would write past the
# array. Every compiled piece above checks its arguments when called from Python.


def _check_q_table(q: object) -> np.ndarray:
    q = check_array("q", q, 2)
    if q.dtype != np.float64:
        raise ValueError(f"q must be a float64 array (n_states, n_actions), got {q.dtype}")
    return q


def _check_transition(n_states, n_actions, s, a, r, s_next, terminated) -> None:
    check_index("s", s, n_states, "state")
    check_index("a", a, n_actions, "action")
    check_number("r", r)
    check_index("s_next", s_next, n_states, "state")
    if not isinstance(terminated, (bool, np.bool_)):
        raise TypeError(f"terminated must be a bool, got {terminated!r}")


def _check_model(model: object, q: np.ndarray | None = None) -> None:
    if not isinstance(model, TabularModel):
        raise TypeError(f"model must be a TabularModel (new_tabular_model), got "
                        f"{type(model).__name__}")
    shape = model.next_state.shape
    if (len(shape) != 2 or shape[1] != N_ACTIONS or model.reward.shape != shape
            or model.terminated.shape != shape or model.seen_states.shape != shape[:1]
            or model.n_seen.shape != (1,)):
        raise ValueError(f"model must hold (n_states, {N_ACTIONS}) tables as "
                         f"new_tabular_model(n_states) makes them, got next_state {shape}")
    kinds = {"next_state": "i", "reward": "f", "terminated": "b", "seen_states": "i", "n_seen": "i"}
    for field, kind in kinds.items():
        if getattr(model, field).dtype.kind != kind:
            raise ValueError(f"model.{field} has dtype {getattr(model, field).dtype}; "
                             "new_tabular_model(n_states) makes the tables")
    if not 0 <= model.n_seen[0] <= shape[0]:
        raise ValueError(f"model.n_seen must be in [0, {shape[0]}], got {model.n_seen[0]}")
    check_indices("model.next_state", model.next_state, -1, shape[0] - 1, "state indices (-1: untried)")
    seen = model.seen_states[: model.n_seen[0]]
    check_indices("model.seen_states", seen, 0, shape[0] - 1, "state indices")
    if seen.size and (model.next_state[seen] < 0).all(axis=1).any():
        raise ValueError("model.seen_states lists a state with no tried action: "
                         "model_update records a state when its first action is tried")
    if q is not None and q.shape != shape:
        raise ValueError(f"q must have the model's shape {shape}, got {q.shape}")


def _check_epsilon_greedy(q_row, epsilon):
    q_row = check_array("q_row", q_row, 1)
    if not np.isfinite(q_row).all():
        raise ValueError(f"q_row must hold finite action values, got {q_row}")
    check_unit_interval("epsilon", epsilon)


def _check_q_learning_update(q, s, a, r, s_next, terminated, alpha, gamma):
    q = _check_q_table(q)
    _check_transition(q.shape[0], q.shape[1], s, a, r, s_next, terminated)
    check_unit_interval("alpha", alpha)
    check_unit_interval("gamma", gamma)


def _check_model_update(model, s, a, r, s_next, terminated):
    _check_model(model)
    _check_transition(model.next_state.shape[0], N_ACTIONS, s, a, r, s_next, terminated)


def _check_model_sample(model):
    _check_model(model)
    if model.n_seen[0] < 1:
        raise ValueError("model has no transitions yet: call model_update before sampling")


def _check_counts(q: np.ndarray, **counts: object) -> None:
    for name, value in counts.items():
        if value is None:
            continue
        value = check_array(name, value, 1, "i")
        if value.shape != q.shape[:1] or value.dtype != np.int64:
            raise ValueError(f"{name} must be an int64 array of shape {q.shape[:1]}, got shape "
                             f"{value.shape} dtype {value.dtype}")


def _check_planning(q, model, n, alpha, gamma, updates_at=None):
    q = _check_q_table(q)
    _check_counts(q, updates_at=updates_at)
    _check_model(model, q)
    check_int("n", n, low=0, high=MAX_PLANNING_STEPS)
    if n > 0 and model.n_seen[0] < 1:
        raise ValueError("model has no transitions yet: call model_update before planning")
    check_unit_interval("alpha", alpha)
    check_unit_interval("gamma", gamma)


def _check_maze_tables(next_state, reward, terminated) -> np.ndarray:
    """A deterministic maze as (n_states, 4) tables, as GridMaze.tables() makes them."""
    next_state = check_array("next_state", next_state, 2, "i")
    if next_state.shape[1] != N_ACTIONS or reward.shape != next_state.shape or \
            terminated.shape != next_state.shape:
        raise ValueError(f"next_state, reward and terminated must be (n_states, {N_ACTIONS}) "
                         "tables as GridMaze.tables() makes them")
    if next_state.min() < 0 or next_state.max() >= next_state.shape[0]:
        raise ValueError(f"next_state must hold state indices in [0, {next_state.shape[0] - 1}]")
    if not np.isfinite(reward).all():
        raise ValueError("reward must be finite")
    return next_state


def _check_q_and_model(q, model, shape: tuple[int, int]) -> np.ndarray:
    """An agent's q and model, both of the maze tables' shape (n_states, 4)."""
    q = _check_q_table(q)
    _check_model(model, q)
    if q.shape != shape:
        raise ValueError(f"q must have the tables' shape {shape}, got {q.shape}")
    return q


def _check_real_step(next_state, reward, terminated, q, model, s, a, alpha, gamma):  # noqa: PLR0913 - the kernel's arguments, checked
    next_state = _check_maze_tables(next_state, reward, terminated)
    _check_q_and_model(q, model, next_state.shape)
    check_index("s", s, next_state.shape[0], "state")
    check_index("a", a, N_ACTIONS, "action")
    check_unit_interval("alpha", alpha)
    check_unit_interval("gamma", gamma)


def check_dyna_q_episodes(  # noqa: PLR0913 - the parameters of dyna_q_episodes, checked
    next_state, reward, terminated, start, q, model, planning_steps, episodes, alpha, epsilon,
    gamma, max_steps_per_episode, stop_after_steps, visits=None, updates_at=None,
) -> None:
    """The checks dyna_q_episodes runs on a call from Python (sweeping.dyna_q_episode's too)."""
    next_state = _check_maze_tables(next_state, reward, terminated)
    check_index("start", start, next_state.shape[0], "state")
    q = _check_q_and_model(q, model, next_state.shape)
    check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_int("episodes", episodes, low=1)
    check_int("max_steps_per_episode", max_steps_per_episode, low=1)
    check_int("stop_after_steps", stop_after_steps, low=-1)
    if (visits is None) != (updates_at is None):
        raise ValueError("visits and updates_at are given together or not at all")
    _check_counts(q, visits=visits, updates_at=updates_at)


checked(_check_epsilon_greedy)(epsilon_greedy)
checked(_check_q_learning_update)(q_learning_update)
checked(_check_model_update)(model_update)
checked(_check_model_sample)(model_sample)
checked(_check_real_step)(real_step)
checked(_check_planning)(planning)
checked(check_dyna_q_episodes)(dyna_q_episodes)
