"""Give every notebook its Binder and Colab launch links and its Colab install cell (idempotent).

    python3 course.py run tools/add_launch_links.py                       # every notebook in notebooks/
    python3 course.py run tools/add_launch_links.py notebooks/02_*.ipynb  # some of them
    python3 course.py run tools/add_launch_links.py --check   # exit 1 if any notebook is not up to date

Right after the title cell it puts two cells, found again later by their tags:
- `launch-links` (markdown): "Open in Binder" and "Open in Colab" badges for this notebook;
- `colab-install` (code): on Colab (`"google.colab" in sys.modules`) pip-installs what the
  notebooks need, pinned as in pyproject.toml (torch as its CPU build), and the course package
  from the branch the links open; anywhere else it does nothing and prints nothing.

The repository URL and the branch are read from pyproject.toml ([project.urls] Repository and
[tool.mbrl-course] branch), the one place they are written. A notebook whose cells are
already right is left byte for byte as it is; one that changes must be re-executed before
committing (`python3 course.py run tools/execute_notebooks.py <notebook>`), which this tool
reminds you of.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote, urlparse

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course import TORCH_CPU_INDEX  # noqa: E402

LINKS_TAG = "launch-links"
INSTALL_TAG = "colab-install"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
# Colab runs the notebooks in its own front end and kernel: installing JupyterLab, or an
# ipykernel other than the one Colab pins, can break the Colab runtime. Every other dependency
# is installed as pyproject.toml pins it (the stored outputs and asserts were made with those).
COLAB_PROVIDES = ("jupyterlab", "ipykernel")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def project() -> dict:
    return pyproject()["project"]


def branch() -> str:
    """The branch the launch links open and Colab installs from ([tool.mbrl-course] branch)."""
    name = pyproject().get("tool", {}).get("mbrl-course", {}).get("branch")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._/-]+", name):
        raise ValueError(f"[tool.mbrl-course] branch in pyproject.toml must be a branch name such as 'main', "
                         f"got {name!r}")
    return name


def repository_url() -> str:
    url = project()["urls"]["Repository"].rstrip("/")
    parsed = urlparse(url)
    parts = parsed.path.strip("/").split("/")
    if parsed.scheme != "https" or parsed.netloc != "github.com" or len(parts) != 2:
        raise ValueError(f"[project.urls] Repository must be https://github.com/<owner>/<name>, got {url!r}")
    return url


def launch_urls(notebook: str, url: str | None = None) -> dict[str, str]:
    """Binder and Colab URLs that open notebooks/<notebook> of the repository."""
    url = url or repository_url()
    owner_repo = urlparse(url).path.strip("/")
    path = f"notebooks/{notebook}"
    return {
        "binder": f"https://mybinder.org/v2/gh/{owner_repo}/{branch()}?labpath={quote(path, safe='')}",
        "colab": f"https://colab.research.google.com/github/{owner_repo}/blob/{branch()}/{path}",
    }


def links_source(notebook: str) -> str:
    urls = launch_urls(notebook)
    return (
        f"[![Open in Binder]({BINDER_BADGE})]({urls['binder']}) "
        f"[![Open in Colab]({COLAB_BADGE})]({urls['colab']})\n\n"
        "Run it in the browser with one of the buttons above, or on your machine with "
        "`python3 course.py lab` (see the README)."
    )


def requirement_name(requirement: str) -> str:
    """'numpy>=1.26,<2.5' -> 'numpy' (normalised as pip does)."""
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9._-]+)", requirement).group(1)).lower()


def colab_requirements() -> list[str]:
    """The package's dependencies as pyproject.toml pins them, less Colab's own front end and kernel."""
    return [r for r in project()["dependencies"] if requirement_name(r) not in COLAB_PROVIDES]


def install_source() -> str:
    quoted = " ".join(f'"{r}"' for r in colab_requirements())
    package = f"{project()['name']} @ git+{repository_url()}@{branch()}"
    return (
        "# On Google Colab, install what the notebooks need (pinned as in pyproject.toml; torch as its CPU\n"
        "# build) and the course package; anywhere else this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f"    %pip install -q --extra-index-url {TORCH_CPU_INDEX} {quoted}\n"
        f'    %pip install -q --no-deps "{package}"'
    )


def _tagged(cell: nbformat.NotebookNode, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def update(nb: nbformat.NotebookNode, notebook: str) -> bool:
    """Put the two cells right after the title; return True if the notebook changed."""
    want_links, want_install = links_source(notebook), install_source()
    cells = nb.cells
    if (len(cells) >= 3 and _tagged(cells[1], LINKS_TAG) and _tagged(cells[2], INSTALL_TAG)
            and cells[1].source == want_links and cells[2].source == want_install
            and not any(_tagged(c, LINKS_TAG) or _tagged(c, INSTALL_TAG) for c in cells[3:])):
        return False
    kept = [c for c in cells if not (_tagged(c, LINKS_TAG) or _tagged(c, INSTALL_TAG))]
    if not kept or kept[0].cell_type != "markdown" or not kept[0].source.startswith("# "):
        raise ValueError(f"{notebook}: the first cell must be the title (a markdown cell starting with '# ')")
    links = nbformat.v4.new_markdown_cell(want_links, metadata={"tags": [LINKS_TAG]})
    install = nbformat.v4.new_code_cell(want_install, metadata={"tags": [INSTALL_TAG]})
    nb.cells = [kept[0], links, install, *kept[1:]]
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if a notebook would change")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if update(nb, path.name):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
                print(f"{path.name}: launch links and Colab cell updated; now re-execute it:\n"
                      f"    python3 course.py run tools/execute_notebooks.py {path}")
        else:
            print(f"{path.name}: up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
