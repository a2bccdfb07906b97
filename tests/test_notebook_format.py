"""Every notebook in notebooks/ reads well statically and launches anywhere.

Checked for each notebook (parametrized over the glob, so new lessons are held to it):
- stored outputs come from one top-to-bottom run: execution counts 1..n, no errors;
- headings: exactly one title (`#`, in the first cell), levels never skip (## -> ####);
- links: relative links point to files that exist, `#anchors` to headings, web links
  are well formed; the Binder and Colab launch links and the Colab install cell are
  those tools/add_launch_links.py makes from the one repository URL in pyproject.toml;
- images in markdown have alt text; every figure output is followed by a line of prose
  (its takeaway);
- widgets: each slider cell is marked `# NBVAL_IGNORE_OUTPUT` and followed by a static
  figure of its default setting; no widget state is stored (metadata.widgets absent, or
  complete and small), and no output is giant.
No network access: links are checked for form, not fetched.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import add_launch_links  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MAX_OUTPUT_BYTES = 400_000  # one figure PNG is ~50 kB; a bigger output is a data dump
MAX_WIDGET_STATE_BYTES = 50_000
MD_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
SLIDER_CELL = re.compile(r"interactive_figure\(|ipywidgets\.\w*Slider\(|\binteract\(")


def params():
    return pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def prose(markdown: str) -> str:
    """Markdown without fenced code blocks and inline code (where '#' and '[' mean nothing)."""
    without_fences = re.sub(r"^\s*(```|~~~).*?^\s*\1[^\n]*$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", without_fences)


def headings(nb: nbformat.NotebookNode) -> list[tuple[int, int, str]]:
    """(cell index, level, text) of every markdown heading."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in prose(cell.source).splitlines():
                match = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
                if match:
                    found.append((index, len(match.group(1)), match.group(2)))
    return found


def anchor(heading: str) -> str:
    """The id Jupyter / GitHub give a heading: spaces to '-', punctuation dropped."""
    text = re.sub(r"[`*_$\\]", "", heading).strip()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-").lower()


def has_image(cell: nbformat.NotebookNode) -> bool:
    return any(
        k.startswith("image/") for o in cell.get("outputs", []) for k in o.get("data", {})
    )


@params()
def test_outputs_are_from_one_top_to_bottom_run(path):
    nb = load(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(code)}; "
        f"run `python3 course.py run tools/execute_notebooks.py notebooks/{path.name}`"
    )
    for cell, count in zip(code, counts, strict=True):
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name}, cell [{count}] has a stored error"
            if output.output_type == "execute_result":
                assert output.execution_count == count, f"{path.name}, cell [{count}]: stale result"


@params()
def test_one_title_and_ordered_heading_levels(path):
    nb = load(path)
    found = headings(nb)
    titles = [h for h in found if h[1] == 1]
    assert len(titles) == 1, f"{path.name}: needs exactly one '# ' title, found {[t[2] for t in titles]}"
    assert found[0][:2] == (0, 1), f"{path.name}: the title must be the first heading, in the first cell"
    for (_, previous, _), (index, level, text) in zip(found, found[1:], strict=False):
        assert level <= previous + 1, (
            f"{path.name}, cell {index}: heading {'#' * level} {text!r} skips a level after a "
            f"{'#' * previous} heading"
        )


@params()
def test_links_resolve_and_images_have_alt_text(path):
    nb = load(path)
    anchors = {anchor(text) for _, _, text in headings(nb)}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = prose(cell.source)
        for bang, label, target in MD_LINK.findall(text):
            where = f"{path.name}, cell {index}: {target!r}"
            if bang:
                assert label.strip(), f"{where}: an image needs alt text, ![what it shows](...)"
            if target.startswith("#"):
                assert unquote(target[1:]).lower() in anchors, f"{where}: no heading has this anchor"
                continue
            parsed = urlparse(target)
            if parsed.scheme in {"http", "https"}:
                assert parsed.netloc and "." in parsed.netloc and " " not in target, f"{where}: malformed URL"
            elif parsed.scheme == "mailto":
                continue
            else:
                assert not parsed.scheme, f"{where}: use https links"
                assert (path.parent / unquote(parsed.path)).exists(), f"{where}: no such file"
        for tag in HTML_IMG.findall(text):
            alt = re.search(r"\balt\s*=\s*([\"'])(.*?)\1", tag)
            assert alt and alt.group(2).strip(), f"{path.name}, cell {index}: <img> without alt text"


