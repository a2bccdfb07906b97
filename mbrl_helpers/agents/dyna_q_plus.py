"""Dyna-Q+ and planning in a changing world (Sutton & Barto, section 8.3), compiled with numba.

When the world changes, a Dyna-Q agent keeps planning with what its model
remembers. Dyna-Q+ adds an exploration bonus to planned rewards,

    r + kappa * sqrt(tau),   tau = real steps since (s, a) was last tried,

so long-untried pairs look attractive in planning and the agent goes back to
check them. Its model also knows every action of a visited state: an action
never tried there is modelled as "stay where you are, reward 0" (the book's
footnote), so planning can reach it.

Three agents share one compiled loop, chosen by `agent`:

    Agent.DYNA_Q            Dyna-Q as in notebook 01 (model of tried pairs only;
                            it plans with tabular.planning)
    Agent.DYNA_Q_PLUS       bonus on planned rewards (the book's Dyna-Q+)
    Agent.DYNA_Q_PLUS_ACT   Exercise 8.4's variant: same model, bonus only in action
                            selection (greedy on Q(s, a) + kappa * sqrt(tau(s, a)))

(agents.Agent names every kind of agent once; DYNA_Q, DYNA_Q_PLUS and
DYNA_Q_PLUS_ACT here are its members.)

The world is continuing: on reaching the goal the agent is put back at S and
the step count goes on; after `switch_step` real steps the maze's walls change.
`run_changing_maze` returns the cumulative reward after every real step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from mbrl_helpers.agents.kinds import Agent, as_agent
from mbrl_helpers.agents.tabular import (
    N_ACTIONS,
    SLICE_UPDATES,
    TabularModel,
    epsilon_greedy,
    planning,
    q_learning_update,
    random_index,
    real_step,
    run_seeds_from,
)
from mbrl_helpers.core.compiled import (
    RNG_STATE_BYTES,
    bounds_checked_from_python,
    checked,
    restore_rng_state,
    save_rng_state,
)
from mbrl_helpers.core.validation import (
    check_agent_params,
    check_array,
    check_indices,
    check_int,
    check_number,
    check_table,
    check_unit_interval,
)
from mbrl_helpers.worlds.envs import ChangingMaze, ChangingMazeTables, maze_pair_tables

DYNA_Q, DYNA_Q_PLUS, DYNA_Q_PLUS_ACT = Agent.DYNA_Q, Agent.DYNA_Q_PLUS, Agent.DYNA_Q_PLUS_ACT
AGENTS = (DYNA_Q, DYNA_Q_PLUS, DYNA_Q_PLUS_ACT)
AGENT_NAMES = {agent: agent.label for agent in AGENTS}


@njit(cache=True)
def bonus_reward(r: float, kappa: float, tau: float) -> float:
    """Dyna-Q+'s planned reward r + kappa * sqrt(tau) (tau: real steps since last tried)."""
    return r + kappa * np.sqrt(tau)


@njit(cache=True)
def plus_planning(  # noqa: PLR0913 - compiled: arrays passed singly, no record to unpack
    q: np.ndarray,
    m_next: np.ndarray,
    m_reward: np.ndarray,
    m_term: np.ndarray,
    last_tried: np.ndarray,
    seen_states: np.ndarray,
    n_seen: int,
    n: int,
    now: int,
    kappa: float,
    alpha: float,
    gamma: float,
) -> None:
    """n Dyna-Q+ planning updates, the bonus on the planned reward.

    Each draws a seen state uniformly from seen_states[:n_seen] and any of its
    4 actions (untried ones are modelled as "stay, reward 0"), then makes a
    Q-learning update with reward m_reward[s, a] + kappa * sqrt(now - last_tried[s, a]).
    Model arrays m_next, m_reward, m_term, last_tried: (n_states, 4); now: real
    steps so far. q (n_states, 4) is updated in place.
    """
    for _ in range(n):
        s = seen_states[random_index(n_seen)]
        a = random_index(N_ACTIONS)
        r = bonus_reward(m_reward[s, a], kappa, now - last_tried[s, a])
        q_learning_update(q, s, a, r, m_next[s, a], m_term[s, a], alpha, gamma)


