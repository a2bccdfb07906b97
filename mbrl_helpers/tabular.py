"""Tabular Dyna-Q (Sutton & Barto, section 8.2), compiled with numba.

The pieces are small functions the notebook teaches one at a time:

    epsilon_greedy      pick an action, breaking ties at random
    q_learning_update   one-step Q-learning on a real or a modelled transition
    model_update        remember what (s, a) led to: a deterministic tabular model
    model_sample        a previously seen state and an action taken there
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

from dataclasses import dataclass
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit, prange

from mbrl_helpers.envs import GridMaze, as_maze
from mbrl_helpers.validation import check_int, check_unit_interval

N_ACTIONS = 4


@njit(cache=True)
def seed_numba(seed: int) -> None:
    """Seed numba's random generator (used by every compiled function here)."""
    np.random.seed(seed)


@njit(cache=True)
def random_index(n: int) -> int:
    """A uniform random integer in 0 .. n-1 (faster in numba than np.random.randint(n))."""
    return int(np.random.random() * n)


@njit(cache=True)
def row_max(values: np.ndarray) -> float:
    """Largest entry of a short 1-D array (a plain loop: np.max is slower on 4 entries)."""
    best = values[0]
    for i in range(1, values.shape[0]):
        if values[i] > best:
            best = values[i]
    return best


@njit(cache=True)
def argmax_random_tie(values: np.ndarray) -> int:
    """Index of the largest entry of a 1-D array, ties broken uniformly at random."""
    best = row_max(values)
    n_best = 0
    for v in values:
        if v == best:
            n_best += 1
    pick = random_index(n_best)
    for i in range(values.shape[0]):
        if values[i] == best:
            if pick == 0:
                return i
            pick -= 1
    return -1  # unreachable: some entry equals the max


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


@njit(cache=True)
def planning(q: np.ndarray, model: TabularModel, n: int, alpha: float, gamma: float) -> None:
    """n planning updates: Q-learning on transitions replayed from the model.

    Each update samples exactly as model_sample does (a seen state, then an
    action tried there; tests check the two agree draw for draw). The sampling
    is written out here rather than called because in numba every call that
    passes arrays pays reference counting, about a third of an update's cost.
    """
    next_state, reward, terminated = model.next_state, model.reward, model.terminated
    seen_states, n_seen = model.seen_states, model.n_seen[0]
    for _ in range(n):
        s = seen_states[random_index(n_seen)]          # a previously seen state ...
        n_tried = 0
        for a in range(N_ACTIONS):
            if next_state[s, a] >= 0:
                n_tried += 1
        pick = random_index(n_tried)                     # ... an action tried there
        a = 0
        while next_state[s, a] < 0 or pick > 0:
            if next_state[s, a] >= 0:
                pick -= 1
            a += 1
        q_learning_update(
            q, s, a, reward[s, a], next_state[s, a], terminated[s, a], alpha, gamma
        )


@njit(cache=True)
def dyna_q_episodes(
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
) -> np.ndarray:
    """Tabular Dyna-Q (the book's box on p. 164) for a number of episodes.

    The real world is a deterministic maze given as tables (n_states, n_actions):
    next_state, reward, terminated. q and model are updated in place.
    stop_after_steps > 0 stops in the middle of an episode after that many real
    steps in total (for snapshots such as Figure 8.3); -1 runs to the end.
    Returns steps: (episodes,) int64, real steps taken in each episode
    (0 for episodes not reached).
    """
    steps = np.zeros(episodes, dtype=np.int64)
    total = 0
    for episode in range(episodes):
        s = start
        t = 0
        while True:
            a = epsilon_greedy(q[s], epsilon)                      # (b), (c) act
            s_next = next_state[s, a]
            r = reward[s, a]
            done = terminated[s, a]
            q_learning_update(q, s, a, r, s_next, done, alpha, gamma)  # (d) direct RL
            model_update(model, s, a, r, s_next, done)             # (e) model learning
            planning(q, model, planning_steps, alpha, gamma)        # (f) planning
            s = s_next
            t += 1
            total += 1
            if done or t >= max_steps_per_episode or total == stop_after_steps:
                break
        steps[episode] = t
        if total == stop_after_steps:
            break
    return steps