@params()
def test_launch_links_and_colab_cell(path):
    """Cells 1 and 2 are what tools/add_launch_links.py makes (run it if this fails)."""
    nb = load(path)
    fix = (f"run `python3 course.py run tools/add_launch_links.py notebooks/{path.name}`, "
           "then re-execute the notebook")
    assert not add_launch_links.update(load(path), path.name), f"{path.name}: launch cells out of date; {fix}"
    urls = add_launch_links.launch_urls(path.name)
    assert urls["binder"] in nb.cells[1].source and urls["colab"] in nb.cells[1].source
    install = nb.cells[2]
    assert 'if "google.colab" in sys.modules:' in install.source
    assert install.outputs == [], f"{path.name}: the Colab cell must print nothing outside Colab"


def test_repository_url_is_written_in_one_place():
    """pyproject.toml holds it; the notebooks' launch cells are made from it; nothing else repeats it."""
    url = add_launch_links.repository_url()
    skipped = {"student", "solutions", "build", "test-artifacts", "node_modules"}   # generated

    def ours(path: Path) -> bool:
        parts = path.relative_to(ROOT).parts
        if parts[:2] == ("notebooks", "source"):   # the notebooks' text copies, made from them
            return False
        return not skipped & set(parts) and not any(p.startswith(".") and p != ".ci" for p in parts[:-1])

    text = {".py", ".md", ".yml", ".yaml", ".toml", ".cfg", ".txt"}
    files = [p for p in ROOT.rglob("*")
             if p.is_file() and ours(p) and (p.suffix in text or p.parent.name == ".ci")]
    assert {ROOT / "README.md", ROOT / "course.py", ROOT / ".ci" / "run"} <= set(files)
    repeated = [str(p.relative_to(ROOT)) for p in files
                if p.name != "pyproject.toml" and url in p.read_text()]
    assert not repeated, f"these files repeat the repository URL (keep it in pyproject.toml only): {repeated}"


@params()
def test_every_figure_is_followed_by_prose(path):
    nb = load(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not has_image(cell):
            continue
        following = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
        assert following is not None and following.cell_type == "markdown", (
            f"{path.name}, cell {index}: a figure must be followed by a markdown cell with its takeaway"
        )
        first_line = following.source.strip().splitlines()[0] if following.source.strip() else ""
        assert first_line and not first_line.startswith("#"), (
            f"{path.name}, cell {index + 1}: start with one line of prose saying what the figure shows"
        )


@params()
def test_widgets_render_statically(path):
    nb = load(path)
    state = nb.metadata.get("widgets")
    if state is not None:  # GitHub refuses to render a notebook whose widget metadata lacks 'state'
        assert WIDGET_STATE in state and "state" in state[WIDGET_STATE], (
            f"{path.name}: metadata.widgets is broken (no state); drop it (tools/execute_notebooks.py does)"
        )
        size = len(nbformat.writes(nbformat.from_dict({"s": state})))
        assert size < MAX_WIDGET_STATE_BYTES, f"{path.name}: {size} bytes of widget state; drop it"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            size = len(nbformat.writes(nbformat.from_dict({"o": output})))
            assert size < MAX_OUTPUT_BYTES, f"{path.name}, cell {index}: a {size}-byte output"
            if WIDGET_VIEW in output.get("data", {}):
                assert "text/plain" in output.data, f"{path.name}, cell {index}: widget without text fallback"
        if not SLIDER_CELL.search(cell.source):
            continue
        assert cell.source.startswith("# NBVAL_IGNORE_OUTPUT"), (
            f"{path.name}, cell {index}: mark a slider cell's output (model ids) # NBVAL_IGNORE_OUTPUT"
        )
        later = [c for c in nb.cells[index + 1:] if c.cell_type == "code"]
        assert later and has_image(later[0]), (
            f"{path.name}, cell {index}: the next code cell must draw the slider's default setting as a "
            "static figure, for readers of the static page"
        )


@params()
def test_notebook_is_valid_and_not_bloated(path):
    nb = load(path)
    nbformat.validate(nb)
    assert path.stat().st_size < 5_000_000, f"{path.name} is {path.stat().st_size} bytes"
