"""Prioritized sweeping (Sutton & Barto, section 8.4, Example 8.4), compiled with numba.

Dyna-Q plans on pairs drawn uniformly from its model, so most planning updates
change nothing: far from the goal every value is still 0. Prioritized sweeping
keeps a priority queue of pairs whose value would change by more than theta,
|r + gamma max_a' Q(s', a') - Q(s, a)| > theta, updates the most urgent first,
and after each update queues the *predecessors* of the updated state, the
pairs the model says lead into it. Updates flow backwards from wherever values
just changed.

    pq_push / pq_pop      an indexed binary max-heap of (s, a) pairs
    queue_predecessors    after an update of Q(s, .), queue the pairs leading into s
                          whose values would now change
    prioritized_sweeping_episode   one episode of prioritized sweeping (it plans
                          with pq_pop and queue_predecessors)
    dyna_q_episode        one episode of Dyna-Q: tabular.dyna_q_episodes itself
    run_updates_until_near_optimal   many runs, per maze resolution (Example 8.4):
                          episodes until the greedy path is within a factor
                          (1.2) of the shortest path, counting Q updates
    where_updates_go      one agent's maps of real visits and Q updates

A pair (s, a) is encoded as the integer s * 4 + a throughout. Following the
book's box, prioritized sweeping updates Q only in planning (the real step goes
to the model and the queue); Dyna-Q makes one real and n planning updates per
step. Both counts below include every Q update made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from mbrl_helpers.agents.kinds import Agent, as_agent
from mbrl_helpers.agents.tabular import (
    N_ACTIONS,
    TabularModel,
    check_dyna_q_episodes,
    dyna_q_episodes,
    epsilon_greedy,
    q_learning_update,
    row_max,
    run_seeds_from,
    seed_numba,
)
from mbrl_helpers.core.compiled import (
    RNG_STATE_BYTES,
    bounds_checked_from_python,
    checked,
    restore_rng_state,
    save_rng_state,
)
from mbrl_helpers.core.validation import (
    SEED_MAX,
    check_agent_params,
    check_array,
    check_index,
    check_indices,
    check_int,
    check_number,
    check_table,
)
from mbrl_helpers.worlds.envs import ChangingMaze, GridMaze, MazeTables, make_scaled_dyna_maze

# The two agents compared (agents.Agent names every kind of agent once).
PRIORITIZED_SWEEPING, DYNA_Q = Agent.PRIORITIZED_SWEEPING, Agent.DYNA_Q
METHOD_NAMES = {agent: agent.label for agent in (PRIORITIZED_SWEEPING, DYNA_Q)}
# Room for the pairs leading into a cell. In a grid maze there are at most 4: in each
# direction either the neighbour there moves in, or the cell itself bumps into a wall.
MAX_PREDECESSORS = 8


# -- the priority queue ----------------------------------------------------------

@njit(cache=True)
def _sift_up(heap: np.ndarray, prio: np.ndarray, pos: np.ndarray, i: int) -> None:
    while i > 0:
        parent = (i - 1) // 2
        if prio[parent] >= prio[i]:
            break
        heap[i], heap[parent] = heap[parent], heap[i]
        prio[i], prio[parent] = prio[parent], prio[i]
        pos[heap[i]] = i
        pos[heap[parent]] = parent
        i = parent


@njit(cache=True)
def _sift_down(heap: np.ndarray, prio: np.ndarray, pos: np.ndarray, size: int, i: int) -> None:
    while True:
        left = 2 * i + 1
        best = i
        if left < size and prio[left] > prio[best]:
            best = left
        if left + 1 < size and prio[left + 1] > prio[best]:
            best = left + 1
        if best == i:
            return
        heap[i], heap[best] = heap[best], heap[i]
        prio[i], prio[best] = prio[best], prio[i]
        pos[heap[i]] = i
        pos[heap[best]] = best
        i = best


@njit(cache=True)
def pq_push(heap: np.ndarray, prio: np.ndarray, pos: np.ndarray, size: np.ndarray,
            pair: int, priority: float) -> None:
    """Queue `pair` with `priority`; if it is queued already, keep the larger priority.

    heap: (n_pairs,) int64 pairs, heap-ordered; prio: (n_pairs,) float64 their
    priorities; pos: (n_pairs,) int64, where each pair sits in heap (-1: not
    queued); size: (1,) int64, the number queued. All updated in place.
    """
    i = pos[pair]
    if i >= 0:
        if priority > prio[i]:
            prio[i] = priority
            _sift_up(heap, prio, pos, i)
        return
    i = size[0]
    size[0] += 1
    heap[i] = pair
    prio[i] = priority
    pos[pair] = i
    _sift_up(heap, prio, pos, i)


@njit(cache=True)
def pq_pop(heap: np.ndarray, prio: np.ndarray, pos: np.ndarray, size: np.ndarray) -> tuple[int, float]:
    """Remove and return (pair, priority) of the highest priority; size[0] must be > 0."""
    top, top_priority = heap[0], prio[0]
    pos[top] = -1
    size[0] -= 1
    last = size[0]
    if last > 0:
        heap[0] = heap[last]
        prio[0] = prio[last]
        pos[heap[0]] = 0
        _sift_down(heap, prio, pos, last, 0)
    return top, top_priority


def new_queue(n_pairs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An empty queue for pairs 0 .. n_pairs-1: (heap, prio, pos, size), see pq_push."""
    return (np.zeros(n_pairs, dtype=np.int64), np.zeros(n_pairs), np.full(n_pairs, -1, dtype=np.int64),
            np.zeros(1, dtype=np.int64))


