"""The dashboard in a real headless Chromium: log in, see the jobs, stop one and see its
row change without a reload, follow a job's output, see a job added by reload, and the
refusals and cookie flags a browser must see. With PROCCLAW_SCREENSHOTS=1 they also
refresh the README's screenshots in docs/."""

from __future__ import annotations

import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser import chromium, screenshot, script_errors, wait_for

pytestmark = pytest.mark.browser

TOKEN = "browser-test-token-0123456789"
SERVICES = [f"svc{number:02}" for number in range(1, 17)]


def _jobs_yaml(home) -> str:
    lines = ["jobs:"]
    for index, name in enumerate(SERVICES):
        tag = "web" if index % 2 else "batch"
        lines += [f"  {name}:", "    cmd: sleep 600", "    type: continuous", f"    tags: [{tag}]"]
    lines += [
        "  svc17:",  # fails at once, and stays failed: a red row
        "    cmd: sh -c 'exit 3'",
        "    type: continuous",
        "    restart: never",
        "  speaker:",
        "    name: Speaker",
        "    type: continuous",
        f"    cwd: {home}",
        "    cmd: sh -c 'echo started; echo warming up >&2;"
        " while sleep 0.05; do [ -f say ] && cat say && rm say; done'",
        "  nightly:",
        "    cmd: echo report",
        "    type: scheduled",
        "    schedule: '0 3 * * *'",
        "    timezone: America/Sao_Paulo",
        "    tags: [batch]",
        "  hello:",
        "    cmd: echo hello",
        "    type: manual",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def dashboard(sandbox):
    """A daemon with 20 jobs and API auth on."""
    sandbox.write("procclaw.yaml", f"api:\n  auth:\n    enabled: true\n    token: {TOKEN}\n")
    sandbox.run_jobs(_jobs_yaml(sandbox.home.root))
    for name in SERVICES:
        sandbox.wait_state(name, "running")
    sandbox.url = f"http://127.0.0.1:{sandbox.api_port}"
    return sandbox


def _log_in(browser, box) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(box.url + "/")
    field = wait_for(browser, lambda d: d.find_element(By.ID, "token"))
    assert browser.current_url == box.url + "/login"
    field.send_keys(TOKEN + Keys.ENTER)  # the keyboard, as a person would
    wait_for(browser, lambda d: d.current_url == box.url + "/")
    _wait_connected(browser)


def _wait_connected(browser) -> None:
    """Until the page's scripts run and every stream it follows is open (the banner is
    hidden before any opens: it is not the sign)."""
    wait_for(
        browser,
        lambda d: d.execute_script(
            "return typeof PC !== 'undefined' && PC.live()"
            " && document.getElementById('connection').hidden"
        ),
    )


def _row_state(browser, job: str) -> str | None:
    return browser.execute_script(
        "const row = document.getElementById(arguments[0]); return row && row.dataset.state",
        f"job-{job}",
    )


def test_log_in_see_twenty_jobs_and_stop_one_without_a_reload(browser, dashboard):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _log_in(browser, dashboard)
    rows = browser.find_elements(By.CSS_SELECTOR, "#job-rows tr")
    assert len(rows) == 20
    wait_for(browser, lambda d: _row_state(d, "svc07") == "running")
    browser.execute_script("window.notReloaded = true")

    stop = browser.find_element(By.CSS_SELECTOR, "#job-svc07 button[data-action=stop]")
    browser.execute_script("arguments[0].focus()", stop)
    stop.send_keys(Keys.ENTER)
    dialog = browser.find_element(By.ID, "confirm")
    wait_for(browser, lambda d: dialog.get_attribute("open") is not None)
    assert "Stop svc07?" in dialog.text
    browser.switch_to.active_element.send_keys(Keys.ENTER)  # the focused OK button

    wait_for(browser, lambda d: _row_state(d, "svc07") == "stopped")
    badge = browser.find_element(By.CSS_SELECTOR, "#job-svc07 [data-col=state] .badge")
    assert badge.text == "stopped"
    health = browser.find_element(By.CSS_SELECTOR, "#job-svc07 [data-col=health] .badge")
    assert health.text == "-"  # a job at rest has no health, from its event on
    outcome = browser.find_element(By.CSS_SELECTOR, "#job-svc07 .outcome")
    wait_for(browser, lambda d: outcome.text)
    assert browser.execute_script("return window.notReloaded") is True
    assert dashboard.job("svc07")["state"] == "stopped"
    assert _row_state(browser, "svc08") == "running"
    assert script_errors(browser) == []
    screenshot(browser, "dashboard-jobs.png")


def test_the_filters_narrow_the_table(browser, dashboard):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _log_in(browser, dashboard)
    shown = "return [...document.querySelectorAll('#job-rows tr')].filter(r => !r.hidden).length"
    browser.find_element(By.ID, "search").send_keys("svc1")
    assert browser.execute_script(shown) == 8  # svc10 .. svc17
    browser.find_element(By.ID, "search").clear()
    Select(browser.find_element(By.ID, "tag-filter")).select_by_value("web")
    assert browser.execute_script(shown) == 8
    Select(browser.find_element(By.ID, "tag-filter")).select_by_value("")
    Select(browser.find_element(By.ID, "state-filter")).select_by_value("stopped")
    assert browser.execute_script(shown) == 2  # nightly and hello


def test_the_session_cookie_has_its_flags_and_the_token_stays_out_of_the_page(browser, dashboard):
    _log_in(browser, dashboard)
    (cookie,) = browser.get_cookies()
    assert cookie["name"] == f"procclaw_session_{dashboard.api_port}"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie["expiry"] > 0
    assert TOKEN not in cookie["value"]
    assert browser.execute_script("return document.cookie") == ""
    assert browser.execute_script("return localStorage.length + sessionStorage.length") == 0
    assert TOKEN not in browser.page_source and TOKEN not in browser.current_url


def test_a_line_the_job_prints_appears_on_its_page(browser, dashboard):
    from selenium.webdriver.common.by import By

    dashboard.wait_output("speaker", "started")
    for _ in range(2):  # two finished runs for the chart
        dashboard.cli("restart", "speaker", check=True)
    _log_in(browser, dashboard)
    browser.get(dashboard.url + "/jobs/speaker")
    _wait_connected(browser)
    log = browser.find_element(By.ID, "log")
    wait_for(browser, lambda d: "started" in log.text)
    (dashboard.home.root / "say").write_text("a line from the test\n")
    wait_for(browser, lambda d: "a line from the test" in log.text)
    stderr = browser.find_elements(By.CSS_SELECTOR, "#log .stderr")
    assert "warming up" in [line.text for line in stderr]
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#runs .bar")) == 2)
    assert "Speaker" in browser.find_element(By.ID, "job-title").text
    assert script_errors(browser) == []
    screenshot(browser, "dashboard-job.png")


def test_a_job_added_by_reload_appears(browser, dashboard):
    from selenium.webdriver.common.by import By

    _log_in(browser, dashboard)
    browser.execute_script("window.notReloaded = true")
    jobs = dashboard.home.root / "jobs.yaml"
    jobs.write_text(jobs.read_text() + "  newcomer:\n    cmd: sleep 600\n    type: continuous\n")
    dashboard.cli("reload", check=True)
    wait_for(browser, lambda d: d.find_elements(By.ID, "job-newcomer"))
    wait_for(browser, lambda d: _row_state(d, "newcomer") == "running")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#job-rows tr")) == 21
    assert browser.execute_script("return window.notReloaded") is True


def test_an_actor_a_reload_starts_turns_up_and_one_still_off_says_what_starts_it(
    browser, dashboard
):
    from procclaw.rules.needed_actors import WHEN_NEEDED

    def badge(driver, actor: str) -> list[str]:
        """The badge's text and title, read at once: the script redraws the rows."""
        return driver.execute_script(
            "const b = document.querySelector(`tr[data-actor='${arguments[0]}'] .badge`);"
            " return b ? [b.textContent, b.title] : null",
            actor,
        )

    _log_in(browser, dashboard)
    assert badge(browser, "health") == ["off", WHEN_NEEDED["health"]]
    jobs = dashboard.home.root / "jobs.yaml"
    checked = f"    health_check: {{type: file, path: {dashboard.home.root}, max_age: 365d}}\n"
    jobs.write_text(jobs.read_text() + "  checked:\n    cmd: sleep 600\n" + checked)
    dashboard.cli("reload", check=True)
    wait_for(browser, lambda d: badge(d, "health")[0] == "up")  # redrawn by the script
    assert badge(browser, "alerter") == ["off", WHEN_NEEDED["alerter"]]


def test_the_page_reads_at_phone_width(browser, dashboard):
    _log_in(browser, dashboard)
    browser.set_window_size(375, 812)
    wait_for(browser, lambda d: d.execute_script("return window.innerWidth") <= 375)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 375
    screenshot(browser, "dashboard-phone.png")


def test_the_page_follows_a_dark_colour_scheme(browser, dashboard):
    background = "return getComputedStyle(document.body).backgroundColor"
    _log_in(browser, dashboard)
    assert browser.execute_script(background) == "rgb(250, 250, 250)"
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    assert browser.execute_script(background) == "rgb(18, 18, 18)"


def test_a_lost_connection_shows_and_the_page_reconnects(browser, sandbox):
    """The gateway killed: the banner shows; root restarts it; the page follows again."""
    sandbox.run_jobs("jobs:\n  idle:\n    cmd: sleep 600\n    type: continuous\n")
    sandbox.url = f"http://127.0.0.1:{sandbox.api_port}"
    browser.get(sandbox.url + "/")
    _wait_connected(browser)
    browser.execute_script("window.notReloaded = true")
    os.kill(sandbox.actor_pid("gateway"), signal.SIGKILL)
    banner = "return !document.getElementById('connection').hidden"
    wait_for(browser, lambda d: d.execute_script(banner))
    _wait_connected(browser)  # back, with no reload
    sandbox.cli("stop", "idle", check=True)
    wait_for(browser, lambda d: _row_state(d, "idle") == "stopped")
    assert browser.execute_script("return window.notReloaded") is True


class _ForeignSite(BaseHTTPRequestHandler):
    """Another site's page: a plain form that POSTs to the daemon's API."""

    target = ""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        body = (
            f'<form method="post" action="{self.target}"><button id="go">Go</button></form>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_cross_site_form_post_is_refused(browser, sandbox):
    """With auth off on loopback, the check that is left: the browser's word on the origin."""
    from selenium.webdriver.common.by import By

    sandbox.run_jobs("jobs:\n  idle:\n    cmd: sleep 600\n    type: continuous\n")
    sandbox.wait_state("idle", "running")
    _ForeignSite.target = f"http://127.0.0.1:{sandbox.api_port}/api/v1/jobs/idle/stop"
    site = ThreadingHTTPServer(("127.0.0.1", 0), _ForeignSite)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://localhost:{site.server_address[1]}/")
        browser.find_element(By.ID, "go").click()
        wait_for(browser, lambda d: "cross_site" in d.page_source)
        assert "a change from another site is refused" in browser.page_source
    finally:
        site.shutdown()
        site.server_close()
    assert sandbox.job("idle")["state"] == "running"
