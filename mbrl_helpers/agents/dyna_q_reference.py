"""Tabular Dyna-Q in plain Python, read top to bottom like the book's box (section 8.2).

The same agent as `tabular.run_dyna_q`, with no arrays and no compiler: a Q
table of lists, a model that is a dict, one update at a time. It draws its
random numbers from the same generator, in the same order, so from the same
seed it takes the same steps and ends with the same Q, bit for bit (a test
checks it). It is the yardstick of benchmarks/bench_dyna_q.py (how much the
compiled version saves) and a second reading of the algorithm; the notebooks
run the compiled one.
"""

from __future__ import annotations

import random

from mbrl_helpers.worlds.envs import GridMaze

N_ACTIONS = 4


def numba_like_generator(seed: int) -> random.Random:
    """A Python generator that draws what numba's np.random.random() draws after np.random.seed(seed).

    Both are the Mersenne Twister; numba seeds it with the reference init_genrand (below),
    and both make a float from two 32-bit words the same way.
    """
    state = [seed & 0xFFFFFFFF]
    for i in range(1, 624):
        previous = state[-1]
        state.append((1812433253 * (previous ^ (previous >> 30)) + i) & 0xFFFFFFFF)
    rng = random.Random()
    rng.setstate((3, (*state, 624), None))
    return rng


def dyna_q_reference(
    maze: GridMaze,
    planning_steps: int,
    episodes: int,
    seed: int,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    gamma: float = 0.95,
) -> tuple[list[int], list[list[float]]]:
    """One Dyna-Q agent for `episodes` episodes; returns (steps per episode, Q).

    Q is a list of n_states lists of 4 action values. seed: the agent's own seed
    (run_dyna_q gives run i the seed run_seeds_from(seed, runs)[i]).
    """
    rng = numba_like_generator(seed)

    def random_index(n: int) -> int:
        return int(rng.random() * n)

    q = [[0.0] * N_ACTIONS for _ in range(maze.n_states)]  # (a) Q(s, a) = 0 ...
    model: dict[tuple[int, int], tuple[float, int, bool]] = {}  # ... and an empty model
    seen_states: list[int] = []  # states tried so far, in the order first seen

    def epsilon_greedy(s: int) -> int:
        if rng.random() < epsilon:
            return random_index(N_ACTIONS)
        best = max(q[s])
        ties = [a for a in range(N_ACTIONS) if q[s][a] == best]
        return ties[random_index(len(ties))]

    def q_learning_update(s: int, a: int, r: float, s_next: int, done: bool) -> None:
        target = r if done else r + gamma * max(q[s_next])
        q[s][a] += alpha * (target - q[s][a])

    steps = []
    for _ in range(episodes):
        s, t = maze.start, 0
        while True:
            a = epsilon_greedy(s)                                   # (b), (c) act
            s_next = maze.move(s, a)
            done = maze.is_goal(s_next)
            r = 1.0 if done else 0.0
            q_learning_update(s, a, r, s_next, done)                # (d) direct RL
            if s not in seen_states:                                # (e) model learning
                seen_states.append(s)
            model[(s, a)] = (r, s_next, done)
            for _ in range(planning_steps):                         # (f) planning
                ps = seen_states[random_index(len(seen_states))]    # a seen state ...
                tried = [b for b in range(N_ACTIONS) if (ps, b) in model]
                pa = tried[random_index(len(tried))]                # ... an action tried there
                q_learning_update(ps, pa, *model[(ps, pa)])
            s, t = s_next, t + 1
            if done:
                break
        steps.append(t)
    return steps, q