# A life's progress between slices: real steps so far, state, layout, goals, planning updates
# still owed by the last real step, that step's next state and whether it reached the goal.
_T, _STATE, _LAYOUT, _GOALS, _OWED, _S_NEXT, _DONE = range(7)


@njit(cache=True)
def _changing_maze_advance(  # noqa: C901, PLR0913 - compiled: a record of arrays would cost reference counting
    next_state, reward, terminated, walls_after, start, switch_step, total_steps, agent,
    planning_steps, kappa, alpha, epsilon, gamma, q, m_next, m_reward, m_term, last_tried,
    seen_states, n_seen, cumulative, progress, budget,
):
    """One agent's life in a changing maze, resumable: about `budget` updates (real or planned), then return.

    The model arrays, cumulative and progress (7,) int64 carry the life over between
    calls; stopping inside a real step's planning and continuing draws exactly the same
    numbers as one uninterrupted loop. The real step is tabular.real_step, Dyna-Q's own;
    the agents differ in how they choose the action, what else their model holds and how
    they plan.
    """
    # The model's arrays as tabular's model: real_step and tabular.planning work on them.
    model = TabularModel(m_next, m_reward, m_term, seen_states, n_seen)
    plus_model = agent != DYNA_Q
    scores = np.zeros(N_ACTIONS)
    t, s, layout, goals = progress[_T], progress[_STATE], progress[_LAYOUT], progress[_GOALS]
    owed, s_next, done = progress[_OWED], progress[_S_NEXT], progress[_DONE] != 0
    # The current layout's tables (n_states, 4), taken out of the (2, n_states, 4) ones when the
    # layout changes, not at every step (a view per step costs time).
    world_next, world_reward, world_term = next_state[layout], reward[layout], terminated[layout]
    work = 0
    while t < total_steps and work < budget:
        now = t + 1  # real steps taken, this one included
        if owed == 0:
            if t == switch_step:
                layout = 1
                world_next, world_reward, world_term = next_state[1], reward[1], terminated[1]
                if walls_after[s]:
                    s = start
            # choose: epsilon-greedy on Q, or on Q + bonus for Exercise 8.4's variant
            if agent == DYNA_Q_PLUS_ACT:
                for b in range(N_ACTIONS):
                    scores[b] = bonus_reward(q[s, b], kappa, t - last_tried[s, b])
                a = epsilon_greedy(scores, epsilon)
            else:
                a = epsilon_greedy(q[s], epsilon)
            n_seen_before = n_seen[0]
            s_next, done = real_step(world_next, world_reward, world_term, q, model, s, a, alpha,
                                     gamma)
            if plus_model and n_seen[0] > n_seen_before:
                # s is new: its untried actions are modelled "stay, reward 0", never tried
                # (last_tried 0), so planning can try them
                for b in range(N_ACTIONS):
                    if b != a:
                        m_next[s, b] = s
            last_tried[s, a] = now
            owed = planning_steps
            work += 1
        if owed > 0:  # planning, in pieces of at most the budget left
            n = min(owed, max(budget - work, 1))
            if plus_model:
                plus_planning(q, m_next, m_reward, m_term, last_tried, seen_states, n_seen[0], n,
                              now, kappa if agent == DYNA_Q_PLUS else 0.0, alpha, gamma)
            else:
                planning(q, model, n, alpha, gamma)
            owed -= n
            work += n
            if owed > 0:
                continue
        if done:
            goals += 1
            s = start  # continuing: back to S, the clock runs on
        else:
            s = s_next
        cumulative[t] = goals
        t += 1
    progress[_T], progress[_STATE], progress[_LAYOUT], progress[_GOALS] = t, s, layout, goals
    progress[_OWED], progress[_S_NEXT], progress[_DONE] = owed, s_next, done


def _new_life(n_states: int, total_steps: int, start: int) -> tuple[np.ndarray, ...]:
    """Model arrays, cumulative reward and progress of an agent that has not acted yet.

    last_tried[s, a] is the real step count when (s, a) was last tried; 0 for pairs never tried.
    """
    progress = np.zeros(7, dtype=np.int64)
    progress[_STATE] = start
    return (np.full((n_states, N_ACTIONS), -1, dtype=np.int64), np.zeros((n_states, N_ACTIONS)),
            np.zeros((n_states, N_ACTIONS), dtype=np.bool_),
            np.zeros((n_states, N_ACTIONS), dtype=np.int64),
            np.zeros(n_states, dtype=np.int64), np.zeros(1, dtype=np.int64),
            np.zeros(total_steps, dtype=np.int64), progress)


