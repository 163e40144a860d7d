"""Real-browser tests: Debian's Chromium driven by Playwright against a live server,
with axe-core run on every page a test visits.

Chromium is never downloaded: the tests use /usr/bin/chromium (`apt-get install
chromium`). Where it is missing they skip, unless VLE_REQUIRE_BROWSER=1 (CI), which
turns the skip into a failure.
"""

from __future__ import annotations

import importlib.resources
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Frame, Locator, Page, Response
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling home, and this
# machine's closed network refuses it many times a second.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
TIMEOUT_MS = 15_000
PHONE_WIDTH = 320  # WCAG 2.1 1.4.10 Reflow: the narrowest screen a page must fit


def _axe_source() -> str:
    return (importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text(
        encoding="utf-8"
    )


@pytest.fixture(scope="session")
def axe_source() -> str:
    return _axe_source()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("VLE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and VLE_REQUIRE_BROWSER=1 requires it", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app served over real HTTP on a free loopback port, one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core found {len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact') or 'no impact given'}): "
            f"{violation['help']}  [{violation['helpUrl']}]"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            for summary_line in (node.get("failureSummary") or "").splitlines():
                lines.append(f"        {summary_line.strip()}")
    return "\n".join(lines)


def no_sideways_scroll(page: Page) -> None:
    """At the page's width nothing but a table's own scrolling box (`.table-wrap`) is wider."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => {  // a box beyond the edge, or a box whose content (text) runs beyond it
                    const r = e.getBoundingClientRect(), edge = document.documentElement.clientWidth + 1;
                    return r.right > edge || (getComputedStyle(e).overflowX === 'visible'
                                              && r.left + e.scrollWidth > edge); })
                .filter(e => !e.closest('.table-wrap') || e.classList.contains('table-wrap'))
                .reverse()  // the innermost first
                .slice(0, 8)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className && typeof e.className === 'string'
                        ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                     + ' "' + (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 30) + '"'
                     + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""
        )
        width = page.evaluate("() => document.documentElement.clientWidth")
        pytest.fail(
            f"{page.url} scrolls sideways by {overflow}px at {width}px wide; too wide: {wide}",
            pytrace=False,
        )


def open_header(page: Page) -> None:
    """On a phone the language form and the account links are folded behind a
    button (static/layout.js): open them, as a person would, before using them."""
    toggle = page.locator(".header-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()


class Site:
    """One browser tab on the live server. Every page load goes through `visit`,
    `follow` or `audit`, and each loaded page is checked with axe-core; a page the
    test reached some other way fails the test instead of going unchecked."""

    def __init__(self, page: Page, base_url: str, axe_source: str):
        self.page = page
        self.base_url = base_url
        self._axe_source = axe_source
        self._navigations = 0  # documents the tab has shown
        self._audited = 0  # of those, how many were checked with axe
        self._browser_errors: list[str] = []
        page.on("framenavigated", self._on_navigated)
        page.on("pageerror", lambda error: self._browser_errors.append(f"script error: {error}"))
        page.on("console", self._on_console)

    def _on_navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self._navigations += 1

    def _on_console(self, message: Any) -> None:
        # A CSP refusal means an inline script or style slipped into a template.
        if message.type == "error" and "Content Security Policy" in message.text:
            self._browser_errors.append(f"console: {message.text}")

    def visit(self, path: str) -> Response | None:
        """Open a page by its URL path."""
        self._check_all_audited()
        response = self.page.goto(self.base_url + path)
        self.audit()
        return response

    def follow(self, control: Locator) -> None:
        """Activate a link or button that loads another page (or the same page again)."""
        self.navigate(control.click)

    def navigate(self, action: Callable[[], Any]) -> None:
        """Do something that loads a page (a click, a key press), then check that page."""
        self._check_all_audited()
        with self.page.expect_navigation():
            action()
        self.audit()

    def elsewhere(self, action: Callable[[], Any]) -> None:
        """Do something that loads a page of another site (an organisation's
        identity provider): not vle's, so axe does not check it; the next page
        loaded from there is vle's again, and checked."""
        self._check_all_audited()
        with self.page.expect_navigation():
            action()
        self.page.wait_for_load_state("load")
        if self.page.url.startswith(self.base_url):
            pytest.fail(f"{self.page.url} is vle's own page: check it", pytrace=False)
        self._audited = self._navigations

    def audit(self) -> None:
        """Run axe-core on the page as it is now; fail on any WCAG 2.1 A/AA violation."""
        self.page.wait_for_load_state("load")
        if self._navigations - self._audited > 1:
            pytest.fail("a page was visited without an axe check", pytrace=False)
        self.page.evaluate(self._axe_source)
        results = self.page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        self._audited = self._navigations
        if self._browser_errors:
            errors, self._browser_errors = self._browser_errors, []
            pytest.fail(f"on {self.page.url}:\n" + "\n".join(errors), pytrace=False)
        if results["violations"]:
            pytest.fail(format_violations(self.page.url, results["violations"]), pytrace=False)
        self._check_reflow()

    def _check_reflow(self) -> None:
        """WCAG 2.1 1.4.10: at 320 px wide nothing scrolls sideways. Every page checked
        with axe is also laid out at 320 px (same height), then given back the size
        the test set."""
        size = self.page.viewport_size or {"width": 1280, "height": 720}
        if size["width"] == PHONE_WIDTH:
            no_sideways_scroll(self.page)
            return
        self.page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
        try:
            no_sideways_scroll(self.page)
        finally:
            self.page.set_viewport_size(size)

    def _check_all_audited(self) -> None:
        if self._navigations > self._audited:
            pytest.fail(
                f"{self.page.url} was reached without going through Site.visit/follow/audit, "
                "so axe never checked it",
                pytrace=False,
            )


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture
def open_site(
    request: pytest.FixtureRequest, browser: Browser, live_server: str, axe_source: str
) -> Iterator[Callable[..., Site]]:
    """open_site(locale="lt") → a fresh browser profile (cookies, language) on the live server."""
    contexts: list[BrowserContext] = []
    sites: list[Site] = []

    def open_(locale: str = "en-GB", **options: Any) -> Site:
        # The locale also sets Accept-Language, as a person's browser would. Options
        # go to the browser context: java_script_enabled=False, device_scale_factor …
        context = browser.new_context(locale=locale, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        site = Site(context.new_page(), live_server, axe_source)
        sites.append(site)
        return site

    yield open_
    try:
        if not request.node.stash.get(_CALL_FAILED, True):  # a failed test has said enough
            for site in sites:
                site._check_all_audited()
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def site(open_site: Callable[..., Site]) -> Site:
    return open_site()
