"""Learning curves of several runs on one grid of real steps (numpy only).

Runs evaluate at their own real steps (every 500 for DQN, after every episode for MPC) and stop
when solved; to take a median over seeds, each curve is read at the same grid of real steps.
"""

from __future__ import annotations

import numpy as np


def curve_on_grid(eval_steps: np.ndarray, eval_returns: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A learning curve read at the real steps of `grid`: (len(grid),).

    Each grid point takes the latest evaluation at or before it (NaN before
    the first); a run stopped when solved keeps its last value afterwards.
    """
    eval_steps, eval_returns = np.asarray(eval_steps), np.asarray(eval_returns, dtype=float)
    if eval_steps.ndim != 1 or eval_returns.shape != eval_steps.shape:
        raise ValueError(f"eval_steps and eval_returns must be 1-D of one length, got shapes "
                         f"{eval_steps.shape} and {eval_returns.shape}")
    if np.any(np.diff(eval_steps) < 0):
        raise ValueError(f"eval_steps must be in increasing order (real steps of each evaluation), "
                         f"got {eval_steps.tolist()}")
    index = np.searchsorted(eval_steps, np.asarray(grid), side="right") - 1
    out = np.where(index >= 0, eval_returns[np.clip(index, 0, None)] if len(eval_returns) else np.nan, np.nan)
    return out.astype(float)
