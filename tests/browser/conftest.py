"""Real Chromium (the system's /usr/bin/chromium) driven by Playwright's sync API, against the live
uvicorn of tests/integration (committed data on the test database)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.conftest import clean_queues, committed, live_server_url  # noqa: F401 - reused fixtures

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot_path(name: str) -> Path:
    """Where a test's screenshot goes: the committed docs/screenshots/ only when
    OPSWORKER_REFRESH_SCREENSHOTS=1, otherwise the git-ignored tmp/ beside it, so that
    `make test` never leaves the working tree dirty."""
    folder = SCREENSHOTS if os.environ.get("OPSWORKER_REFRESH_SCREENSHOTS") == "1" else SCREENSHOTS / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module; Playwright's own browser download cannot work here."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread; the test's own ORM calls are
    # still plain synchronous code, so Django's async-safety guard is lifted while it runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser):
    """new_page() -> a page in a fresh context (own cookies), closed after the test."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    # While Playwright's loop runs on this thread, asgiref keeps Django's connection in a context
    # variable: the test's ORM calls used a second connection that pytest-django would not close,
    # and dropping the test database at the end of the run would fail on it.
    from django.db import connections

    connections.close_all()


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
