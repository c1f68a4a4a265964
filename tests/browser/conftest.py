"""Browser tests: Debian's Chromium driven by Playwright against the live stack.

The live stack here is the portal and the provincial unified-login sandbox (a real OIDC
provider), served over loopback HTTP in threads, exactly as tests/live.py builds it.

**SQLite only.** Within tests/browser the ``live_stack`` fixture is overridden by a stack on a
fresh copy of the migrated SQLite template: a browser test checks what a person sees and does,
not storage, and running every browser test twice would double the suite's time. Both databases
are covered under the same login flow by tests/auth/test_unified_login.py.

One Chromium per session, launched with the flags of /work/shared/stack-notes.md ("Browser
tests"); a fresh browser context (no cookies, no storage) per test; a screenshot in
``test-artifacts/`` when a test fails; and a guard that fails any test during which the browser
reported a Content-Security-Policy violation or an uncaught JavaScript error.

The whole directory is skipped, with a reason that names chromium, only when the ``chromium``
executable is missing (``playwright install`` is neither needed nor possible here).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from portal.demo import load_staff_register
from tests.browser import pages
from tests.conftest import settings_for_tests
from tests.live import LiveStack, start_live_stack

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
                 "--metrics-recording-only",
                 # loopback only (tests/network_guard.py covers Python, not Chromium): no name
                 # but localhost resolves, so nothing the browser tries leaves the machine
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"]
#: a page request to anything but loopback: aborted and reported (the test fails)
OUTSIDE_LOOPBACK = re.compile(r"^(?!(https?|wss?)://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?([/?#]|$))"
                              r"(https?|wss?|ftp)://")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: how long a locator action or expect() may wait: loopback answers in milliseconds
TIMEOUT_MS = 10_000
#: console text of a CSP violation: older Chromium says "Refused to ...", current Chromium
#: "... violates the following Content Security Policy directive ..."; plus our listener's
CSP_MARKERS = ("Refused to", "Content Security Policy", "securitypolicyviolation")
#: reports every violation as a console error, also those Chromium might not log itself;
#: injected by the DevTools protocol, so the page's own CSP does not apply to it
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("securitypolicyviolation: " + e.violatedDirective + " blocked " + e.blockedURI
                + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


# --- failure screenshots ----------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request) -> bool:
    return any(getattr(getattr(request.node, f"report_{when}", None), "failed", False)
               for when in ("setup", "call"))


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:180] + ".png"


# --- Chromium -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium executable not found: install Debian's chromium package "
                    "to run the browser tests")
    return path


@pytest.fixture(scope="package")
def browser(chromium_executable):
    """One Chromium for the whole session of browser tests.

    Package scope, which for these tests is the session: all of them live in this package, and
    Playwright is stopped as soon as the last one has run. While Playwright's sync API is
    running, ``asyncio.run()`` anywhere else in the process fails with "cannot be called from
    a running event loop", so it must not outlive the browser tests in a full-suite run.
    """
    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


# --- the live stack (SQLite) ----------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_key_dir(tmp_path_factory) -> Path:
    """The sandbox's signing key, made once: generating an RSA key per test would be waste."""
    return tmp_path_factory.mktemp("sandbox-keys")


@pytest.fixture
def live_stack(sqlite_template, tmp_path, app_overrides, sandbox_key_dir) -> Iterator[LiveStack]:
    """Portal + unified-login sandbox on a fresh SQLite copy, staff register loaded."""
    target = tmp_path / "portal.db"
    shutil.copyfile(sqlite_template, target)
    stack = start_live_stack(settings_for_tests(f"sqlite:///{target}", tmp_path, **app_overrides),
                             key_dir=sandbox_key_dir)
    try:
        with stack.app.extensions["portal.database"].write_transaction() as sess:
            load_staff_register(sess)
        yield stack
    finally:
        stack.stop()


# --- a fresh context and page per test ------------------------------------------------------


@pytest.fixture
def console_messages() -> list[str]:
    """Every console message of the test's browser context, as "type: text"."""
    return []


@pytest.fixture
def context(browser, live_stack, request, console_messages):
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                              viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.add_init_script(CSP_LISTENER)
    page_errors: list[str] = []
    ctx.on("console", lambda msg: console_messages.append(f"{msg.type}: {msg.text}"))
    ctx.on("weberror", lambda web_error: page_errors.append(str(web_error.error)))
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort("blockedbyclient")

    ctx.route(OUTSIDE_LOOPBACK, refuse)
    yield ctx
    csp = [m for m in console_messages if any(marker in m for marker in CSP_MARKERS)]
    problems = csp + [f"uncaught: {e}" for e in page_errors] + [f"request beyond loopback: {u}" for u in outside]
    try:
        if _failed(request) or problems:
            _screenshot_pages(ctx, request.node.nodeid)
    finally:
        ctx.close()
    if problems:
        pytest.fail("the browser reported CSP violations, script errors or requests beyond loopback:\n"
                    + "\n".join(problems),
                    pytrace=False)


def _screenshot_pages(ctx, nodeid: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for index, open_page in enumerate(ctx.pages):
        path = ARTIFACTS / _artifact_name(nodeid + ("" if index == 0 else f"-page{index}"))
        try:
            open_page.screenshot(path=str(path), full_page=True)
            print(f"screenshot: {path}")
        except PlaywrightError as exc:  # a crashed page must not hide the test's own failure
            print(f"no screenshot of {open_page.url}: {exc}")


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def portal_url(live_stack) -> str:
    return live_stack.portal_url


@pytest.fixture
def sign_in_as(live_stack) -> Callable[..., pages.PortalPage]:
    """``sign_in_as(page, "worker")``: the real unified-login round trip in the browser."""

    def _sign_in(page, username: str, password: str = pages.DEMO_PASSWORD) -> pages.PortalPage:
        return pages.sign_in_as(page, live_stack.portal_url, username, password)

    return _sign_in
