"""The committed benchmark results are package data, found in one place (mbrl_helpers.results)."""

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

import mbrl_helpers
from mbrl_helpers import results
from mbrl_helpers.course import summary

ROOT = Path(__file__).resolve().parent.parent


def test_results_live_inside_the_package():
    folder = results.results_dir()
    assert folder == Path(mbrl_helpers.__file__).resolve().parent / "results"
    for spec in summary.RESULTS_FILES:
        assert results.results_path(f"{spec.name}.json").is_file()
    assert "runs" in results.load_json("imagined.grid.json")


def test_every_results_file_ships_in_the_wheel():
    """Each file in the results folder matches a package-data pattern of pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    included = config["packages"]["find"]["include"]
    assert any(fnmatch("mbrl_helpers.results", pattern) for pattern in included), included
    patterns = config["package-data"]["mbrl_helpers.results"]
    files = [p.name for p in results.results_dir().iterdir() if p.is_file() and p.suffix != ".py"]
    assert files
    left_out = [name for name in files if not any(fnmatch(name, pattern) for pattern in patterns)]
    assert not left_out, f"not in [tool.setuptools.package-data] of pyproject.toml: {left_out}"


def test_a_missing_file_names_itself_and_the_command_that_makes_it(tmp_path):
    with pytest.raises(results.MissingResultsError) as error:
        results.results_path("imagined.grid.json", folder=tmp_path)
    message = str(error.value)
    assert str(tmp_path / "imagined.grid.json") in message
    assert "python3 course.py run benchmarks/bench_imagined.py" in message
    with pytest.raises(results.MissingResultsError, match=r"no_such\.json.*--part x"):
        results.load_json("no_such.json", command="python3 course.py run benchmarks/bench_x.py --part x")


@pytest.mark.parametrize("name", ["", "../pyproject.toml", "sub/imagined.json", None])
def test_a_name_that_is_not_a_file_name_is_refused(name):
    with pytest.raises(ValueError, match=r"name must be the file name of a results file.*got"):
        results.results_path(name)


def test_no_other_code_works_out_where_the_results_are():
    """The results folder is computed in mbrl_helpers.results only; everything else asks it."""
    spelled_out = re.compile(r"""/\s*["']results["']|["']benchmarks/results|parent\s*/\s*["']results""")
    offenders = []
    for path in [ROOT / "course.py", *ROOT.glob("mbrl_helpers/**/*.py"), *ROOT.glob("benchmarks/*.py"),
                 *ROOT.glob("tools/*.py")]:
        if path.parent.name == "results" and path.name == "__init__.py":
            continue
        if spelled_out.search(path.read_text()):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"these files build the results path themselves: {offenders}"


@pytest.mark.parametrize("content, problem", [(b'{"schema": 1, "tab', "not valid JSON"),
                                              (b"\xff\xfe\x00garbage", "not text"),
                                              (b"[1, 2]", "must hold a JSON object")])
def test_a_corrupt_results_file_is_named_with_the_command_that_remakes_it(tmp_path, content, problem):
    (tmp_path / "imagined.json").write_bytes(content)
    with pytest.raises(ValueError, match=rf"imagined\.json.*{problem}.*bench_imagined\.py"):
        results.load_json("imagined.json", folder=tmp_path)