# -- the two agents, one episode each --------------------------------------------

@njit(cache=True)
def greedy_within(next_state: np.ndarray, terminated: np.ndarray, start: int,
                  q: np.ndarray, limit: int) -> bool:
    """True if the greedy policy of q (ties: lowest action) reaches a goal from start in <= limit steps."""
    s = start
    for _ in range(limit):
        a = np.argmax(q[s])
        if terminated[s, a]:
            return True
        s = next_state[s, a]
    return False


@njit(cache=True)
def queue_predecessors(  # noqa: PLR0913 - compiled: a record of arrays would cost refcounting
    q: np.ndarray, s: int, m_next: np.ndarray, m_reward: np.ndarray, m_term: np.ndarray,
    pred: np.ndarray, n_pred: np.ndarray,
    heap: np.ndarray, prio: np.ndarray, pos: np.ndarray, size: np.ndarray,
    gamma: float, theta: float,
) -> None:
    """After Q(s, .) changed: queue each predecessor of s whose value would now change by more than theta.

    q and the model m_next, m_reward, m_term are (n_states, 4); pred (n_states, 8) holds the
    pairs s_bar * 4 + a_bar that have led into each state, n_pred (n_states,) how many. A
    predecessor (s_bar, a_bar) gets priority |r_bar + gamma max_a Q(s, a) - Q(s_bar, a_bar)|
    (just |r_bar - Q(s_bar, a_bar)| if its step ended the episode). The queue (heap, prio, pos,
    size) is updated in place as in pq_push; q and the model are not changed.
    """
    value = row_max(q[s])
    for i in range(n_pred[s]):
        pair = pred[s, i]
        s_bar, a_bar = pair // N_ACTIONS, pair % N_ACTIONS
        if m_next[s_bar, a_bar] != s:  # stale: the model now says (s_bar, a_bar) leads elsewhere
            continue
        r_bar = m_reward[s_bar, a_bar]
        target = r_bar if m_term[s_bar, a_bar] else r_bar + gamma * value
        priority = abs(target - q[s_bar, a_bar])
        if priority > theta:
            pq_push(heap, prio, pos, size, pair, priority)


