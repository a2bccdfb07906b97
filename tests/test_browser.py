"""The sliders work for real: JupyterLab in headless Chromium, run the notebook, move each slider.

For every notebook in notebooks/ with a slider cell: start JupyterLab on loopback (random
token, fresh settings/workspace folders, a copy of notebooks/), open the notebook in Debian's
Chromium through Playwright, run all cells from the Run menu, wait until every cell has run,
then for each slider press the right arrow on its handle and assert that the figure (image)
or table the slider drives changed, measuring how long the update took. Screenshots before
and after each move, and the timings, are written to test-artifacts/browser/.

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

SLIDER_NOTEBOOKS = [
    p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if any(c.cell_type == "code" and SLIDER_CELL.search(c.source) for c in nbformat.read(p, 4).cells)
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
    n_code_cells = sum(c.cell_type == "code" for c in nbformat.read(path, 4).cells)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{base}/lab/tree/{path.name}?reset&token={token}", timeout=120_000)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
        accept_kernel_dialog(page)
        wait_for_kernel_idle(page)
        started = time.perf_counter()
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-item:visible", has_text=re.compile(r"^Run All Cells")).first.click()
        wait_until_all_cells_ran(page, n_code_cells)
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
    record = {"notebook": path.name, "run_all_s": round(run_all_s, 1), "sliders": timings,
              "console_errors": console_errors[:20]}
    (ARTIFACTS / f"{stem}_timings.json").write_text(json.dumps(record, indent=2))
    print(json.dumps(record))
    assert timings, f"{path.name}: no slider found in the browser"


def accept_kernel_dialog(page) -> None:
    """A fresh JupyterLab may ask which kernel to start: take the notebook's own (the default)."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(timeout=15_000)
    except Exception:  # noqa: BLE001 - no dialog: the kernel started by itself
        return
    dialog.locator("button.jp-mod-accept").click()
    dialog.wait_for(state="detached", timeout=15_000)


def wait_for_kernel_idle(page) -> None:
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-StatusBar-TextItem, .jp-Toolbar-kernelStatus')]
              .some(e => /Idle/.test(e.textContent || e.title || e.getAttribute('data-status') || ''))
           || document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]') !== null""",
        timeout=120_000,
    )


def wait_until_all_cells_ran(page, n_code_cells: int) -> None:
    """Every code cell's prompt shows a number (none '[*]' or empty)."""
    page.wait_for_function(
        """(n) => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')];
            return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        arg=n_code_cells, timeout=RUN_ALL_TIMEOUT_S * 1000,
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
