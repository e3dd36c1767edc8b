"""Real Chromium through Playwright against pytest-django's live server.

The live server serves static files itself: with ``django.contrib.staticfiles`` installed,
pytest-django wraps it in staticfiles' handler, which finds files in ``static/`` through the
finders, so nothing has to be collected first and DEBUG stays off.

Every page a test opens fails the test on any dialog (an XSS payload that ran), any uncaught
page error and any CSP violation reported on the console. Screenshots go to
``test-artifacts/screenshots/``; the run's summary names the folder.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to seed
# and check rows are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"  # the personas' password (tests/conftest.py)
MISSING = "Chromium is not at {path}: run scripts/browser-deps.sh (installs Debian's chromium)."


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"Screenshots of the main pages: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING.format(path=CHROMIUM))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(user=None, width=1280, height=800)``: a page in a fresh browser context
    (its own cookies), logged in as ``user`` through the login form when given."""
    contexts, problems = [], []

    def make(user=None, width=1280, height=800):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)

        def on_dialog(dialog):
            problems.append(f"a {dialog.type} dialog fired: {dialog.message!r}")
            dialog.dismiss()

        def on_console(message):
            if re.search(r"Content.Security.Policy|Refused to", message.text):
                problems.append(f"CSP: {message.text}")

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", on_console)
        if user is not None:
            page.goto("/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(re.compile(r"/$"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        """``name.png`` at the page's viewport (1280×800 by default) and ``name-1440.png``
        at 1440×900, the two laptop sizes the pages are checked at."""
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, caret="initial")
        size = page.viewport_size
        page.set_viewport_size({"width": 1440, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-1440.png"), full_page=True, caret="initial")
        page.set_viewport_size(size)

    return take