# _nrt=False: the episode allocates nothing, so it needs no reference counting; counting the
# references to the queue's arrays on every pq_push and pq_pop would cost a third of its time.
@njit(cache=True, _nrt=False)
def prioritized_sweeping_episode(  # noqa: PLR0913 - compiled: a record of arrays would cost refcounting
    next_state: np.ndarray, reward: np.ndarray, terminated: np.ndarray, start: int,
    q: np.ndarray, m_next: np.ndarray, m_reward: np.ndarray, m_term: np.ndarray,
    pred: np.ndarray, n_pred: np.ndarray,
    heap: np.ndarray, prio: np.ndarray, pos: np.ndarray, size: np.ndarray,
    planning_steps: int, alpha: float, epsilon: float, gamma: float, theta: float,
    visits: np.ndarray, updates_at: np.ndarray,
) -> tuple[int, int]:
    """One episode of prioritized sweeping (the book's box in section 8.4).

    World tables and model (m_*) are (n_states, 4); pred (n_states, 8) holds the
    pairs s * 4 + a the model says lead into each state, n_pred (n_states,) how
    many. The queue is (heap, prio, pos, size) as in pq_push. visits and
    updates_at (n_states,) count real visits and Q updates per state.
    Returns (real steps, Q updates) of the episode.
    """
    s = start
    steps = 0
    updates = 0
    while True:
        a = epsilon_greedy(q[s], epsilon)
        s_next = next_state[s, a]
        r = reward[s, a]
        done = terminated[s, a]
        visits[s] += 1
        if m_next[s, a] != s_next:  # new (or changed) transition: s_next gains a predecessor
            m_next[s, a] = s_next
            pair = s * N_ACTIONS + a
            k = 0
            while k < n_pred[s_next] and pred[s_next, k] != pair:
                k += 1
            if k == n_pred[s_next] and k < pred.shape[1]:  # a grid cell has at most 4 (checked)
                pred[s_next, k] = pair
                n_pred[s_next] += 1
        m_reward[s, a] = r
        m_term[s, a] = done
        target = r if done else r + gamma * row_max(q[s_next])
        p = abs(target - q[s, a])
        if p > theta:
            pq_push(heap, prio, pos, size, s * N_ACTIONS + a, p)
        for _ in range(planning_steps):                     # planning, most urgent first
            if size[0] == 0:
                break
            pair, _ = pq_pop(heap, prio, pos, size)
            ps, pa = pair // N_ACTIONS, pair % N_ACTIONS
            q_learning_update(q, ps, pa, m_reward[ps, pa], m_next[ps, pa], m_term[ps, pa], alpha, gamma)
            updates += 1
            updates_at[ps] += 1
            queue_predecessors(q, ps, m_next, m_reward, m_term, pred, n_pred,
                               heap, prio, pos, size, gamma, theta)
        s = s_next
        steps += 1
        if done:
            return steps, updates


@njit(cache=True)
def dyna_q_episode(  # noqa: PLR0913 - compiled: a record of arrays would cost reference counting
    next_state: np.ndarray, reward: np.ndarray, terminated: np.ndarray, start: int,
    q: np.ndarray, m_next: np.ndarray, m_reward: np.ndarray, m_term: np.ndarray,
    seen_states: np.ndarray, n_seen: np.ndarray,
    planning_steps: int, alpha: float, epsilon: float, gamma: float,
    visits: np.ndarray, updates_at: np.ndarray,
) -> tuple[int, int]:
    """One episode of Dyna-Q: tabular.dyna_q_episodes itself, counting updates per state.

    m_next (n_states, 4) is -1 for untried pairs; seen_states/n_seen (1,) as in
    tabular.TabularModel. Returns (real steps, Q updates) of the episode: each
    real step makes one direct and planning_steps planned updates.
    """
    model = TabularModel(m_next, m_reward, m_term, seen_states, n_seen)
    steps = dyna_q_episodes(next_state, reward, terminated, start, q, model, planning_steps, 1,
                            alpha, epsilon, gamma, _NO_STEP_LIMIT, -1, visits, updates_at)[0]
    return steps, steps * (1 + planning_steps)


# Example 8.4's episodes end only at the goal (max_episodes bounds the run instead).
_NO_STEP_LIMIT = 2**62


# An agent's progress between slices: Q updates, real steps, episodes done, and the episode
# it became near-optimal in (0: not yet; -1: max_episodes passed without it).
_UPDATES, _STEPS, _EPISODES, _RESULT = range(4)


@njit(cache=True)
def _until_near_optimal_advance(  # noqa: PLR0913 - compiled: a record of arrays would cost reference counting
    next_state, reward, terminated, start, method, path_limit, max_episodes, planning_steps,
    alpha, epsilon, gamma, theta, visits, updates_at, q, m_next, m_reward, m_term, pred, n_pred,
    heap, prio, pos, size, seen_states, n_seen, progress, budget,
):
    """_until_near_optimal's episodes, resumable: whole episodes until about `budget` updates
    and steps were spent, then return (state in the arrays and progress (4,) int64)."""
    work = 0
    while progress[_RESULT] == 0 and work < budget:
        if method == PRIORITIZED_SWEEPING:
            steps, updates = prioritized_sweeping_episode(
                next_state, reward, terminated, start, q, m_next, m_reward, m_term, pred, n_pred,
                heap, prio, pos, size, planning_steps, alpha, epsilon, gamma, theta, visits, updates_at,
            )
        else:
            steps, updates = dyna_q_episode(
                next_state, reward, terminated, start, q, m_next, m_reward, m_term, seen_states, n_seen,
                planning_steps, alpha, epsilon, gamma, visits, updates_at,
            )
        progress[_UPDATES] += updates
        progress[_STEPS] += steps
        progress[_EPISODES] += 1
        work += steps + updates
        if greedy_within(next_state, terminated, start, q, path_limit):
            progress[_RESULT] = progress[_EPISODES]
        elif progress[_EPISODES] >= max_episodes:
            progress[_RESULT] = -1