@njit(cache=True, parallel=True)
def dyna_q_runs(
    next_state: np.ndarray,
    reward: np.ndarray,
    terminated: np.ndarray,
    start: int,
    run_seeds: np.ndarray,
    planning_steps: int,
    episodes: int,
    alpha: float,
    epsilon: float,
    gamma: float,
    max_steps_per_episode: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Independent Dyna-Q agents, one per seed in run_seeds (runs,), on the cores available.

    Each run seeds its own thread's generator before it starts, so results do
    not depend on how runs are spread over threads.
    Returns steps (runs, episodes) int64 and q (runs, n_states, 4) float64.
    """
    runs = run_seeds.shape[0]
    n_states = next_state.shape[0]
    steps = np.zeros((runs, episodes), dtype=np.int64)
    q = np.zeros((runs, n_states, N_ACTIONS))
    for run in prange(runs):
        np.random.seed(run_seeds[run])
        model = TabularModel(
            np.full((n_states, N_ACTIONS), -1, dtype=np.int64),
            np.zeros((n_states, N_ACTIONS)),
            np.zeros((n_states, N_ACTIONS), dtype=np.bool_),
            np.zeros(n_states, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
        )
        steps[run] = dyna_q_episodes(
            next_state, reward, terminated, start, q[run], model, planning_steps,
            episodes, alpha, epsilon, gamma, max_steps_per_episode, -1,
        )
    return steps, q


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


def _check_agent_params(
    planning_steps: int, alpha: float, epsilon: float, gamma: float
) -> None:
    check_int("planning_steps", planning_steps, low=0)
    check_unit_interval("alpha", alpha, low_open=True)
    check_unit_interval("epsilon", epsilon)
    check_unit_interval("gamma", gamma)


def run_seeds_from(seed: int, runs: int) -> np.ndarray:
    """Independent per-run seeds (runs,) int64 derived from one experiment seed."""
    check_int("seed", seed, low=0)
    return np.random.SeedSequence(seed).generate_state(runs, dtype=np.uint32).astype(np.int64)


def run_dyna_q(
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

    maze: a GridMaze, or the id of a registered one such as "mbrl/DynaMaze-v0".
    planning_steps: n, simulated updates per real step (0: plain Q-learning).
    Q starts at 0; ties are broken at random. Same seed, same result.
    """
    grid = as_maze(maze)
    _check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_int("episodes", episodes, low=1)
    check_int("runs", runs, low=1)
    check_int("max_steps_per_episode", max_steps_per_episode, low=1)
    tables = grid.tables()
    run_seeds = run_seeds_from(seed, runs)
    steps, q = dyna_q_runs(
        tables.next_state, tables.reward, tables.terminated, tables.start, run_seeds,
        planning_steps, episodes, alpha, epsilon, gamma, max_steps_per_episode,
    )
    return DynaQResult(steps=steps, q=q, run_seeds=run_seeds, planning_steps=planning_steps)


def q_snapshot(
    maze: GridMaze | str | gym.Env,
    *,
    planning_steps: int,
    seed: int,
    episode: int = 2,
    fraction: float = 0.5,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    gamma: float = 0.95,
) -> np.ndarray:
    """One agent's Q, (n_states, 4), `fraction` of the way through episode `episode`.

    Figure 8.3 is this with episode=2, fraction=0.5. The agent is run once to
    learn how long that episode is, then rerun with the same seed and stopped
    halfway: the two runs are identical up to that point.
    """
    grid = as_maze(maze)
    _check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_int("episode", episode, low=1)
    check_unit_interval("fraction", fraction)
    tables = grid.tables()
    (run_seed,) = run_seeds_from(seed, 1)

    def run(stop_after: int) -> tuple[np.ndarray, np.ndarray]:
        seed_numba(run_seed)
        q = np.zeros((grid.n_states, N_ACTIONS))
        steps = dyna_q_episodes(
            tables.next_state, tables.reward, tables.terminated, tables.start,
            q, new_tabular_model(grid.n_states), planning_steps, episode,
            alpha, epsilon, gamma, 1_000_000, stop_after,
        )
        return steps, q

    steps, _ = run(-1)
    stop = int(steps[: episode - 1].sum()) + max(1, round(fraction * steps[episode - 1]))
    return run(stop)[1]


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
