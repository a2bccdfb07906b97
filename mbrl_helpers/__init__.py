"""mbrl_helpers: the tested algorithms behind the course "model-based RL, hands-on".

Importing the package registers its gymnasium environments (mbrl/DynaMaze-v0,
mbrl/BlockingMaze-v0, mbrl/ShortcutMaze-v0).

Its folders are layers; a module imports only from its own layer or lower ones:
    core       validation, compiled kernels' checks, numba tools, reproducibility, curves
    worlds     envs (the chapter 8 mazes), simulators (the step-function model interface)
    learning   data (real transitions), models (neural dynamics models and ensembles)
    planners   search_core, search_reference, mcts, puct, mpc
    agents     tabular (Dyna-Q), dyna_q_reference, sweeping, dyna_q_plus, dyna_mcts, dqn,
               imagined, alphazero, learned_mcts, and kinds (the agent kinds)
    course     checks (per lesson), widgets, plots, mpc_plots, tree_plot, summary
and results holds the committed benchmark results with their loader. Each folder's
__init__ says what its modules hold. A notebook imports what it uses, e.g.
    from mbrl_helpers.agents import tabular
"""

# First, before anything can import torch: fix its CPU kernels (see reproducibility.py).
from mbrl_helpers.core.reproducibility import pin_torch_kernels

pin_torch_kernels()

from mbrl_helpers.worlds.envs import register_envs  # noqa: E402

register_envs()

__version__ = "0.1.0"
