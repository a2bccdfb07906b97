"""Argument checks shared by the package: clear errors naming the parameter,
the value given and what is allowed."""

from __future__ import annotations

import math
import numbers

import numpy as np


def check_int(name: str, value: object, *, low: int | None = None, high: int | None = None) -> None:
    """Raise TypeError unless value is an integer, ValueError unless low <= value <= high."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if low is not None and value < low:
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    if high is not None and value > high:
        allowed = f"<= {high}" if low is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    if high is None and value > INT64_MAX:  # compiled code and numpy count in 64 bits
        raise ValueError(f"{name} must be <= 2**63 - 1, got {value}")


INT64_MAX = 2**63 - 1


def check_number(
    name: str, value: object, *, low: float | None = None, high: float | None = None,
    allow_inf: bool = False,
) -> None:
    """Raise TypeError unless value is a real number, ValueError unless low <= value <= high.

    NaN is always refused; +-inf only where the parameter documents it (allow_inf).
    numpy scalars (np.float32, np.int64, ...) are accepted like Python numbers.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if value != value:  # NaN
        raise ValueError(f"{name} must be a number, got NaN")
    if not allow_inf and math.isinf(value):
        allowed = "a finite number"
        if low is not None and high is not None:
            allowed += f" in [{low}, {high}]"
        elif low is not None or high is not None:
            allowed += f" >= {low}" if high is None else f" <= {high}"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")


SEED_MAX = 2**32 - 1  # numba's and numpy's legacy generators take an unsigned 32-bit seed


def check_seed(name: str, value: object) -> None:
    """Raise unless value is an integer seed in [0, 2**32 - 1]."""
    check_int(name, value, low=0, high=SEED_MAX)


def check_unit_interval(name: str, value: object, *, low_open: bool = False) -> None:
    """Raise unless value lies in [0, 1], or in (0, 1] when low_open."""
    check_number(name, value)
    ok = (0 < value <= 1) if low_open else (0 <= value <= 1)
    if not ok:
        allowed = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be in {allowed}, got {value}")


def check_spaces(env: object, name: str, user: str, *, observation: str = "Box",
                 action: str = "Discrete") -> None:
    """Raise TypeError unless env's observation and action spaces are of the named gymnasium kinds.

    name: how the caller's parameter is called (e.g. "env_id='mbrl/DynaMaze-v0'");
    user: what needs those spaces (e.g. "DQN").
    """
    import gymnasium as gym

    needed = {"observation_space": getattr(gym.spaces, observation),
              "action_space": getattr(gym.spaces, action)}
    for attribute, kind in needed.items():
        space = getattr(env, attribute, None)
        if not isinstance(space, kind):
            raise TypeError(
                f"{user} needs an environment with a {observation} observation space (a vector of "
                f"numbers) and a {action} action space; {name} has {attribute} {space!r}"
            )


# Planning steps per real step above this would overflow numba's 64-bit counters.
MAX_PLANNING_STEPS = 2**62


def check_agent_params(planning_steps: object, alpha: object, epsilon: object, gamma: object) -> None:
    """Raise unless a tabular agent's settings are allowed: planning_steps an integer in
    [0, MAX_PLANNING_STEPS], alpha in (0, 1], epsilon and gamma in [0, 1]."""
    check_int("planning_steps", planning_steps, low=0, high=MAX_PLANNING_STEPS)
    check_unit_interval("alpha", alpha, low_open=True)
    check_unit_interval("epsilon", epsilon)
    check_unit_interval("gamma", gamma)


# -- arrays handed to compiled code, which does not check indices --------------------------
def check_array(name: str, value: object, ndim: int, kinds: str = "f") -> np.ndarray:
    """Raise unless value is a non-empty numpy array of ndim dimensions whose dtype kind is in kinds
    ("f" float, "i" int, "b" bool)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    if value.ndim != ndim or value.dtype.kind not in kinds or value.size == 0:
        kind = {"f": "float", "i": "int", "b": "bool"}[kinds[0]]
        raise ValueError(f"{name} must be a non-empty {ndim}-D {kind} array, got shape "
                         f"{value.shape} dtype {value.dtype}")
    return value


def check_table(name: str, value: object, shape: tuple[int | None, ...], dtype: type) -> np.ndarray:
    """Raise unless value is a numpy array of this dtype and shape (None: any length there).

    For arrays compiled code updates in place: another dtype would be a silent copy."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    fits = value.ndim == len(shape) and all(want is None or got == want
                                            for got, want in zip(value.shape, shape, strict=True))
    if not fits or value.dtype != dtype:
        wanted = "(" + ", ".join("n" if s is None else str(s) for s in shape)
        wanted += ",)" if len(shape) == 1 else ")"
        raise ValueError(f"{name} must be a {np.dtype(dtype).name} array of shape {wanted}, got shape "
                         f"{value.shape} dtype {value.dtype}")
    return value


def check_index(name: str, value: object, size: int, what: str) -> None:
    """Raise unless value is an integer index in [0, size - 1] (what: "state", "action", ...)."""
    check_int(name, value)
    if not 0 <= value < size:
        raise ValueError(f"{name} must be a {what} index in [0, {size - 1}], got {value}")


def check_indices(name: str, values: np.ndarray, low: int, high: int, what: str) -> None:
    """Raise unless every entry of the integer array values lies in [low, high]."""
    if values.size and (values.min() < low or values.max() > high):
        bad = values[(values < low) | (values > high)][0]
        raise ValueError(f"{name} must hold {what} in [{low}, {high}], got {bad}")
