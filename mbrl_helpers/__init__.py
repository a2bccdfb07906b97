"""mbrl_helpers: the tested algorithms behind the course "model-based RL, hands-on".

Importing the package registers its gymnasium environments (mbrl/DynaMaze-v0,
mbrl/BlockingMaze-v0, mbrl/ShortcutMaze-v0).

Modules, in the order data flows through them (lower layers never import higher):
    envs         grid mazes of Sutton & Barto chapter 8 (gymnasium environments)
    simulators   the shared model interface step(states, actions) and perfect simulators
    data         real transitions from any gymnasium environment
    tabular      Dyna-Q and its pieces (numba-compiled)
    dyna_q_plus  Dyna-Q+ for a changing world
    sweeping     prioritized sweeping
    models       neural dynamics models and ensembles (torch)
    dqn          a compact DQN
    imagined     DQN on model-generated experience: simple MBRL and Dyna-style DQN
    mcts         Monte Carlo rollout planning and UCT
    puct         PUCT search with priors and batched leaf evaluation (AlphaZero style)
    dyna_mcts    MCTS as Dyna's planning component, on the agent's tabular model
    learned_mcts tree search on a learned CartPole ensemble, with a disagreement guard
    alphazero    an AlphaZero-style agent on CartPole with a learned model
    reproducibility  torch's CPU kernels fixed on import: the same numbers on every CPU
    summary      the course's measured comparison table, read from the benchmark results
    plots, tree_plot   figures
    widgets      the plain callbacks behind the notebooks' sliders
    checks       self-checks for the notebooks' exercises
    validation   argument checks with clear messages
"""

# First, before anything can import torch: fix its CPU kernels (see reproducibility.py).
from mbrl_helpers.reproducibility import pin_torch_kernels

pin_torch_kernels()

from mbrl_helpers.envs import register_envs  # noqa: E402

register_envs()

__version__ = "0.1.0"
