"""The sliders work for real: JupyterLab in headless Chromium, run the notebook, move each slider.

For every notebook in notebooks/ with a slider cell: start JupyterLab on loopback (random
token, fresh settings/workspace folders, a copy of notebooks/), open the notebook in Debian's
Chromium through Playwright, run every cell up to and including its last slider cell from the
Run menu ("Run All Above Selected Cell" on the cell after it; "Run All Cells" when the slider
cell is the last one), wait until each of those cells has run, then for each slider press the
right arrow on its handle and assert that the figure (image) or table the slider drives
changed, measuring how long the update took. Screenshots before and after each move, and the
timings, are written to test-artifacts/browser/.

Why not every cell: a slider needs only what runs before it (its callback is defined, and its
data computed, above it; a student moves it right after running its cell). The cells after the
last slider cell show no slider (`sliders_needed` also finds slider cells by their stored
widget outputs, so a slider made by a helper is not missed), and they are executed, with their
outputs checked, by nbval and by the student-edition run; running them here too only cost time
(notebook 06's last cells alone take half a minute).

Chromium is an installed Chromium-based browser (see browser_lab.chromium_candidates). In CI
(CI set) a missing or broken browser or Playwright fails the test; elsewhere the test is skipped,
loudly (its reason is repeated at the end of the run, with how to enable it). To leave it out
on purpose, set MBRL_SKIP_BROWSER=1; .ci/run never does.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_lab  # noqa: E402

from course import TEST_ENV  # noqa: E402

SLIDER_CELL = re.compile(r"interactive_figure\(|ipywidgets\.\w*Slider\(|\binteract\(")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
RUN_ALL_TIMEOUT_S = 300  # a notebook runs in about a minute; this browser shares the CPU with the kernel
UPDATE_TIMEOUT_S = 30  # one slider move; the course's target is well under a second
LAB_SETTINGS = {
    # render every cell, so every slider and prompt is in the DOM
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def shows_a_slider(cell: nbformat.NotebookNode) -> bool:
    """The cell makes a slider: by its source, or by the widget view stored in its outputs."""
    if cell.cell_type != "code":
        return False
    stored = [o.get("data", {}) for o in cell.get("outputs", [])]
    return bool(SLIDER_CELL.search(cell.source)) or any(
        "application/vnd.jupyter.widget-view+json" in d and "Slider(" in str(d.get("text/plain", ""))
        for d in stored)


def sliders_needed(path: Path) -> tuple[int, int | None]:
    """(code cells to run: up to and including the last slider cell, the index of the cell after
    that one, where "Run All Above Selected Cell" starts; None when the slider cell is the last)."""
    cells = nbformat.read(path, 4).cells
    last = max(i for i, c in enumerate(cells) if shows_a_slider(c))
    n_code = sum(c.cell_type == "code" for c in cells[: last + 1])
    return n_code, (last + 1 if last + 1 < len(cells) else None)


SLIDER_NOTEBOOKS = [
    p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if any(shows_a_slider(c) for c in nbformat.read(p, 4).cells)
]

# Everything a slider drives, as one string: image sources and widget-output text of its output area.
SIGNATURE_JS = """(area) => {
    const images = [...area.querySelectorAll('img')].map(i => i.src).join('|');
    const tables = [...area.querySelectorAll('.widget-output, table')].map(e => e.innerText).join('|');
    return images + '#' + tables;
}"""


@pytest.fixture(scope="module")
def browser():
    """The headless browser; in CI its absence fails the test, elsewhere it skips it, loudly."""
    if os.environ.get("MBRL_SKIP_BROWSER") == "1":
        pytest.skip("MBRL_SKIP_BROWSER=1: the browser test was left out on purpose")
    try:
        with browser_lab.chromium() as chromium:
            yield chromium
    except browser_lab.BrowserUnavailable as error:
        browser_lab.unavailable(str(error))


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """JupyterLab on a copy of notebooks/, started only once a browser is there to open it."""
    tmp = tmp_path_factory.mktemp("lab")
    with browser_lab.jupyter_lab(ROOT / "notebooks", tmp, TEST_ENV, settings=LAB_SETTINGS) as server:
        yield server


def test_there_is_a_notebook_with_a_slider():
    assert SLIDER_NOTEBOOKS, "no notebook has a slider cell; the browser test would test nothing"


@pytest.mark.parametrize("path", SLIDER_NOTEBOOKS, ids=lambda p: p.name)
def test_sliders_redraw_in_a_real_browser(path, lab, browser):
    base, token, _ = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    n_to_run, cell_after = sliders_needed(path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{base}/lab/tree/{path.name}?reset&token={token}", timeout=120_000)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
        accept_kernel_dialog(page)
        wait_for_kernel_idle(page)
        if cell_after is not None:
            select_cell(page, cell_after)
        started = time.perf_counter()
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        command = "Run All Cells" if cell_after is None else "Run All Above Selected Cell"
        page.locator(".lm-Menu-item:visible", has_text=re.compile("^" + command)).first.click()
        wait_until_cells_ran(page, n_to_run)
        run_all_s = time.perf_counter() - started
        handles = page.locator(".jp-NotebookPanel .widget-slider .noUi-handle")
        handles.first.wait_for(timeout=60_000)
        timings = []
        for i in range(handles.count()):
            timings.append(move_slider(page, handles.nth(i), f"{stem}_slider{i + 1}"))
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{stem}_failure.png"), full_page=True)
        raise
    finally:
        page.close()
    record = {"notebook": path.name, "code_cells_run": n_to_run, "run_all_s": round(run_all_s, 1),
              "sliders": timings, "console_errors": console_errors[:20]}
    (ARTIFACTS / f"{stem}_timings.json").write_text(json.dumps(record, indent=2))
    print(json.dumps(record))
    assert timings, f"{path.name}: no slider found in the browser"


# The notebook's kernel has started and is idle: the status bar says "<kernel> | Idle". Not the
# execution indicator's data-status: it says "idle" before any kernel is there (while the status
# bar says "No Kernel | Initializing").
KERNEL_READY_JS = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem, .jp-Toolbar-kernelStatus')]
    .map(e => e.textContent || e.title || '')
    .some(t => /\\|\\s*Idle/.test(t) && !/No Kernel/.test(t))"""


