"""Which browser the browser test uses, and what happens when there is none (no browser started here)."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_lab  # noqa: E402


def test_mbrl_chromium_names_the_one_browser_to_use():
    assert browser_lab.chromium_candidates({"MBRL_CHROMIUM": "/opt/chrome/chrome", "PATH": ""}) == [
        "/opt/chrome/chrome"]


def test_the_usual_windows_install_folders_are_searched(tmp_path):
    chrome = tmp_path / "Google" / "Chrome" / "Application" / "chrome.exe"
    chrome.parent.mkdir(parents=True)
    chrome.write_text("")
    assert str(chrome) in browser_lab.chromium_candidates({"PROGRAMFILES": str(tmp_path)})


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_without_a_browser_outside_ci_the_test_skips_and_says_how_to_enable_it(ci):
    environ = {} if ci is None else {"CI": ci}
    with pytest.raises(pytest.skip.Exception) as skipped:
        browser_lab.unavailable("no Chromium-based browser found.", environ)
    message = str(skipped.value)
    assert message.startswith(browser_lab.NO_BROWSER_TEST)
    assert "apt-get install chromium" in message and "MBRL_CHROMIUM" in message


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_without_a_browser_in_ci_the_test_fails(ci):
    with pytest.raises(pytest.fail.Exception, match=r"must run in CI"):
        browser_lab.unavailable("no Chromium-based browser found.", {"CI": ci})


class Reporter:
    """The part of pytest's terminal reporter that conftest.pytest_terminal_summary uses."""

    def __init__(self, skipped):
        self.stats, self.lines = {"skipped": skipped}, []

    def section(self, title, **markup):
        self.lines.append(f"== {title} ==")

    def write_line(self, line, **markup):
        self.lines.append(line)


def test_the_skip_is_repeated_at_the_end_of_the_run():
    import conftest

    reason = f"{browser_lab.NO_BROWSER_TEST}: the sliders were not tried. To run it, install Chromium."
    skipped = [SimpleNamespace(longrepr=("tests/test_browser.py", 1, f"Skipped: {reason}")),
               SimpleNamespace(longrepr=("tests/test_other.py", 1, "Skipped: something else"))]
    reporter = Reporter(skipped)
    conftest.pytest_terminal_summary(reporter)
    assert reporter.lines == ["== the browser test did not run ==", reason]
    quiet = Reporter(skipped[1:])
    conftest.pytest_terminal_summary(quiet)
    assert quiet.lines == []
