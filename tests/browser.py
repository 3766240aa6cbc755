"""A real headless Chromium for the dashboard's tests, driven by selenium.

Debian's `chromium` and `chromium-driver` packages: where they are missing the tests are
skipped, loudly, naming them; with PROCCLAW_REQUIRE_BROWSER=1 (set by .ci/run, which
installs them) a missing browser fails instead, so CI never skips these tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install -y chromium chromium-driver"
# Screenshots the README shows.
DOCS = Path(__file__).resolve().parent.parent / "docs"
WAIT = 10.0


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.access(path, os.X_OK) or shutil.which(Path(path).name)):
            return f"no {path}: the dashboard's browser tests need it ({INSTALL})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless Chromium session, quit afterwards; skips (or fails in CI) without one."""
    problem = _missing()
    if problem:
        if os.environ.get("PROCCLAW_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests may run as root, in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--force-prefers-reduced-motion",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or CHROMEDRIVER)
    )
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, condition: Callable[[Any], Any], timeout: float = WAIT) -> Any:
    """What `condition` returns once truthy; a bounded wait, never a sleep."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def script_errors(driver: Any) -> list[str]:
    """The page's console errors since last asked."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver: Any, name: str) -> None:
    """Save the page as docs/`name` when PROCCLAW_SCREENSHOTS=1 (to refresh the README's
    pictures): a test run leaves the checkout as it found it."""
    if os.environ.get("PROCCLAW_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(exist_ok=True)
    driver.save_screenshot(str(DOCS / name))