def accept_kernel_dialog(page) -> None:
    """A fresh JupyterLab may ask which kernel to start: take the notebook's own (the default).

    Waits for whichever comes first, the dialog or the kernel started by itself (so a notebook
    whose kernel starts by itself costs no fixed wait for a dialog that never comes)."""
    page.wait_for_function(
        "() => document.querySelector('.jp-Dialog') !== null || (" + KERNEL_READY_JS + ")()",
        timeout=120_000,
    )
    dialog = page.locator(".jp-Dialog")
    if dialog.count() == 0:
        return
    dialog.locator("button.jp-mod-accept").click()
    dialog.wait_for(state="detached", timeout=15_000)


def wait_for_kernel_idle(page) -> None:
    page.wait_for_function(KERNEL_READY_JS, timeout=120_000)


def select_cell(page, index: int) -> None:
    """Make the cell at `index` (any type) the active one, in command mode, by clicking its prompt."""
    cell = page.locator(".jp-NotebookPanel .jp-Cell").nth(index)
    cell.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Escape")
    page.wait_for_function("(cell) => cell.classList.contains('jp-mod-active')", arg=cell.element_handle(),
                           timeout=15_000)


def wait_until_cells_ran(page, n: int) -> None:
    """The first n code cells' prompts show a number (none '[*]' or empty), and no other cell is
    running or queued."""
    page.wait_for_function(
        """(n) => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')];
            return prompts.length >= n && prompts.slice(0, n).every(p => /\\[\\d+\\]/.test(p.textContent))
                && !prompts.some(p => /\\[\\*\\]/.test(p.textContent));
        }""",
        arg=n, timeout=RUN_ALL_TIMEOUT_S * 1000,
    )
    errors = page.locator(".jp-NotebookPanel [data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, f"a cell failed in the browser: {errors.first.inner_text()[:500]}"


def move_slider(page, handle, name: str) -> dict:
    """Press the right arrow on one slider handle (the left one if it stands at its maximum, as a
    slider whose default is its last option does); return what changed and how long it took."""
    area = handle.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
    area.locator("img").first.wait_for(timeout=60_000)  # the figure at the default value
    area.scroll_into_view_if_needed()
    before_value = handle.get_attribute("aria-valuenow") or handle.get_attribute("aria-valuetext")
    before = area.evaluate(SIGNATURE_JS)
    area.screenshot(path=str(ARTIFACTS / f"{name}_before.png"))
    handle.focus()
    started = time.perf_counter()
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    handle.press("ArrowLeft" if at_max else "ArrowRight")
    try:
        page.wait_for_function(
            "([area, before]) => (" + SIGNATURE_JS + ")(area) !== before && area.querySelector('img')",
            arg=[area.element_handle(), before], timeout=UPDATE_TIMEOUT_S * 1000, polling=10,
        )
    except Exception as error:
        raise AssertionError(
            f"{name}: the figure/table did not change within {UPDATE_TIMEOUT_S} s of moving the slider "
            f"(value {before_value} -> {handle.get_attribute('aria-valuenow')})"
        ) from error
    update_s = time.perf_counter() - started
    after_value = handle.get_attribute("aria-valuenow") or handle.get_attribute("aria-valuetext")
    area.screenshot(path=str(ARTIFACTS / f"{name}_after.png"))
    assert after_value != before_value, f"{name}: the slider value did not change ({before_value})"
    assert update_s < UPDATE_TIMEOUT_S
    return {"slider": name, "from": before_value, "to": after_value, "update_s": round(update_s, 3)}
