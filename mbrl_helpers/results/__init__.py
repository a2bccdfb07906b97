"""The committed benchmark results the notebooks read, shipped inside the package.

The files in this folder (JSON data, Markdown tables, figures) are written by the scripts in
the repository's benchmarks/ folder and committed. They are package data: the wheel carries
them, so a package installed without the repository (Colab's install cell, a plain
`pip install`) finds them exactly as a clone does. This module is the one place that knows
where they are; everything else asks it:

    results.results_path("imagined.json")    # Path of one file; MissingResultsError if absent
    results.load_json("imagined.json")       # that file, parsed
    results.results_dir()                    # the folder itself (the benchmarks write here)

Each file is made by the benchmark named like its first part: `imagined.grid.json` by
benchmarks/bench_imagined.py, `mcts.json` by benchmarks/bench_mcts.py, and so on.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

REGENERATE_ALL = "python3 course.py run benchmarks/run_all.py"


class MissingResultsError(FileNotFoundError):
    """A results file is not there (not yet generated, or deleted)."""


def results_dir() -> Path:
    """The folder of the committed results, wherever the package is installed (importlib.resources)."""
    folder = resources.files(__name__)
    if not isinstance(folder, Path):   # e.g. imported from a zip file: no folder to read or write
        raise RuntimeError(f"the results of {__name__} are not in a folder on disk ({folder!r}); "
                           "install the package from its wheel or a clone, not as a zip file")
    return folder


def regenerate_command(name: str) -> str:
    """The command that writes results file `name`, e.g. 'imagined.grid.json' -> its benchmark."""
    return f"python3 course.py run benchmarks/bench_{name.split('.')[0]}.py"


def results_path(name: str, *, folder: Path | str | None = None, command: str | None = None) -> Path:
    """Path of results file `name` (e.g. "imagined.json"), checked to exist.

    folder: read from there instead of the package's results (a modified copy, in tests).
    command: the command that regenerates the file, for the error message (by default the
    benchmark named like the file's first part).
    Raises MissingResultsError naming the file and the command that makes it.
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be the file name of a results file, such as 'imagined.json'; "
                         f"got {name!r}")
    path = Path(folder if folder is not None else results_dir()) / name
    if not path.is_file():
        raise MissingResultsError(
            f"missing results file {path}: regenerate it with `{command or regenerate_command(name)}` "
            f"in a clone of the course repository (`{REGENERATE_ALL}` regenerates every result)"
        )
    return path


def load_json(name: str, *, folder: Path | str | None = None, command: str | None = None) -> dict:
    """The parsed contents of JSON results file `name` (a JSON object).

    Raises MissingResultsError if it is not there, ValueError naming the file and the command that
    remakes it if it is not text, not valid JSON (cut short, edited by hand) or not an object.
    """
    path = results_path(name, folder=folder, command=command)
    remake = f"regenerate it with `{command or regenerate_command(name)}`"
    try:
        data = json.loads(path.read_text())
    except UnicodeDecodeError as error:
        raise ValueError(f"results file {path} is not text ({error}): {remake}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"results file {path} is not valid JSON ({error}): it may be cut short or "
                         f"edited by hand; {remake}") from None
    if not isinstance(data, dict):
        raise ValueError(f"results file {path} must hold a JSON object, got {type(data).__name__}; {remake}")
    return data
