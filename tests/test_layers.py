"""The package's modules form layers, and imports only run downwards (or sideways).

    foundation   validation, compiled, numba_tools, reproducibility, results, curves, agents
    worlds       envs, simulators
    models       data, models
    planners     search_core, search_reference, mcts, puct, mpc
    agents       tabular, dyna_q_reference, sweeping, dyna_q_plus, dyna_mcts, dqn, imagined,
                 alphazero, learned_mcts
    course       checks, widgets, plots, mpc_plots, tree_plot, summary

(`agents` is the list of agent kinds, a name every layer may use; the agents themselves are
the modules of the agents layer.)

A planner searches or optimises with any model through the one step-function interface; an agent
acts and learns in an environment (and may plan with a planner); course support (exercise checks,
slider callbacks, figures, the overview table) serves the notebooks. Every import is read,
including those inside functions. A new module must be given a layer here.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mbrl_helpers"
LAYERS = (
    ("foundation", {"validation", "compiled", "numba_tools", "reproducibility", "results", "curves",
                    "agents"}),
    ("worlds", {"envs", "simulators"}),
    ("models", {"data", "models"}),
    ("planners", {"search_core", "search_reference", "mcts", "puct", "mpc"}),
    ("agents", {"tabular", "dyna_q_reference", "sweeping", "dyna_q_plus", "dyna_mcts", "dqn", "imagined",
                "alphazero", "learned_mcts"}),
    ("course", {"checks", "widgets", "plots", "mpc_plots", "tree_plot", "summary"}),
)
LEVEL = {module: level for level, (_, modules) in enumerate(LAYERS) for module in modules}
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def imported(path: Path) -> list[tuple[str, list[str], int]]:
    """(module of the package, names taken from it, line) for every import in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "mbrl_helpers":
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mbrl_helpers."):
            module = node.module.split(".")[1]
            out.append((module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out += [(alias.name.split(".")[1], [], node.lineno) for alias in node.names
                    if alias.name.startswith("mbrl_helpers.")]
    return out


def test_every_module_has_a_layer():
    missing = [p.stem for p in MODULES if p.stem not in LEVEL]
    assert not missing, f"give these modules a layer in tests/test_layers.py: {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_imports_never_run_upwards(path):
    here = LEVEL.get(path.stem)
    if here is None:
        pytest.skip("no layer (see test_every_module_has_a_layer)")
    upward = [f"line {line}: {module} ({LAYERS[LEVEL[module]][0]})" for module, _, line in imported(path)
              if module in LEVEL and LEVEL[module] > here]
    assert not upward, f"{path.stem} ({LAYERS[here][0]}) imports from a higher layer: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_no_private_name_is_imported_from_another_module(path):
    private = [f"line {line}: {module}.{name}" for module, names, line in imported(path)
               for name in names if name.startswith("_")]
    assert not private, f"{path.stem} imports private names (make them public where they belong): {private}"


def test_an_upward_import_is_caught(tmp_path):
    bad = tmp_path / "envs.py"
    bad.write_text("def f():\n    from mbrl_helpers import widgets\n")
    assert [(m, line) for m, _, line in imported(bad)] == [("widgets", 2)]
    assert LEVEL["widgets"] > LEVEL["envs"]
