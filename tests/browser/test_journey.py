"""An investigator's day in a real browser: sign in, filter the queue, open an alert, read
its score, follow its network (and grow it with a click), open a case from it, write a
note, decide on the alert — and the auditor then sees every one of those actions."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

NOTE = "Pays the same facilitators as the referred sender; request the bank statements."
REASON = "Network shared with two referred senders; escalated to the unit."


def graph_size(page: Any) -> int:
    return int(page.locator("#network-graph").get_attribute("data-nodes"))


def expandable_node(page: Any) -> str:
    """A node on the graph's edge whose own links bring parties the graph lacks (asked of
    the API with the page's own cookies)."""
    data = page.evaluate("JSON.parse(document.getElementById('network-data').textContent)")
    shown = {n["id"] for n in data["nodes"]}
    for node in sorted(data["nodes"], key=lambda n: -n["hop"]):
        around = page.request.get(f"/api/network/{node['id']}?hops=1").json()
        if {n["id"] for n in around["nodes"]} - shown:
            return str(node["id"])
    raise AssertionError("no node of the small world's graph has links beyond it")


def test_investigation_from_queue_to_audit(page: Any) -> None:
    sign_in(page, "ivy")
    assert page.url.endswith("/queue"), page.url

    # The queue, filtered to facilitators.
    page.get_by_label("Role").select_option("facilitator")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"role=facilitator"))
    rows = page.locator("table.queue tbody tr")
    assert rows.count() > 0
    roles = rows.locator("td:nth-child(4)").all_text_contents()
    assert set(roles) == {"facilitator"}, roles

    # Open the top alert: its score as a sum.
    rows.first.locator("td:nth-child(3) a").click()
    page.wait_for_url(re.compile(r"/subjects/facilitator/"))
    token = page.url.split("/subjects/", 1)[1]
    contributions = page.locator("#score table tbody tr")
    assert contributions.count() > 1  # the base and at least one indicator
    assert contributions.nth(1).is_visible()
    assert page.locator("#score tfoot strong").inner_text()

    # Its network: an SVG with nodes; a click on an outer node adds its links.
    page.get_by_role("link", name="Network graph").click()
    page.wait_for_selector("#network-graph[data-ready]")
    before = graph_size(page)
    assert before > 1 and page.locator("#network-graph .node").count() == before
    assert page.locator("#network-nodes tbody tr").count() == before
    target = expandable_node(page)
    page.locator(f'#network-graph .node[data-id="{target}"]').click()
    # (wait_for_function would evaluate a string, which the page's CSP forbids)
    page.locator("#network-status", has_text="Added").wait_for()
    after = graph_size(page)
    assert page.locator("#network-graph .node").count() == after > before
    assert page.locator("#network-nodes tbody tr").count() == after
    assert "Added" in page.locator("#network-status").inner_text()
    panel = page.locator("#network-panel")
    assert unquote(target.rsplit("/", 1)[1]) in panel.inner_text()

    # Double-click the subject: its page again. Open a case from it.
    page.locator(f'#network-graph .node[data-id="{token}"]').dblclick()
    page.wait_for_url(re.compile(r"/subjects/facilitator/"))
    page.get_by_label("Open a new case with this party, titled").fill("Browser journey")
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url(re.compile(r"/cases/\d+"))
    assert "Browser journey" in page.locator("main").inner_text()

    # A note on the case.
    page.get_by_label("New note").fill(NOTE)
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(re.compile(r"/cases/\d+"))
    assert NOTE in page.locator("article.note").first.inner_text()

    # Back on the queue: decide on the alert, with a reason.
    page.goto("/queue?role=facilitator")
    page.locator(f'input[name="key"][value="{token}"]').check()
    page.get_by_label("Decision", exact=True).select_option("escalate")
    page.get_by_label("Reason (required)").fill(REASON)
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_selector("p.notice")
    row = page.locator("table.queue tbody tr", has=page.locator(
        f'input[name="key"][value="{token}"]'))
    assert "escalated" in row.inner_text()

    # The auditor sees all of it under the investigator's name.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    sign_in(page, "aud")
    page.goto("/audit?user=ivy")
    actions = set(page.locator("table.audit tbody tr td:nth-child(5)").all_text_contents())
    assert {"login", "view_subject", "view_network", "create_case", "add_note",
            "dispose"} <= actions, actions
    targets = page.locator("table.audit tbody tr td:nth-child(6)").all_text_contents()
    assert unquote(token) in targets
