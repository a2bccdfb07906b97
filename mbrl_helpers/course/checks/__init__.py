"""Self-checks for the notebooks' exercises, one module per lesson.

Each `check_*` takes the student's function, runs it on random cases against
the package's reference, and prints in plain words whether it is right; if
not, one concrete hint: the input, what was expected and what came back.
It returns True or False and never raises because of a wrong answer.
A notebook calls them as `checks.check_...`; `common` holds what they share.
"""

from mbrl_helpers.course.checks.lesson01_dyna_q import check_planning, check_q_learning_update
from mbrl_helpers.course.checks.lesson02_changing_worlds import (
    check_planned_reward,
    check_queue_predecessors,
    check_queue_update,
)
from mbrl_helpers.course.checks.lesson03_neural_models import (
    check_normalisation_stats,
    check_open_loop_rollout,
)
from mbrl_helpers.course.checks.lesson04_imagined import check_branched_rollout, check_dqn_target
from mbrl_helpers.course.checks.lesson05_mpc import check_cem_refit, check_score_with_termination
from mbrl_helpers.course.checks.lesson06_mcts import check_backup, check_simulate, check_ucb1_score
from mbrl_helpers.course.checks.lesson07_learned_models import (
    check_puct_score,
    check_puct_select,
    check_search_targets_update,
)
from mbrl_helpers.course.checks.lesson08_choosing import check_compute_ratio, check_methods_within_budget

__all__ = [
    "check_q_learning_update", "check_planning",
    "check_planned_reward", "check_queue_update", "check_queue_predecessors",
    "check_normalisation_stats", "check_open_loop_rollout",
    "check_dqn_target", "check_branched_rollout",
    "check_score_with_termination", "check_cem_refit",
    "check_ucb1_score", "check_backup", "check_simulate",
    "check_puct_score", "check_puct_select", "check_search_targets_update",
    "check_methods_within_budget", "check_compute_ratio",
]
