"""Small numba helpers every compiled planner and agent shares.

    seed_numba          seed numba's own random generator (compiled code draws from it)
    random_index        a uniform integer in 0 .. n-1
    row_max             the largest entry of a short 1-D array
    argmax_random_tie   the index of the largest entry, ties broken at random

Search (mcts, dyna_mcts) and agents (tabular, sweeping, dyna_q_plus) import them
from here, so a planner never depends on an agent module. Calls from Python are
argument-checked first (mbrl_helpers.core.compiled.checked); compiled callers pay nothing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mbrl_helpers.core.compiled import checked
from mbrl_helpers.core.validation import check_int, check_seed


@njit(cache=True)
def seed_numba(seed: int) -> None:
    """Seed numba's random generator (used by every compiled function of the package)."""
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


# -- checks of calls from Python ---------------------------------------------------------
def check_float_vector(name: str, value: object) -> np.ndarray:
    """value as a non-empty finite 1-D float array, or TypeError/ValueError naming `name`."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    if value.ndim != 1 or value.dtype.kind != "f" or value.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D float array, got shape "
                         f"{value.shape} dtype {value.dtype}")
    if not np.isfinite(value).all():
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_seed_numba(seed):
    check_seed("seed", seed)


def _check_random_index(n):
    check_int("n", n, low=1)


def _check_values(values):
    check_float_vector("values", values)


checked(_check_seed_numba)(seed_numba)
checked(_check_random_index)(random_index)
checked(_check_values)(row_max)
checked(_check_values)(argmax_random_tie)