def _new_agent(n_states: int) -> list[np.ndarray]:
    """Q, model, predecessors, priority queue and progress of an agent that has not acted."""
    n_pairs = n_states * N_ACTIONS
    return [np.zeros((n_states, N_ACTIONS)), np.full((n_states, N_ACTIONS), -1, dtype=np.int64),
            np.zeros((n_states, N_ACTIONS)), np.zeros((n_states, N_ACTIONS), dtype=np.bool_),
            np.zeros((n_states, MAX_PREDECESSORS), dtype=np.int64),
            np.zeros(n_states, dtype=np.int64), np.zeros(n_pairs, dtype=np.int64),
            np.zeros(n_pairs), np.full(n_pairs, -1, dtype=np.int64), np.zeros(1, dtype=np.int64),
            np.zeros(n_states, dtype=np.int64), np.zeros(1, dtype=np.int64),
            np.zeros(4, dtype=np.int64)]


# Updates and real steps per run and slice (whole episodes): Ctrl-C is raised between slices.
SLICE_WORK = 1 << 20


class SweepingSettings(NamedTuple):
    """An Example 8.4 agent's settings, as run_updates_until_near_optimal documents them."""

    planning_steps: int
    alpha: float
    epsilon: float
    gamma: float
    theta: float


def _until_near_optimal(tables: MazeTables, method: Agent, path_limit: int, max_episodes: int,
                        settings: SweepingSettings, visits: np.ndarray,
                        updates_at: np.ndarray) -> tuple[int, int, int]:
    """Episodes of one agent until its greedy path reaches the goal in <= path_limit steps.

    method: PRIORITIZED_SWEEPING or DYNA_Q. The path is checked after every
    episode (as in the book's reference code). visits, updates_at (n_states,)
    are incremented in place. Returns (Q updates, real steps, episodes); episodes
    is -1 if max_episodes passed without success. Draws from numba's generator as
    seeded; computed in slices of whole episodes, so Ctrl-C stops it.
    """
    agent = _new_agent(tables.next_state.shape[0])
    progress = agent[-1]
    while progress[_RESULT] == 0:
        _until_near_optimal_advance(*tables, int(method), path_limit, max_episodes, *settings,
                                    visits, updates_at, *agent, SLICE_WORK)
    return int(progress[_UPDATES]), int(progress[_STEPS]), int(progress[_RESULT])


@njit(cache=True, parallel=True)
def _until_near_optimal_slice(  # noqa: PLR0913 - compiled: a record of arrays would cost reference counting
    next_state, reward, terminated, start, method, path_limit, max_episodes, planning_steps,
    alpha, epsilon, gamma, theta, run_seeds, rng_states, visits, updates_at, q, m_next,
    m_reward, m_term, pred, n_pred, heap, prio, pos, size, seen_states, n_seen, progress,
    budget,
):
    """Advance every unfinished run by about `budget` updates and steps, each on its own
    saved generator state. Returns the number of runs still going."""
    for run in prange(run_seeds.shape[0]):
        if progress[run, _RESULT] != 0:
            continue
        if progress[run, _EPISODES] == 0:
            np.random.seed(run_seeds[run])  # noqa: NPY002 - numba knows only the legacy API
        else:
            restore_rng_state(rng_states[run])
        _until_near_optimal_advance(
            next_state, reward, terminated, start, method, path_limit, max_episodes,
            planning_steps, alpha, epsilon, gamma, theta, visits[run], updates_at[run], q[run],
            m_next[run], m_reward[run], m_term[run], pred[run], n_pred[run], heap[run], prio[run],
            pos[run], size[run], seen_states[run], n_seen[run], progress[run], budget)
        save_rng_state(rng_states[run])
    going = 0
    for run in range(run_seeds.shape[0]):
        if progress[run, _RESULT] == 0:
            going += 1
    return going


