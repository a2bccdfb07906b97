"""MCTS as the planning component of tabular Dyna, compiled with numba.

Dyna-Q (tabular.py) plans by replaying n remembered transitions chosen at
random from everywhere the agent has been. Here the same agent plans instead
by a UCT search on its own tabular model, from the state where it stands:

    after each real step:   direct Q-learning update, model update (as Dyna-Q),
                            then a search of `budget` model calls from the next state,
                            and Q(s, a) += alpha * (Q_search(s, a) - Q(s, a))
                            for the searched edges of real (tried) pairs.

Budgets are in model calls, so the comparison with Dyna-Q is fair: Dyna-Q with
n = B makes B planning updates (one model call each); a search of budget B
makes B model transitions (expansions plus rollout steps, if any).

The learned model knows only the (s, a) pairs tried for real. What a search
does with an untried pair is a choice, `unseen`:

    "stay"      the agent assumes nothing happens: same state, reward 0, not
                terminated (as Dyna-Q+'s model does for untried actions)
    "terminal"  the search stops there: reward 0, terminated, so value 0

Both are pessimistic in a maze whose only reward is the goal's +1; "stay" lets
the tree grow on through the fiction, "terminal" does not spend more calls there.
Either way Q is only ever updated for pairs the agent has tried.

Leaf evaluation: by default the agent's own Q, V(leaf) = max_a Q(leaf, a).
Random rollouts (rollout_depth > 0) are an option and mostly a lesson: on a
maze with one rewarding cell, a random walk of a few steps from a leaf almost
never reaches it, so rollouts return 0 and pull the search's values towards 0.

The search is search_core's UCT loop, the one mcts_search runs, on the agent's
table (a CompiledModel) with leaves valued by LeafEvaluation.

Where to search (`searches`; the benchmark's Ablation(roots=...)): by default one
search from the state the agent will act in next. The budget can also be split into
several searches, the others (or all) from visited states drawn as Dyna-Q draws
them, which spreads value updates over the whole maze as Dyna-Q's uniform replay does.

Search values (Ablation(backup=...)): "max" backs the tree up as the Bellman optimality
equation does (V(node) = max over actions of r + gamma V(child), Q(node, a) for
actions not expanded, the leaf's evaluation at a leaf); "mean" uses UCT's own
averages of the sampled returns, which UCT needs to choose where to look but
which average in the poor actions it tried.

    TabularModelStep     the tabular model behind the shared step-function interface
    search_q_targets     one compiled search from Python: the root's Q targets
    apply_search_targets move Q(root, a) towards them (what the agent does after a search)
    run_dyna_mcts        Dyna-Q vs Dyna-MCTS on an episodic maze (steps per episode,
                         real steps until the greedy path is optimal)
    run_dyna_mcts_changing  the same agents in a changing maze (cumulative reward)
    Ablation             the search variants only benchmarks/bench_dyna_mcts.py compares
    dyna_mcts_curves     mean steps per episode, a cache-friendly function for a slider
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit, prange

from mbrl_helpers.agents.tabular import (
    N_ACTIONS,
    SLICE_UPDATES,
    TabularModel,
    epsilon_greedy,
    planning,
    real_step,
    run_seeds_from,
)
from mbrl_helpers.core.compiled import (
    RNG_STATE_BYTES,
    bounds_checked_from_python,
    restore_rng_state,
    save_rng_state,
)
from mbrl_helpers.core.numba_tools import random_index, seed_numba
from mbrl_helpers.core.validation import check_int, check_number, check_unit_interval
from mbrl_helpers.planners.search_core import (
    LeafEvaluation,
    SearchConfig,
    Tree,
    new_tree,
    uct_simulations,
)
from mbrl_helpers.worlds.envs import ChangingMaze, GridMaze, as_maze, maze_pair_tables
from mbrl_helpers.worlds.simulators import TABLE_KIND, CompiledModel, table_model

UNSEEN_STAY, UNSEEN_TERMINAL = 0, 1
UNSEEN = {"stay": UNSEEN_STAY, "terminal": UNSEEN_TERMINAL}
BACKUP_MAX, BACKUP_MEAN = 0, 1
BACKUPS = {"max": BACKUP_MAX, "mean": BACKUP_MEAN}
PLANNER_DYNA_Q, PLANNER_MCTS = 0, 1
PLANNERS = {"dyna-q": PLANNER_DYNA_Q, "mcts": PLANNER_MCTS}
UPDATES = ("root", "tree")
ROOTS = ("current", "visited")
ACTS = ("q", "search")

# The book's Figure 8.2 (Dyna Maze) and notebook 02's Figure 8.5 settings (Shortcut Maze).
DYNA_MAZE_SETTINGS = {"alpha": 0.1, "epsilon": 0.1, "gamma": 0.95}
SHORTCUT_MAZE_SETTINGS = {"alpha": 1.0, "epsilon": 0.1, "gamma": 0.95}


def _choice(name: str, value: object, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


# -- the adapter: a learned tabular model as a step function ----------------------------------
class TabularModelStep:
    """A Dyna agent's TabularModel behind the shared interface step(states, actions).

    states: (B,) int64 cell indices in 0..n_states-1; actions: (B,) int64 in 0..3.
    Returns next_states (B,) int64, rewards (B,) float64, terminated (B,) bool:
    what the model remembers for tried pairs; for untried pairs, by `unseen`,
    "stay" -> (same state, 0.0, False) or "terminal" -> (same state, 0.0, True).
    `calls` counts the transitions asked for (B per call), the cost of planning.
    The model is read, never copied: a model still learning is seen as it is now.
    """

    n_actions = N_ACTIONS

    def __init__(self, model: TabularModel, unseen: str = "stay") -> None:
        if not isinstance(model, TabularModel):
            raise TypeError(f"model must be a tabular.TabularModel, got {type(model).__name__}")
        _choice("unseen", unseen, UNSEEN)
        self.model, self.unseen, self.calls = model, unseen, 0
        self.n_states = model.next_state.shape[0]

    def compiled_model(self) -> CompiledModel:
        """The compiled twin the search steps instead of calling this object (the model's
        arrays, shared; its `calls` counter is not advanced by a compiled search)."""
        return table_model(self.model.next_state, self.model.reward, self.model.terminated,
                           self.unseen == "terminal")

    def seen(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """(B,) bool: True where the model has seen (state, action) for real."""
        states, actions = self._check(states, actions)
        return self.model.next_state[states, actions] >= 0

    def _check(self, states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        states, actions = np.asarray(states), np.asarray(actions)
        for name, arr, high in (("states", states, self.n_states - 1), ("actions", actions, 3)):
            if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"{name} must be an int64 array of shape (B,), got dtype "
                                f"{arr.dtype} and shape {arr.shape}")
            if arr.size and (arr.min() < 0 or arr.max() > high):
                raise ValueError(f"{name} must be in 0..{high}, got values "
                                 f"{np.unique(arr[(arr < 0) | (arr > high)]).tolist()}")
        if states.shape != actions.shape:
            raise ValueError(f"states and actions must have the same shape, got {states.shape} "
                             f"and {actions.shape}")
        return states.astype(np.int64, copy=False), actions.astype(np.int64, copy=False)

    def __call__(self, states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                          np.ndarray]:
        states, actions = self._check(states, actions)
        self.calls += states.shape[0]
        remembered = self.model.next_state[states, actions]
        unseen = remembered < 0
        next_states = np.where(unseen, states, remembered)
        rewards = np.where(unseen, 0.0, self.model.reward[states, actions])
        terminated = np.where(unseen, self.unseen == "terminal", self.model.terminated[states, actions])
        return next_states.astype(np.int64), rewards.astype(np.float64), terminated.astype(np.bool_)


# -- the ablations: search variants only the benchmark compares -------------------------------
class Ablation(NamedTuple):
    """Variants of Dyna-MCTS that benchmarks/bench_dyna_mcts.py compares with the default
    agent (the notebooks keep the defaults):

    backup: "max" (Bellman optimality backups of the tree) | "mean" (UCT's mean returns).
    update: "root" (update Q for the root's edges) | "tree" (for every tree edge).
    act:    "q" (epsilon-greedy on Q) | "search" (epsilon-greedy on the search's root values).
    roots:  "current" (the first search from where the agent acts next) | "visited" (every
            search from a visited state, drawn as Dyna-Q draws one).
    """

    backup: str = "max"
    update: str = "root"
    act: str = "q"
    roots: str = "current"


DEFAULT_SEARCH = Ablation()


def checked_ablation(ablation: object) -> Ablation:
    if not isinstance(ablation, Ablation):
        raise TypeError(f"ablation must be a dyna_mcts.Ablation, got {type(ablation).__name__}")
    return ablation


# -- the search on the tabular model: search_core's UCT loop, Q at the leaves --------------------
class AgentConfig(NamedTuple):
    """How one Dyna agent learns and plans (a compiled record; agent_config builds it).

    planner: PLANNER_DYNA_Q (tabular.planning) or PLANNER_MCTS; budget: model calls of
    planning per real step; searches: the budget split into that many searches;
    from_current: the first search starts where the agent acts next (else every root is
    drawn from visited states); c: UCB1 constant; unseen: UNSEEN_STAY | UNSEEN_TERMINAL;
    rollout_depth, bootstrap: the leaf evaluation (random steps, then max_a Q);
    backup: BACKUP_MAX | BACKUP_MEAN; update_tree: update Q on every tree edge, not just the
    root's; act_by_search: act epsilon-greedily on the search's root values;
    alpha, epsilon, gamma: step size, exploration, discount.
    """

    planner: int
    budget: int
    searches: int
    from_current: bool
    c: float
    unseen: int
    rollout_depth: int
    bootstrap: bool
    backup: int
    update_tree: bool
    act_by_search: bool
    alpha: float
    epsilon: float
    gamma: float


def new_search_tree(budget: int) -> Tree:
    """A search_core.Tree with room for searches of up to `budget` model calls (budget + 1
    nodes); states are (N, 1) float64 cell indices. Reused from search to search."""
    return new_tree(np.zeros(1), N_ACTIONS, budget + 1)


@njit(cache=True)
def learned_model(model: TabularModel, unseen: int) -> CompiledModel:
    """The agent's table as the search's model record (arrays shared: a model still learning
    is seen as it is now); an untried pair as `unseen` says (see the module docstring)."""
    return CompiledModel(TABLE_KIND, model.next_state, model.reward, model.terminated,
                         unseen == UNSEEN_TERMINAL, N_ACTIONS)


@njit(cache=True)
def uct_search(q: np.ndarray, model: TabularModel, tree: Tree, root: int, budget: int,
               config: AgentConfig) -> int:
    """UCT from `root` until `budget` model calls are spent: search_core.uct_simulations with
    min-max normalised UCB1 and leaves valued by config's rollout, then max_a Q.

    A simulation that ends on a terminal node already in the tree costs no call, so
    simulations are also capped (10 * budget + 10) and the search may, rarely, spend
    fewer calls. Returns the model calls; fills tree (tree.n_nodes[0] nodes), not q.
    """
    tree.states[0, 0], tree.visits[0], tree.value_sum[0] = root, 0, 0.0
    tree.reward[0], tree.terminal[0], tree.n_nodes[0] = 0.0, False, 1
    tree.children[0, :] = -1
    calls, _, _ = uct_simulations(learned_model(model, config.unseen), tree,
                                  LeafEvaluation(config.rollout_depth, config.bootstrap, q),
                                  SearchConfig(config.c, config.gamma, True),
                                  10 * budget + 10, budget, np.inf, -np.inf)
    return calls


@njit(cache=True)
def backed_up_values(q: np.ndarray, tree: Tree, value: np.ndarray, gamma: float, backup: int) -> None:
    """Fill value[:n_nodes] with V(node), children first (they have higher indices).

    max: 0 at a terminal; at a leaf its evaluation; else max over actions of
    r + gamma V(child), or Q(state, a) for an action not expanded. mean: UCT's mean return.
    """
    for node in range(tree.n_nodes[0] - 1, -1, -1):
        if tree.terminal[node]:
            value[node] = 0.0
            continue
        mean = tree.value_sum[node] / max(tree.visits[node], 1)
        if backup == BACKUP_MEAN:
            value[node] = mean
            continue
        best, expanded = -np.inf, False
        s = int(tree.states[node, 0])
        for a in range(N_ACTIONS):
            kid = tree.children[node, a]
            if kid >= 0:
                expanded = True
                v = tree.reward[kid] + gamma * value[kid]
            else:
                v = q[s, a]
            best = max(best, v)
        value[node] = best if expanded else mean


@njit(cache=True)
def search_and_update(q: np.ndarray, model: TabularModel, tree: Tree, value: np.ndarray, root: int,
                      budget: int, config: AgentConfig, root_q: np.ndarray) -> int:
    """One search from root, then Q(s, a) += alpha (r + gamma V(child) - Q(s, a)) for each
    expanded edge of the root (config.update_tree: of every node) whose (s, a) was tried.

    value (N,) is work space for the backed-up values; root_q (4,) receives the search's
    Q(root, a) (Q itself where a was not expanded), for acting by the search.
    Returns the model calls spent.
    """
    gamma, alpha = config.gamma, config.alpha
    calls = uct_search(q, model, tree, root, budget, config)
    backed_up_values(q, tree, value, gamma, config.backup)
    for a in range(N_ACTIONS):
        kid = tree.children[0, a]
        root_q[a] = tree.reward[kid] + gamma * value[kid] if kid >= 0 else q[root, a]
    for node in range(tree.n_nodes[0] if config.update_tree else 1):
        s = int(tree.states[node, 0])
        if tree.terminal[node]:
            continue
        for a in range(N_ACTIONS):
            kid = tree.children[node, a]
            if kid >= 0 and model.next_state[s, a] >= 0:
                q[s, a] += alpha * (tree.reward[kid] + gamma * value[kid] - q[s, a])
    return calls


# -- the agent ------------------------------------------------------------------------------
class World(NamedTuple):
    """The real maze an agent lives in.

    next_state, reward, terminated: (2, n_states, 4) tables, layout [0] until real step
    switch_step (-1: never) and [1] after; walls_after (n_states,) bool (an agent walled in
    at the switch is moved to start); optimal_length (2,) int64 shortest path per layout
    (0: not checked); check_from: greedy paths are checked after this real step.
    """

    next_state: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    walls_after: np.ndarray
    start: int
    switch_step: int
    optimal_length: np.ndarray
    check_from: int


class Schedule(NamedTuple):
    """How long a life lasts: at most total_steps real steps and `episodes` episodes (an episode
    ends at a goal or after max_steps_per_episode steps); record_cumulative: keep the goals
    reached after every real step."""

    total_steps: int
    episodes: int
    max_steps_per_episode: int
    record_cumulative: bool


class Life(NamedTuple):
    """An agent's state, carried over between slices (stacked over runs: a leading axis).

    q (n_states, 4); the model's arrays m_next, m_reward, m_term (n_states, 4), m_seen
    (n_states,), m_n_seen (1,) (tabular.TabularModel's fields); episode_steps (episodes,);
    cumulative (total_steps or 0,); root_q (4,); progress (10,) int64 (see _LAYOUT ...).
    """

    q: np.ndarray
    m_next: np.ndarray
    m_reward: np.ndarray
    m_term: np.ndarray
    m_seen: np.ndarray
    m_n_seen: np.ndarray
    episode_steps: np.ndarray
    cumulative: np.ndarray
    root_q: np.ndarray
    progress: np.ndarray


@njit(cache=True)
def greedy_is_optimal(q: np.ndarray, next_state: np.ndarray, terminated: np.ndarray, start: int,
                      optimal_length: int) -> bool:
    """True if the greedy policy of q (ties: lowest action, as tabular.greedy_path) reaches a
    goal of the real maze from start within optimal_length steps."""
    s = start
    for _ in range(optimal_length):
        a = 0
        for b in range(1, N_ACTIONS):
            if q[s, b] > q[s, a]:
                a = b
        if terminated[s, a]:
            return True
        s = next_state[s, a]
    return False


# A life's progress between slices (see _dyna_mcts_advance).
(_LAYOUT, _STATE, _T_EPISODE, _EPISODE, _GOALS, _CALLS, _FOUND, _T, _HAVE_ROOT,
 _FINISHED) = range(10)


@njit(cache=True)
def _dyna_mcts_advance(world, schedule, config, life, max_real_steps):  # noqa: C901 - one compiled loop: a call per step in it would cost speed
    """dyna_mcts_run's loop, resumable: at most max_real_steps real steps, then return.

    life's arrays carry the agent over between calls, so slices draw exactly what one
    loop would.
    """
    q, root_q, progress = life.q, life.root_q, life.progress
    model = TabularModel(life.m_next, life.m_reward, life.m_term, life.m_seen, life.m_n_seen)
    budget, searches = config.budget, config.searches
    alpha, gamma = config.alpha, config.gamma
    next_state, reward, terminated = world.next_state, world.reward, world.terminated
    tree = Tree(np.zeros((budget + 1, 1)), np.full(budget + 1, -1, np.int64),
                np.full(budget + 1, -1, np.int64), np.full((budget + 1, N_ACTIONS), -1, np.int64),
                np.zeros(budget + 1, np.int64), np.zeros(budget + 1), np.zeros(budget + 1),
                np.zeros(budget + 1, np.bool_), np.ones(1, np.int64))
    value = np.zeros(budget + 1)
    scratch_q = np.zeros(N_ACTIONS)
    layout, s, t_episode, episode = progress[_LAYOUT], progress[_STATE], progress[_T_EPISODE], \
        progress[_EPISODE]
    goals, calls, found, t = progress[_GOALS], progress[_CALLS], progress[_FOUND], progress[_T]
    have_root = progress[_HAVE_ROOT] != 0
    finished = progress[_FINISHED] != 0
    stop_at = min(schedule.total_steps, t + max_real_steps)
    while t < stop_at and not finished:
        if t == world.switch_step:
            layout = 1
            if world.walls_after[s]:
                s, have_root = world.start, False
        if config.act_by_search and have_root:
            a = epsilon_greedy(root_q, config.epsilon)
        else:
            a = epsilon_greedy(q[s], config.epsilon)
        s_next, done = real_step(next_state[layout], reward[layout], terminated[layout], q, model,
                                 s, a, alpha, gamma)     # Dyna-Q's: act, direct RL, model learning
        t += 1
        t_episode += 1
        if done:
            goals += 1
        over = done or t_episode >= schedule.max_steps_per_episode
        s = world.start if over else s_next
        if config.planner == PLANNER_DYNA_Q:                              # planning
            planning(q, model, budget, alpha, gamma)
            calls += budget
        elif budget > 0:
            share = budget // searches          # the first search also takes the remainder
            for k in range(searches):
                if k == 0 and config.from_current:
                    root, out = s, root_q
                else:                           # a visited state, drawn as Dyna-Q draws one
                    root, out = model.seen_states[random_index(model.n_seen[0])], scratch_q
                calls += search_and_update(q, model, tree, value, root,
                                           budget - share * (searches - 1) if k == 0 else share,
                                           config, out)
            have_root = config.from_current
        optimal = world.optimal_length[layout]
        if (found < 0 and t > world.check_from and optimal > 0
                and greedy_is_optimal(q, next_state[layout], terminated[layout], world.start,
                                      optimal)):
            found = t
        if schedule.record_cumulative:
            life.cumulative[t - 1] = goals
        if over:
            life.episode_steps[episode] = t_episode
            episode += 1
            t_episode = 0
            if episode == schedule.episodes:
                finished = True
    if t >= schedule.total_steps:
        finished = True
    progress[_LAYOUT], progress[_STATE], progress[_T_EPISODE], progress[_EPISODE] = \
        layout, s, t_episode, episode
    progress[_GOALS], progress[_CALLS], progress[_FOUND], progress[_T] = goals, calls, found, t
    progress[_HAVE_ROOT], progress[_FINISHED] = have_root, finished


def _new_life(n_states: int, schedule: Schedule, start: int, runs: int) -> Life:
    """The arrays of `runs` agents that have not acted yet, stacked over runs."""
    progress = np.zeros((runs, 10), dtype=np.int64)
    progress[:, _STATE], progress[:, _FOUND] = start, -1
    cells = (runs, n_states, N_ACTIONS)
    return Life(np.zeros(cells), np.full(cells, -1, dtype=np.int64), np.zeros(cells),
                np.zeros(cells, dtype=np.bool_), np.zeros((runs, n_states), dtype=np.int64),
                np.zeros((runs, 1), dtype=np.int64), np.zeros((runs, schedule.episodes), dtype=np.int64),
                np.zeros((runs, schedule.total_steps if schedule.record_cumulative else 0),
                         dtype=np.int64),
                np.zeros((runs, N_ACTIONS)), progress)


def _real_steps_per_slice(runs: int, config: AgentConfig) -> int:
    """Real steps per run and slice: about SLICE_UPDATES model calls in all."""
    return max(1, SLICE_UPDATES // (runs * (config.budget + 1) * (config.rollout_depth + 1)))


@njit(cache=True)
def _life_of(lives: Life, run: int) -> Life:
    """Run `run`'s agent out of the stacked lives (views, not copies)."""
    return Life(lives.q[run], lives.m_next[run], lives.m_reward[run], lives.m_term[run],
                lives.m_seen[run], lives.m_n_seen[run], lives.episode_steps[run],
                lives.cumulative[run], lives.root_q[run], lives.progress[run])


def dyna_mcts_run(world: World, schedule: Schedule, config: AgentConfig,
                  q: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """One agent's life: act, learn, remember, plan (Dyna-Q's tabular.planning or a search).

    q (n_states, 4) is updated in place. With planner PLANNER_DYNA_Q the random draws are
    those of tabular.dyna_q_episodes and dyna_q_plus.changing_maze_run (tests check it).
    Draws from numba's generator as seeded (numba_tools.seed_numba); computed in slices,
    so Ctrl-C stops it.
    Returns episode_steps (episodes,) int64, cumulative goals after each real step
    (total_steps,) int64 if record_cumulative (else (0,)), the first real step count
    from check_from on at which the greedy path was optimal in the current layout
    (-1 never, or not checked if optimal_length is 0), the model calls spent and the
    real steps taken.
    """
    lives = _new_life(world.next_state.shape[1], schedule, world.start, 1)
    life = Life(q, *(field[0] for field in lives[1:]))
    while not life.progress[_FINISHED]:
        _dyna_mcts_advance(world, schedule, config, life, _real_steps_per_slice(1, config))
    progress = life.progress
    return (life.episode_steps, life.cumulative, int(progress[_FOUND]), int(progress[_CALLS]),
            int(progress[_T]))


@njit(cache=True, parallel=True)
def _dyna_mcts_slice(world, schedule, config, run_seeds, rng_states, lives, max_real_steps):
    """Advance every unfinished run by up to max_real_steps real steps, each on its own
    saved generator state. Returns the number of runs still going."""
    for run in prange(run_seeds.shape[0]):
        if lives.progress[run, _FINISHED]:
            continue
        if lives.progress[run, _T] == 0:
            np.random.seed(run_seeds[run])  # noqa: NPY002 - numba knows only the legacy API
        else:
            restore_rng_state(rng_states[run])
        _dyna_mcts_advance(world, schedule, config, _life_of(lives, run), max_real_steps)
        save_rng_state(rng_states[run])
    going = 0
    for run in range(run_seeds.shape[0]):
        if not lives.progress[run, _FINISHED]:
            going += 1
    return going


def dyna_mcts_runs(world: World, schedule: Schedule, config: AgentConfig,
                   run_seeds: np.ndarray) -> Life:
    """dyna_mcts_run for each seed in run_seeds (runs,), in parallel and in slices; each run
    seeds its own generator first and keeps its state between slices, so results depend
    neither on threads nor on slicing. Returns the runs' lives (Life, stacked over runs).
    """
    lives = _new_life(world.next_state.shape[1], schedule, world.start, run_seeds.shape[0])
    rng_states = np.zeros((run_seeds.shape[0], RNG_STATE_BYTES), dtype=np.uint8)
    per_slice = _real_steps_per_slice(run_seeds.shape[0], config)
    while _dyna_mcts_slice(world, schedule, config, run_seeds, rng_states, lives, per_slice):
        pass  # back in Python between slices: KeyboardInterrupt lands here
    return lives


# -- Python entry points ----------------------------------------------------------------------
@dataclass
class DynaMCTSResult:
    """What run_dyna_mcts and run_dyna_mcts_changing return.

    steps: (runs, episodes) int64 real steps per episode (0 for episodes not reached; in a
        changing maze, steps from S to each goal reached, padded with 0 to (runs, total_steps)).
    cumulative_reward: (runs, total_steps) int64 goals after each real step (changing
        maze only; (runs, 0) otherwise).
    steps_to_optimal: (runs,) int64 real steps until the greedy policy first followed an
        optimal path (in a changing maze: the new optimal path, counted from the start
        of the run, first checked after the switch); -1 if it never did.
    model_calls: (runs,) int64 model transitions spent on planning (= budget x real steps,
        but for the rare search that ran out of cells to expand).
    real_steps: (runs,) int64. q: (runs, n_states, 4) final action values.
    run_seeds: (runs,) int64; settings: the agent's settings, for the record.
    """

    steps: np.ndarray
    cumulative_reward: np.ndarray
    steps_to_optimal: np.ndarray
    model_calls: np.ndarray
    real_steps: np.ndarray
    q: np.ndarray
    run_seeds: np.ndarray
    settings: dict

    @property
    def mean_steps(self) -> np.ndarray:
        """(episodes,) steps per episode averaged over runs."""
        return self.steps.mean(axis=0)


MAX_BUDGET = 1_000_000


def check_agent_settings(settings: dict) -> dict:
    """The agent's settings, checked: run_dyna_mcts' keywords planner, budget, searches, c,
    unseen, rollout_depth, bootstrap, alpha, epsilon, gamma and the Ablation's fields backup,
    update, act, roots."""
    s = settings
    _choice("planner", s["planner"], PLANNERS)
    _choice("unseen", s["unseen"], UNSEEN)
    _choice("backup", s["backup"], BACKUPS)
    _choice("update", s["update"], UPDATES)
    _choice("act", s["act"], ACTS)
    _choice("roots", s["roots"], ROOTS)
    # Each search holds budget + 1 nodes; a million is far past any useful search here.
    check_int("budget", s["budget"], low=0, high=MAX_BUDGET)
    check_int("searches", s["searches"], low=1, high=max(s["budget"], 1))
    check_number("c", s["c"], low=0.0)
    check_int("rollout_depth", s["rollout_depth"], low=0)
    if not isinstance(s["bootstrap"], bool | np.bool_):
        raise TypeError(f"bootstrap must be True or False, got {s['bootstrap']!r}")
    if s["rollout_depth"] == 0 and not s["bootstrap"]:
        raise ValueError("rollout_depth = 0 with bootstrap = False leaves nothing to evaluate a "
                         "leaf with: use rollout_depth >= 1 or bootstrap = True")
    if s["act"] == "search" and (s["planner"] != "mcts" or s["roots"] != "current"):
        raise ValueError("act='search' needs planner='mcts' and roots='current' (a search from "
                         "the state the agent acts in)")
    check_unit_interval("alpha", s["alpha"], low_open=True)
    check_unit_interval("epsilon", s["epsilon"])
    check_unit_interval("gamma", s["gamma"])
    return {**s, "c": float(s["c"]), "bootstrap": bool(s["bootstrap"]), "alpha": float(s["alpha"]),
            "epsilon": float(s["epsilon"]), "gamma": float(s["gamma"])}


def agent_config(settings: dict) -> AgentConfig:
    """The compiled record of checked settings (see check_agent_settings)."""
    s = settings
    return AgentConfig(PLANNERS[s["planner"]], s["budget"], s["searches"], s["roots"] == "current",
                       s["c"], UNSEEN[s["unseen"]], s["rollout_depth"], s["bootstrap"],
                       BACKUPS[s["backup"]], s["update"] == "tree", s["act"] == "search",
                       s["alpha"], s["epsilon"], s["gamma"])


def _run(world: World, schedule: Schedule, settings: dict, runs: int, seed: int) -> DynaMCTSResult:
    check_int("runs", runs, low=1)
    run_seeds = run_seeds_from(seed, runs)
    lives = dyna_mcts_runs(world, schedule, agent_config(settings), run_seeds)
    progress = lives.progress
    return DynaMCTSResult(lives.episode_steps, lives.cumulative, progress[:, _FOUND].copy(),
                          progress[:, _CALLS].copy(), progress[:, _T].copy(), lives.q, run_seeds,
                          settings)


def run_dyna_mcts(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    maze: GridMaze | str | gym.Env,
    *,
    budget: int,
    episodes: int,
    runs: int,
    seed: int,
    planner: str = "mcts",
    searches: int = 1,
    c: float = 1.0,
    unseen: str = "stay",
    rollout_depth: int = 0,
    bootstrap: bool = True,
    ablation: Ablation = DEFAULT_SEARCH,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    gamma: float = 0.95,
    max_steps_per_episode: int = 100_000,
) -> DynaMCTSResult:
    """Run `runs` independent Dyna agents on an episodic maze for `episodes` episodes each.

    budget: model calls of planning per real step: Dyna-Q's n (planner="dyna-q", exactly
    tabular.planning) or a UCT search's budget (planner="mcts").
    Search options (planner="mcts"): searches, the budget split into that many searches
    each real step (the first from the state the agent will act in, any others from
    visited states drawn as Dyna-Q draws them); c UCB1 constant; unseen "stay" | "terminal"
    (untried pairs, see the module docstring); rollout_depth random model steps at a new
    leaf (0: evaluate it by Q alone), bootstrap adds gamma^k max Q at the rollout's end;
    ablation: the benchmark's variants of the search (an Ablation; the default agent
    without). Defaults: the book's Figure 8.2 (alpha 0.1, epsilon
    0.1, gamma 0.95). Also measures real steps until the greedy path is a shortest one.
    Same seed, same result, whatever the number of threads.
    """
    grid = as_maze(maze)
    if isinstance(grid, ChangingMaze):
        raise ValueError("run_dyna_mcts runs on a maze whose walls stay put; this maze changes "
                         "its walls after switch_step steps: run it with run_dyna_mcts_changing")
    settings = check_agent_settings(dict(
        planner=planner, budget=budget, searches=searches, c=c, unseen=unseen,
        rollout_depth=rollout_depth, bootstrap=bootstrap, alpha=alpha, epsilon=epsilon,
        gamma=gamma) | checked_ablation(ablation)._asdict())
    check_int("episodes", episodes, low=1)
    check_int("max_steps_per_episode", max_steps_per_episode, low=1)
    t = grid.tables()
    tables = (np.stack([t.next_state] * 2), np.stack([t.reward] * 2),
              np.stack([t.terminated] * 2), np.zeros(grid.n_states, dtype=np.bool_))
    optimal = np.full(2, grid.shortest_path_length(), dtype=np.int64)
    world = World(*tables, t.start, -1, optimal, 0)
    schedule = Schedule(episodes * max_steps_per_episode, episodes, max_steps_per_episode, False)
    return _run(world, schedule, settings, runs, seed)


def run_dyna_mcts_changing(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    maze: ChangingMaze,
    *,
    budget: int,
    steps: int,
    runs: int,
    seed: int,
    planner: str = "mcts",
    searches: int = 1,
    c: float = 1.0,
    unseen: str = "stay",
    rollout_depth: int = 0,
    bootstrap: bool = True,
    ablation: Ablation = DEFAULT_SEARCH,
    alpha: float = 1.0,
    epsilon: float = 0.1,
    gamma: float = 0.95,
) -> DynaMCTSResult:
    """The same agents for `steps` real steps in a maze that changes at maze.switch_step.

    Continuing, as dyna_q_plus.run_changing_maze (back to S at the goal). Defaults are
    notebook 02's Figure 8.5 settings (alpha 1, epsilon 0.1, gamma 0.95); with
    planner="dyna-q" the run is draw for draw dyna_q_plus's Dyna-Q. steps_to_optimal:
    first real step, after the switch, at which the greedy path from S is a shortest
    path of the new layout (for the Shortcut Maze: it takes the shortcut).
    """
    if not isinstance(maze, ChangingMaze):
        raise TypeError(f"maze must be a ChangingMaze, got {type(maze).__name__}")
    settings = check_agent_settings(dict(
        planner=planner, budget=budget, searches=searches, c=c, unseen=unseen,
        rollout_depth=rollout_depth, bootstrap=bootstrap, alpha=alpha, epsilon=epsilon,
        gamma=gamma) | checked_ablation(ablation)._asdict())
    check_int("steps", steps, low=1)
    next_state, reward, terminated, walls_after, start = maze_pair_tables(maze)
    after = GridMaze(maze.layouts[1])
    optimal = np.array([0, after.shortest_path_length()], dtype=np.int64)
    world = World(next_state, reward, terminated, walls_after, start, maze.switch_step, optimal,
                  maze.switch_step)
    return _run(world, Schedule(steps, steps, steps + 1, True), settings, runs, seed)


class SearchTargets(NamedTuple):
    """What one search from Python found at its root.

    q_values: (4,) float64 search values Q(root, a), NaN where a was not expanded.
    visits:   (4,) int64 simulations through each root action.
    tried:    (4,) bool, actions the model has seen at root: only these update Q.
    model_calls: transitions spent (the budget, unless the tree ran out of cells).
    n_nodes:  tree nodes visited (root included).
    """

    q_values: np.ndarray
    visits: np.ndarray
    tried: np.ndarray
    model_calls: int
    n_nodes: int


def search_q_targets(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    q: np.ndarray,
    model: TabularModel,
    root: int,
    *,
    budget: int,
    c: float = 1.0,
    gamma: float = 0.95,
    unseen: str = "stay",
    rollout_depth: int = 0,
    bootstrap: bool = True,
    backup: str = "max",
    seed: int | None = None,
) -> SearchTargets:
    """One search of `budget` model calls from root on a learned model; q is not changed.

    q: (n_states, 4) the agent's values (leaf evaluation). Returns the root's search
    values: what run_dyna_mcts moves Q(root, a) towards for the tried actions.
    """
    q = np.asarray(q, dtype=np.float64)
    if not isinstance(model, TabularModel):
        raise TypeError(f"model must be a tabular.TabularModel, got {type(model).__name__}")
    n_states = model.next_state.shape[0]
    if q.shape != (n_states, N_ACTIONS):
        raise ValueError(f"q must have shape ({n_states}, 4) like the model, got {q.shape}")
    check_int("root", root, low=0, high=n_states - 1)
    settings = check_agent_settings(dict(
        planner="mcts", budget=budget, searches=1, roots="current", c=c, unseen=unseen,
        rollout_depth=rollout_depth, bootstrap=bootstrap, backup=backup, update="root", act="q",
        alpha=1.0, epsilon=0.0, gamma=gamma))
    check_int("budget", budget, low=1)
    if seed is not None:
        check_int("seed", seed, low=0)
        seed_numba(seed)
    tree = new_search_tree(budget)
    root_q = np.zeros(N_ACTIONS)
    q_copy = q.copy()
    calls = search_and_update(q_copy, model, tree, np.zeros(budget + 1), int(root), budget,
                              agent_config(settings), root_q)
    kids = tree.children[0]
    expanded = kids >= 0
    visits = np.where(expanded, tree.visits[np.maximum(kids, 0)], 0)
    values = np.where(expanded, root_q, np.nan)
    tried = model.next_state[root] >= 0
    n_nodes = int(np.count_nonzero(tree.visits[: budget + 1] > 0))
    return SearchTargets(values, visits.astype(np.int64), tried, int(calls), n_nodes)


def apply_search_targets(q: np.ndarray, root: int, targets: SearchTargets, alpha: float) -> None:
    """Search values as Q targets, in place: Q(root, a) += alpha (Q_search(root, a) - Q(root, a))
    for every action a the agent has tried at root and the search expanded.

    q: (n_states, 4). targets: from search_q_targets. Untried actions are never updated: their
    search values rest on the model's guess (`unseen`), not on anything the agent saw.
    The compiled agent does the same inside search_and_update (tests check they agree).
    """
    use = targets.tried & ~np.isnan(targets.q_values)
    q[root, use] += alpha * (targets.q_values[use] - q[root, use])


def dyna_mcts_curves(planner: str = "mcts", budget: int = 5, rollout_depth: int = 0,
                     runs: int = 10, episodes: int = 30, seed: int = 0,
                     searches: int = 1) -> np.ndarray:
    """(episodes,) mean steps per episode on the Dyna Maze (Figure 8.2 settings).

    A pure function of ints and strings, cheap enough for a notebook slider and safe to
    wrap in functools.lru_cache. rollout_depth > 0 evaluates leaves by random rollouts
    of that depth (without bootstrapping: classic UCT) instead of by Q. searches > 1: the
    first search from the current state, the others from visited states (budget split).
    """
    from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT

    check_int("rollout_depth", rollout_depth, low=0)
    result = run_dyna_mcts(GridMaze(DYNA_MAZE_LAYOUT), budget=budget, episodes=episodes, runs=runs,
                           seed=seed, planner=planner, rollout_depth=rollout_depth,
                           bootstrap=rollout_depth == 0, searches=searches)
    return result.mean_steps


# Calls from Python run bounds-checked twins (an index out of range: ValueError, not a crash);
# compiled callers keep the kernels as they are.
bounds_checked_from_python(learned_model)
bounds_checked_from_python(uct_search)
bounds_checked_from_python(backed_up_values)
bounds_checked_from_python(search_and_update)
bounds_checked_from_python(greedy_is_optimal)