@njit(cache=True, parallel=True)
def _changing_maze_slice(  # noqa: PLR0913 - compiled: a record of arrays would cost reference counting
    next_state, reward, terminated, walls_after, start, switch_step, total_steps, agent,
    planning_steps, kappa, alpha, epsilon, gamma, run_seeds, rng_states, q, m_next, m_reward,
    m_term, last_tried, seen_states, n_seen, cumulative, progress, budget,
):
    """Advance every run by about `budget` updates, each on its own saved generator state."""
    for run in prange(run_seeds.shape[0]):
        if progress[run, _T] >= total_steps:
            continue
        if progress[run, _T] == 0 and progress[run, _OWED] == 0:
            np.random.seed(run_seeds[run])  # noqa: NPY002 - numba knows only the legacy API
        else:
            restore_rng_state(rng_states[run])
        _changing_maze_advance(
            next_state, reward, terminated, walls_after, start, switch_step, total_steps, agent,
            planning_steps, kappa, alpha, epsilon, gamma, q[run], m_next[run], m_reward[run],
            m_term[run], last_tried[run], seen_states[run], n_seen[run],
            cumulative[run], progress[run], budget)
        save_rng_state(rng_states[run])
    going = 0
    for run in range(run_seeds.shape[0]):
        if progress[run, _T] < total_steps:
            going += 1
    return going


class PlusSettings(NamedTuple):
    """One Dyna-Q / Dyna-Q+ agent's settings, as run_changing_maze documents them."""

    agent: Agent
    planning_steps: int
    kappa: float
    alpha: float
    epsilon: float
    gamma: float


