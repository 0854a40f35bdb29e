"""Keyboard only: sign in, filter the queue, open an alert and grow its network with Tab,
arrow keys and Enter — no mouse."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser


def tab_to(page: Any, selector: str, limit: int = 80) -> int:
    """Press Tab until the focused element matches ``selector``; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return presses
    raise AssertionError(f"Tab never reached {selector}")


def test_sign_in_and_work_the_queue_with_the_keyboard(page: Any) -> None:
    page.goto("/login")
    # The sign-in page opens with the username field focused; Tab goes on to the password.
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/queue$"))

    # Filter by role: focus the select, pick with the arrow keys, submit with Enter.
    tab_to(page, "#f-role")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("#f-role").input_value() == "facilitator"
    tab_to(page, "form.filters button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"role=facilitator"))

    # The first alert's link, then Enter: its subject page.
    tab_to(page, "table.queue tbody tr td:nth-child(3) a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/subjects/facilitator/"))

    # Its network: every node takes the focus; Enter on one adds its links.
    tab_to(page, "nav.toc a[href^='/network/']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#network-graph[data-ready]")
    before = int(page.locator("#network-graph").get_attribute("data-nodes"))
    focusable = page.locator("#network-graph .node[tabindex='0']").count()
    assert focusable == before
    data = page.evaluate("JSON.parse(document.getElementById('network-data').textContent)")
    grows = [n["id"] for n in data["nodes"]
             if {m["id"] for m in page.request.get(f"/api/network/{n['id']}?hops=1")
                 .json()["nodes"]} - {m["id"] for m in data["nodes"]}]
    assert grows, "no node of the small world's graph has links beyond it"
    tab_to(page, f'#network-graph .node[data-id="{grows[0]}"]', limit=before + 40)
    assert page.locator("#network-panel h2").inner_text()  # focus shows it in the panel
    page.keyboard.press("Enter")
    # (wait_for_function would evaluate a string, which the page's CSP forbids)
    page.locator("#network-status", has_text="Added").wait_for()
    # The panel's link opens the subject page, from the keyboard too.
    tab_to(page, "#network-panel a[href^='/subjects/']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/subjects/"))
