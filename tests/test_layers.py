"""The package's folders are its layers, and imports only run downwards (or sideways).

    core       validation, compiled, numba_tools, reproducibility, curves (and results, the
               committed benchmark results with their loader)
    worlds     envs, simulators
    learning   data, models
    planners   search_core, search_reference, mcts, puct, mpc
    agents     kinds, tabular, dyna_q_reference, sweeping, dyna_q_plus, dyna_mcts, dqn, imagined,
               alphazero, learned_mcts
    course     checks (one module per lesson), widgets, plots, mpc_plots, tree_plot, summary

A planner searches or optimises with any model through the one step-function interface; an agent
acts and learns in an environment (and may plan with a planner); course support (exercise checks,
slider callbacks, figures, the overview table) serves the notebooks. Every import is read,
including those inside functions. A new module goes into the folder of its layer.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mbrl_helpers"
LAYERS = ("core", "worlds", "learning", "planners", "agents", "course")
# Folders of the package that are not layers, and the layer they sit in.
SITS_IN = {"results": "core"}
LEVEL = {name: level for level, name in enumerate(LAYERS)}
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def layer_of_file(path: Path) -> str:
    folder = path.relative_to(PACKAGE).parts[0]
    return SITS_IN.get(folder, folder)


def layer_of_import(dotted: str) -> str | None:
    """'mbrl_helpers.agents.tabular' -> 'agents'; None for the package itself."""
    parts = dotted.split(".")
    if parts[0] != "mbrl_helpers" or len(parts) < 2:
        return None
    return SITS_IN.get(parts[1], parts[1])


def imported(path: Path) -> list[tuple[str, list[str], int]]:
    """(dotted module of the package, names taken from it, line) for every import in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mbrl_helpers":
            if node.module == "mbrl_helpers":  # from mbrl_helpers import results
                out += [(f"mbrl_helpers.{alias.name}", [], node.lineno) for alias in node.names]
            else:
                out.append((node.module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names
                    if alias.name.startswith("mbrl_helpers.")]
    return out


def test_every_folder_is_a_layer_and_no_module_lies_loose():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS) | set(SITS_IN), (
        f"the package's folders {sorted(folders)} are not the layers {LAYERS} (+ {sorted(SITS_IN)})")
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"put these modules into the folder of their layer: {loose}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_never_run_upwards(path):
    here = layer_of_file(path)
    upward = [f"line {line}: {module}" for module, _, line in imported(path)
              if (there := layer_of_import(module)) is not None and LEVEL[there] > LEVEL[here]]
    assert not upward, f"{path.relative_to(PACKAGE)} ({here}) imports from a higher layer: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_is_imported_from_another_module(path):
    private = [f"line {line}: {module}.{name}" for module, names, line in imported(path)
               for name in names if name.startswith("_")]
    assert not private, f"{path.stem} imports private names (make them public where they belong): {private}"


def test_an_upward_import_is_caught(tmp_path):
    bad = tmp_path / "envs.py"
    bad.write_text("def f():\n    from mbrl_helpers.course import widgets\n")
    assert [(m, line) for m, _, line in imported(bad)] == [("mbrl_helpers.course", 2)]
    assert LEVEL[layer_of_import("mbrl_helpers.course")] > LEVEL["worlds"]


def test_the_top_level_init_imports_only_what_registers_and_pins():
    # mbrl_helpers/__init__.py runs on every import: it may only pin torch's kernels and
    # register the environments, so that importing one layer does not import them all.
    modules = {module for module, _, _ in imported(PACKAGE / "__init__.py")}
    assert modules <= {"mbrl_helpers.core.reproducibility", "mbrl_helpers.worlds.envs"}, modules