def _changing_maze_runs(tables: ChangingMazeTables, switch_step: int, total_steps: int,
                        settings: PlusSettings, run_seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One agent's life for each seed in run_seeds (runs,), in parallel, in slices.

    Returns cumulative reward (runs, total_steps) int64 and final q (runs, n_states, 4).
    Each run seeds its own generator first and keeps its state between slices, so
    results depend neither on threads nor on slicing.
    """
    next_state, reward, terminated, walls_after, start = tables
    agent, planning_steps, kappa, alpha, epsilon, gamma = settings
    runs, n_states = run_seeds.shape[0], next_state.shape[1]
    q = np.zeros((runs, n_states, N_ACTIONS))
    lives = [np.stack(arrays) for arrays in zip(
        *(_new_life(n_states, total_steps, start) for _ in range(runs)), strict=True)]
    rng_states = np.zeros((runs, RNG_STATE_BYTES), dtype=np.uint8)
    budget = max(1, SLICE_UPDATES // runs)
    while _changing_maze_slice(next_state, reward, terminated, walls_after, start, switch_step,
                               total_steps, int(agent), planning_steps, kappa, alpha, epsilon, gamma,
                               run_seeds, rng_states, q, *lives, budget):
        pass  # back in Python between slices: KeyboardInterrupt lands here
    return lives[-2], q


@dataclass
class ChangingMazeResult:
    """What run_changing_maze returns.

    cumulative_reward: (runs, steps) int64, goals reached after each real step.
    q: (runs, n_states, 4) float64, final action values (Dyna-Q+: bonus included).
    run_seeds: (runs,) int64. switch_step: when the walls changed.
    """

    cumulative_reward: np.ndarray
    q: np.ndarray
    run_seeds: np.ndarray
    agent: Agent
    kappa: float
    planning_steps: int
    switch_step: int

    @property
    def mean(self) -> np.ndarray:
        """(steps,) cumulative reward averaged over runs."""
        return self.cumulative_reward.mean(axis=0)

    def reward_between(self, first: int, last: int) -> np.ndarray:
        """(runs,) reward collected in real steps first+1 .. last (0 <= first < last <= steps)."""
        steps = self.cumulative_reward.shape[1]
        check_int("first", first, low=0, high=steps - 1)
        check_int("last", last, low=first + 1, high=steps)
        before = self.cumulative_reward[:, first - 1] if first > 0 else 0
        return self.cumulative_reward[:, last - 1] - before

    def steps_to_first_goal_after_switch(self) -> np.ndarray:
        """(runs,) real steps from the switch until the next goal; -1 if none was reached."""
        after = self.cumulative_reward[:, self.switch_step:]
        base = self.cumulative_reward[:, self.switch_step - 1] if self.switch_step > 0 else 0
        reached = after > np.reshape(base, (-1, 1))
        first = np.argmax(reached, axis=1) + 1
        return np.where(reached.any(axis=1), first, -1)


def run_changing_maze(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    maze: ChangingMaze,
    *,
    agent: Agent | int | str,
    steps: int,
    runs: int,
    seed: int,
    planning_steps: int = 10,
    kappa: float = 1e-4,
    alpha: float = 1.0,
    epsilon: float = 0.1,
    gamma: float = 0.95,
) -> ChangingMazeResult:
    """Run `runs` independent agents for `steps` real steps in a changing maze.

    maze: a ChangingMaze (e.g. envs.make_blocking_maze()); its switch_step is used.
    agent: Agent.DYNA_Q, DYNA_Q_PLUS or DYNA_Q_PLUS_ACT (or its name, e.g. "DYNA_Q_PLUS").
    kappa (>= 0): bonus weight,
    ignored by DYNA_Q. Same seed, same result.
    """
    if not isinstance(maze, ChangingMaze):
        raise TypeError(f"maze must be a ChangingMaze, got {type(maze).__name__}")
    agent = as_agent(agent, AGENTS)
    check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_number("kappa", kappa, low=0)
    check_int("steps", steps, low=1)
    check_int("runs", runs, low=1)
    run_seeds = run_seeds_from(seed, runs)
    settings = PlusSettings(agent, int(planning_steps), float(kappa), float(alpha), float(epsilon),
                            float(gamma))
    cumulative, q = _changing_maze_runs(maze_pair_tables(maze), maze.switch_step, steps, settings,
                                        run_seeds)
    return ChangingMazeResult(cumulative, q, run_seeds, agent, float(kappa), planning_steps, maze.switch_step)


# -- checks on calls from Python (compiled callers skip them) -----------------------------
def _check_plus_planning(q, m_next, m_reward, m_term, last_tried, seen_states, n_seen, n, now,  # noqa: PLR0913 - checks the compiled kernel's arguments one for one
                         kappa, alpha, gamma):
    q = check_array("q", q, 2)
    n_states = q.shape[0]
    check_table("q", q, (n_states, N_ACTIONS), np.float64)
    check_table("m_next", m_next, (n_states, N_ACTIONS), np.int64)
    check_table("m_reward", m_reward, (n_states, N_ACTIONS), np.float64)
    check_table("m_term", m_term, (n_states, N_ACTIONS), np.bool_)
    check_table("last_tried", last_tried, (n_states, N_ACTIONS), np.int64)
    check_table("seen_states", seen_states, (n_states,), np.int64)
    check_int("n_seen", n_seen, low=0, high=n_states)
    check_int("n", n, low=0)
    if n > 0 and n_seen < 1:
        raise ValueError("n_seen must be >= 1 to plan: no state has been seen yet")
    seen = seen_states[:n_seen]
    check_indices("seen_states", seen, 0, n_states - 1, "state indices")
    # every action of a seen state is modelled (untried ones as "stay, reward 0")
    check_indices("m_next", m_next[seen], 0, n_states - 1, "state indices for every seen state")
    check_int("now", now, low=0)
    if seen.size and last_tried[seen].max() > now:
        raise ValueError(f"now ({now}) must be >= last_tried of every seen pair "
                         f"(got {last_tried[seen].max()}): tau = now - last_tried")
    check_number("kappa", kappa, low=0)
    check_unit_interval("alpha", alpha)
    check_unit_interval("gamma", gamma)


checked(_check_plus_planning)(plus_planning)

# Calls from Python run bounds-checked twins (an index out of range: ValueError, not a crash);
# compiled callers keep the kernels as they are.
bounds_checked_from_python(plus_planning)
