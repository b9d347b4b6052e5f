"""The HTML graph in real headless Chromium, opened from disk with the network blocked."""

from __future__ import annotations

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def open_page(browser, path):
    page = browser.new_page()
    failed, errors, external = [], [], []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_function("window.kgNetwork !== undefined")
    return page, failed, errors, external


def test_graph_draws_offline_with_no_failed_request(browser, demo_build):
    built, out = demo_build
    page, failed, errors, external = open_page(browser, out / "graph.html")
    drawn = page.evaluate("window.kgNetwork.body.data.nodes.length")
    assert drawn == built.graph.number_of_nodes()
    positions = page.evaluate("Object.keys(window.kgNetwork.getPositions()).length")
    assert positions == drawn
    legend = page.locator("#legend li").all_text_contents()
    assert len(legend) == len(built.analysis.cluster_labels)
    assert not failed and not external and not errors
    page.close()
