"""mbrl_helpers: the tested algorithms behind the course "model-based RL, hands-on".

Importing the package registers its gymnasium environments (mbrl/DynaMaze-v0, ...).

Modules, in the order data flows through them:
    envs        grid mazes of Sutton & Barto chapter 8 (gymnasium environments)
    tabular     Dyna-Q and its pieces (numba-compiled)
    plots       the book's figures and maze drawings (matplotlib)
    widgets     the plain callbacks behind the notebooks' sliders
    checks      self-checks for the notebooks' exercises
"""

from mbrl_helpers.envs import register_envs

register_envs()

__version__ = "0.1.0"