def _until_near_optimal_runs(tables: MazeTables, method: Agent, path_limit: int, max_episodes: int,
                             settings: SweepingSettings, run_seeds: np.ndarray) -> np.ndarray:
    """_until_near_optimal for each seed (runs,), in parallel and in slices; (runs, 3) int64
    rows (Q updates, real steps, episodes). Each run seeds its own generator first and
    keeps its state between slices, so results depend neither on threads nor on slicing."""
    next_state = tables.next_state
    runs, n_states = run_seeds.shape[0], next_state.shape[0]
    visits = np.zeros((runs, n_states), dtype=np.int64)
    updates_at = np.zeros((runs, n_states), dtype=np.int64)
    agents = [np.stack(arrays) for arrays in zip(*(_new_agent(n_states) for _ in range(runs)),
                                                 strict=True)]
    rng_states = np.zeros((runs, RNG_STATE_BYTES), dtype=np.uint8)
    budget = max(1, SLICE_WORK // runs)
    while _until_near_optimal_slice(*tables, int(method), path_limit, max_episodes, *settings,
                                    run_seeds, rng_states, visits, updates_at, *agents, budget):
        pass  # back in Python between slices: KeyboardInterrupt lands here
    progress = agents[-1]
    return progress[:, [_UPDATES, _STEPS, _RESULT]].copy()


def until_near_optimal_runs(maze: GridMaze, method: Agent | int | str, run_seeds: np.ndarray, *,
                            settings: SweepingSettings, factor: float = 1.2,
                            max_episodes: int = 10_000) -> np.ndarray:
    """Agents of one kind on one maze, each until near-optimal (as in Example 8.4).

    method: PRIORITIZED_SWEEPING or DYNA_Q; run_seeds (runs,) int, one per agent
    (e.g. tabular.run_seeds_from). An agent is done when, after an episode, its
    greedy path reaches the goal in at most factor x the shortest path. Returns
    (runs, 3) int64 rows (Q updates, real steps, episodes); episodes is -1 where
    max_episodes passed first.
    """
    method = as_agent(method, tuple(METHOD_NAMES), "method")
    if not isinstance(maze, GridMaze) or isinstance(maze, ChangingMaze):
        raise TypeError(f"maze must be a GridMaze whose walls stay put, got {type(maze).__name__}")
    if not isinstance(settings, SweepingSettings):
        raise TypeError(f"settings must be a SweepingSettings, got {type(settings).__name__}")
    _check_sweeping_params(*settings, factor)
    check_int("max_episodes", max_episodes, low=1)
    run_seeds = check_array("run_seeds", np.asarray(run_seeds), 1, "i").astype(np.int64)
    check_indices("run_seeds", run_seeds, 0, SEED_MAX, "seeds")
    settings = SweepingSettings(int(settings.planning_steps), *(float(x) for x in settings[1:]))
    return _until_near_optimal_runs(maze.tables(), method, _path_limit(maze, factor), max_episodes,
                                    settings, run_seeds)


# -- experiments -----------------------------------------------------------------

def goal_distance(maze: GridMaze) -> np.ndarray:
    """(n_rows, n_cols) int64: fewest steps from each cell to a goal; -1 for walls and cells
    that cannot reach one. Goals themselves are 0."""
    tables = maze.tables()
    distance = np.full(maze.n_states, -1, dtype=np.int64)
    distance[maze.goals] = 0
    frontier = list(maze.goals)
    step = 0
    while frontier:
        step += 1
        reached = np.isin(tables.next_state, frontier)  # (n_states, 4): a move into the frontier
        new = [s for s in np.flatnonzero(reached.any(axis=1)) if distance[s] < 0 and not maze.walls.flat[s]]
        distance[new] = step
        frontier = new
    return distance.reshape(maze.n_rows, maze.n_cols)


def _check_sweeping_params(planning_steps: int, alpha: float, epsilon: float, gamma: float,
                           theta: float, factor: float) -> None:
    check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_number("theta", theta, low=0)
    # "greedy path within factor x optimal": beyond a million x it is no criterion at all
    check_number("factor", factor, low=1, high=1e6)


def _path_limit(maze: GridMaze, factor: float) -> int:
    shortest = maze.shortest_path_length()
    if shortest < 0:
        raise ValueError("the maze's goal cannot be reached from its start")
    return int(np.floor(factor * shortest + 1e-9))


@dataclass
class SweepingResult:
    """What run_updates_until_near_optimal returns.

    resolutions: (n_sizes,) int; n_states: (n_sizes,) open cells of each maze;
    shortest: (n_sizes,) shortest path lengths (steps).
    updates: method name -> (n_sizes, runs) int64, Q updates until the greedy
    path was within factor x shortest; steps, episodes: same shape, real steps
    and episodes. run_seeds: (runs,) int64.
    """

    resolutions: np.ndarray
    n_states: np.ndarray
    shortest: np.ndarray
    updates: dict[str, np.ndarray]
    steps: dict[str, np.ndarray]
    episodes: dict[str, np.ndarray]
    run_seeds: np.ndarray

    def mean_updates(self, method: str) -> np.ndarray:
        """(n_sizes,) updates averaged over runs."""
        return self.updates[method].mean(axis=1)

    def speedup(self) -> np.ndarray:
        """(n_sizes,) mean updates of Dyna-Q / mean updates of prioritized sweeping."""
        return self.mean_updates("Dyna-Q") / self.mean_updates("prioritized sweeping")


def run_updates_until_near_optimal(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    resolutions: tuple[int, ...] | list[int] = (1, 2, 3, 4, 5, 6),
    *,
    runs: int,
    seed: int,
    planning_steps: int = 5,
    alpha: float = 0.5,
    epsilon: float = 0.1,
    gamma: float = 0.95,
    theta: float = 1e-4,
    factor: float = 1.2,
    max_episodes: int = 10_000,
) -> SweepingResult:
    """Example 8.4: Q updates that Dyna-Q and prioritized sweeping need, per maze resolution.

    Each maze is the Dyna Maze with every cell split into r x r cells. An agent
    counts as done when, after an episode, its greedy path reaches the goal in
    at most factor x the shortest path. Defaults are the book's settings.
    """
    _check_sweeping_params(planning_steps, alpha, epsilon, gamma, theta, factor)
    check_int("runs", runs, low=1)
    check_int("max_episodes", max_episodes, low=1)
    resolutions = [int(r) for r in resolutions]
    if not resolutions:
        raise ValueError("resolutions must hold at least one resolution >= 1")
    for r in resolutions:
        check_int("resolution", r, low=1)
    run_seeds = run_seeds_from(seed, runs)
    settings = SweepingSettings(int(planning_steps), float(alpha), float(epsilon), float(gamma),
                                float(theta))
    shape = (len(resolutions), runs)
    updates = {name: np.zeros(shape, dtype=np.int64) for name in METHOD_NAMES.values()}
    steps = {name: np.zeros(shape, dtype=np.int64) for name in METHOD_NAMES.values()}
    episodes = {name: np.zeros(shape, dtype=np.int64) for name in METHOD_NAMES.values()}
    n_states, shortest = [], []
    for i, r in enumerate(resolutions):
        maze = make_scaled_dyna_maze(r)
        tables = maze.tables()
        limit = _path_limit(maze, factor)
        n_states.append(len(maze.open_states()))
        shortest.append(maze.shortest_path_length())
        for method, name in METHOD_NAMES.items():
            out = _until_near_optimal_runs(tables, method, limit, max_episodes, settings, run_seeds)
            updates[name][i], steps[name][i], episodes[name][i] = out[:, 0], out[:, 1], out[:, 2]
    return SweepingResult(np.array(resolutions), np.array(n_states), np.array(shortest),
                          updates, steps, episodes, run_seeds)


def where_updates_go(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    maze: GridMaze,
    method: Agent | int | str,
    *,
    seed: int,
    planning_steps: int = 5,
    alpha: float = 0.5,
    epsilon: float = 0.1,
    gamma: float = 0.95,
    theta: float = 1e-4,
    factor: float = 1.2,
    max_episodes: int = 10_000,
) -> tuple[np.ndarray, np.ndarray, int]:
    """One agent until near-optimal, as in Example 8.4; where did it step and update?

    Returns visits (n_rows, n_cols) real visits per cell, updates_at
    (n_rows, n_cols) Q updates of pairs in each cell, and the total updates.
    """
    method = as_agent(method, tuple(METHOD_NAMES), "method")
    _check_sweeping_params(planning_steps, alpha, epsilon, gamma, theta, factor)
    if not isinstance(maze, GridMaze) or isinstance(maze, ChangingMaze):
        raise TypeError(f"maze must be a GridMaze whose walls stay put, got {type(maze).__name__}")
    tables = maze.tables()
    (run_seed,) = run_seeds_from(seed, 1)
    seed_numba(run_seed)
    visits = np.zeros(maze.n_states, dtype=np.int64)
    updates_at = np.zeros(maze.n_states, dtype=np.int64)
    settings = SweepingSettings(int(planning_steps), float(alpha), float(epsilon), float(gamma),
                                float(theta))
    total, _, _ = _until_near_optimal(tables, method, _path_limit(maze, factor), max_episodes,
                                      settings, visits, updates_at)
    shape = (maze.n_rows, maze.n_cols)
    return visits.reshape(shape), updates_at.reshape(shape), int(total)


# -- checks on calls from Python (compiled callers skip them) -----------------------------
# A wrong shape or an index out of range is named here, before compiled code (which does not
# check indices) sees it; the bounds-checked twins below are a second net.
def _check_world(next_state, reward, terminated, start) -> int:
    """The maze tables (n_states, 4) and a start state; returns n_states."""
    next_state = check_array("next_state", next_state, 2, "i")
    n = next_state.shape[0]
    check_table("next_state", next_state, (n, N_ACTIONS), next_state.dtype)
    check_table("reward", reward, (n, N_ACTIONS), np.float64)
    check_table("terminated", terminated, (n, N_ACTIONS), np.bool_)
    check_indices("next_state", next_state, 0, n - 1, "state indices")
    check_index("start", start, n, "state")
    return n


def _check_queue(heap, prio, pos, size) -> int:
    """A queue as new_queue makes it; returns its capacity (pairs 0 .. n_pairs-1)."""
    heap = check_array("heap", heap, 1, "i")
    n_pairs = heap.shape[0]
    check_table("heap", heap, (n_pairs,), np.int64)
    check_table("prio", prio, (n_pairs,), np.float64)
    check_table("pos", pos, (n_pairs,), np.int64)
    check_table("size", size, (1,), np.int64)
    check_int("size[0]", size[0], low=0, high=n_pairs)
    check_indices("pos", pos, -1, n_pairs - 1, "heap positions (-1: not queued)")
    check_indices("heap", heap[: size[0]], 0, n_pairs - 1, "pair indices")
    return n_pairs


def _check_pq_push(heap, prio, pos, size, pair, priority):
    n_pairs = _check_queue(heap, prio, pos, size)
    check_index("pair", pair, n_pairs, "pair")
    check_number("priority", priority)
    if pos[pair] < 0 and size[0] >= n_pairs:
        raise ValueError(f"the queue is full ({n_pairs} pairs): pair {pair} cannot be added")


def _check_pq_pop(heap, prio, pos, size):
    _check_queue(heap, prio, pos, size)
    if size[0] == 0:
        raise ValueError("the queue is empty (size[0] == 0): nothing to pop")


def _check_greedy_within(next_state, terminated, start, q, limit):
    next_state = check_array("next_state", next_state, 2, "i")
    n = next_state.shape[0]
    _check_world(next_state, np.zeros((n, N_ACTIONS)), terminated, start)
    check_table("q", q, (n, N_ACTIONS), np.float64)
    check_int("limit", limit, low=0)


def _check_agent_arrays(n, q, m_next, m_reward, m_term, visits, updates_at):
    check_table("q", q, (n, N_ACTIONS), np.float64)
    check_table("m_next", m_next, (n, N_ACTIONS), np.int64)
    check_indices("m_next", m_next, -1, n - 1, "state indices (-1: untried)")
    check_table("m_reward", m_reward, (n, N_ACTIONS), np.float64)
    check_table("m_term", m_term, (n, N_ACTIONS), np.bool_)
    check_table("visits", visits, (n,), np.int64)
    check_table("updates_at", updates_at, (n,), np.int64)


def _check_queue_predecessors(q, s, m_next, m_reward, m_term, pred, n_pred,  # noqa: PLR0913 - checks the compiled kernel's arguments one for one
                              heap, prio, pos, size, gamma, theta):
    n = check_table("q", q, (None, N_ACTIONS), np.float64).shape[0]
    check_index("s", s, n, "state")
    check_table("m_next", m_next, (n, N_ACTIONS), np.int64)
    check_indices("m_next", m_next, -1, n - 1, "state indices (-1: untried)")
    check_table("m_reward", m_reward, (n, N_ACTIONS), np.float64)
    check_table("m_term", m_term, (n, N_ACTIONS), np.bool_)
    check_table("pred", pred, (n, None), np.int64)
    check_table("n_pred", n_pred, (n,), np.int64)
    check_indices("n_pred", n_pred, 0, pred.shape[1], "predecessor counts")
    check_indices("pred", pred[np.arange(pred.shape[1]) < n_pred[:, None]], 0, N_ACTIONS * n - 1,
                  "pair indices")
    if _check_queue(heap, prio, pos, size) != N_ACTIONS * n:
        raise ValueError(f"the queue must hold the {N_ACTIONS * n} pairs of {n} states "
                         f"(new_queue({N_ACTIONS * n})), got {heap.shape[0]}")
    check_number("gamma", gamma, low=0, high=1)
    check_number("theta", theta, low=0)


def _check_prioritized_sweeping_episode(next_state, reward, terminated, start, q, m_next, m_reward,  # noqa: PLR0913 - checks the compiled kernel's arguments one for one
                                        m_term, pred, n_pred, heap, prio, pos, size, planning_steps,
                                        alpha, epsilon, gamma, theta, visits, updates_at):
    n = _check_world(next_state, reward, terminated, start)
    _check_agent_arrays(n, q, m_next, m_reward, m_term, visits, updates_at)
    check_table("pred", pred, (n, MAX_PREDECESSORS), np.int64)
    check_table("n_pred", n_pred, (n,), np.int64)
    check_indices("n_pred", n_pred, 0, MAX_PREDECESSORS, "predecessor counts")
    check_indices("pred", pred[np.arange(MAX_PREDECESSORS) < n_pred[:, None]], 0, N_ACTIONS * n - 1,
                  "pair indices")
    if _check_queue(heap, prio, pos, size) != N_ACTIONS * n:
        raise ValueError(f"the queue must hold the {N_ACTIONS * n} pairs of {n} states "
                         f"(new_queue({N_ACTIONS * n})), got {heap.shape[0]}")
    queued = heap[: size[0]]
    if (m_next.ravel()[queued] < 0).any():
        raise ValueError("the queue holds a pair the model has never seen (m_next -1)")
    check_agent_params(planning_steps, alpha, epsilon, gamma)
    check_number("theta", theta, low=0)


def _check_dyna_q_episode(next_state, reward, terminated, start, q, m_next, m_reward, m_term,  # noqa: PLR0913 - checks the compiled kernel's arguments one for one
                          seen_states, n_seen, planning_steps, alpha, epsilon, gamma, visits,
                          updates_at):
    n = _check_world(next_state, reward, terminated, start)
    _check_agent_arrays(n, q, m_next, m_reward, m_term, visits, updates_at)
    check_table("seen_states", seen_states, (n,), np.int64)
    check_table("n_seen", n_seen, (1,), np.int64)
    # the rest (index ranges of the model, agent settings) as dyna_q_episodes checks them
    check_dyna_q_episodes(next_state, reward, terminated, start, q,
                          TabularModel(m_next, m_reward, m_term, seen_states, n_seen), planning_steps,
                          1, alpha, epsilon, gamma, 1, -1, visits, updates_at)


checked(_check_pq_push)(pq_push)
checked(_check_pq_pop)(pq_pop)
checked(_check_greedy_within)(greedy_within)
checked(_check_queue_predecessors)(queue_predecessors)
checked(_check_prioritized_sweeping_episode)(prioritized_sweeping_episode)
checked(_check_dyna_q_episode)(dyna_q_episode)

# Calls from Python run bounds-checked twins (an index out of range: ValueError, not a crash);
# compiled callers keep the kernels as they are.
bounds_checked_from_python(pq_push)
bounds_checked_from_python(pq_pop)
bounds_checked_from_python(greedy_within)
bounds_checked_from_python(queue_predecessors)
bounds_checked_from_python(prioritized_sweeping_episode)
bounds_checked_from_python(dyna_q_episode)
