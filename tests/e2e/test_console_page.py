"""The /console page in headless Chromium against a real `arcadeflow up`: it watches a status
fan-out run to its end without a reload, shows three duel invites failed on purpose (the fault
switch fails their push with an error no Retry covers) with the graph and the table agreeing
with GetExecutionHistory, and redrives them, one from its page and two together from the list,
until they succeed.

The browser is the one tests/e2e/test_play_page.py installs (its `chromium` fixture). Every wait
is on what the page shows, never a sleep; screenshots go under the test's tmp_path.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arcadeflow import deployment
from arcadeflow.faults import clear_faults, list_faults, set_fault
from tests.e2e.test_play_page import chromium  # noqa: F401 - the fixture, installing the browser
from tests.flows.duel_support import close_all, players
from tests.support.fanout import populate, start_fanout, status_for
from tests.support.stack import RunningStack, wait_for

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 30
FAULT = "Arcadeflow.InjectedFault"
# 300 feed writes at 15 WCU: the fan-out runs ~20 s, long enough to be watched while it runs.
FOLLOWERS = 300
FEED_WRITE_BUDGET = 15
# Long enough for three invites sent one after another to be delivered (and the fault set) before
# the first one's window ends, even on a loaded machine: 2 s was not, once.
INVITE_WINDOW_SECONDS = 8
# The function of duel_invite's PushNotification, by its physical name.
PUSH_FUNCTION = deployment.load().physical_name("duel_push")
# What a state's events say happened to it: the errors that a Catch or the end can follow.
ERROR_EVENTS = ("Failed", "TimedOut")


@pytest.fixture(scope="module")
def console_stack(tmp_path_factory) -> Iterator[RunningStack]:
    running = RunningStack(
        tmp_path_factory.mktemp("console-page"),
        [
            "--invite-timeout",
            str(INVITE_WINDOW_SECONDS),
            "--feed-write-budget",
            str(FEED_WRITE_BUDGET),
        ],
    )
    yield running
    running.stop()


class ConsolePage:
    """The console in one browser, driven through its data-testid attributes."""

    def __init__(self, driver: Any, shots: Path):
        self.driver = driver
        self.shots = shots

    def els(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def el(self, testid: str) -> Any:
        found = self.els(f'[data-testid="{testid}"]')
        if not found:
            from selenium.common.exceptions import NoSuchElementException

            raise NoSuchElementException(testid)
        return found[0]

    def attr(self, testid: str, name: str) -> str:
        try:
            return self.el(testid).get_attribute(name) or ""
        except Exception:  # not drawn yet, or redrawn under us by the page's poll
            return ""

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        def safe(_: Any) -> Any:
            try:
                return condition()
            except Exception:  # the page redraws every second while an execution runs
                return False

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe)
        except TimeoutException:
            error = self.els('[data-testid="error"]')
            shown = error[0].text if error else ""
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; page error: {shown!r}"
            ) from None

    def wait_attr(self, testid: str, name: str, value: str, timeout: float = WAIT_SECONDS) -> None:
        self.wait(lambda: self.attr(testid, name) == value, f"{testid} {name}={value!r}", timeout)

    def click(self, testid: str) -> None:
        self.wait(
            lambda: self.el(testid).is_enabled() and self.el(testid).is_displayed(), f"{testid} clickable"
        )
        self.el(testid).click()

    def open(self, url: str, view: str) -> None:
        self.driver.get(url)
        self.wait(lambda: self.els(f'main[data-view="{view}"]'), f"the {view} view")

    def node_statuses(self) -> dict[str, str]:
        """State -> colour of the graph as drawn now (read in one script: the page redraws
        every second while an execution runs, so elements found one by one go stale)."""
        return dict(
            self.driver.execute_script(
                "return [...document.querySelectorAll('g.node')]"
                ".map(n => [n.dataset.state, n.dataset.status])"
            )
        )

    def values(self, css: str, attribute: str) -> list[str]:
        """An attribute of every element the selector finds, read at once."""
        script = "return [...document.querySelectorAll(arguments[0])].map(n => n.getAttribute(arguments[1]))"
        return list(self.driver.execute_script(script, css, attribute))

    def cells(self, testid: str) -> dict[str, str]:
        """A table row's cells by their data-col, read at once."""
        script = (
            'const row = document.querySelector(`[data-testid="${arguments[0]}"]`);'
            "return row ? Object.fromEntries([...row.querySelectorAll('td[data-col]')]"
            ".map(c => [c.dataset.col, c.textContent])) : null"
        )
        return dict(self.driver.execute_script(script, testid) or {})

    def screenshot(self, step: str) -> Path:
        path = self.shots / f"{step}.png"
        assert self.driver.save_screenshot(str(path)), path
        assert path.stat().st_size > 0
        return path


@pytest.fixture
def console_page(chromium, tmp_path) -> Iterator[ConsolePage]:  # noqa: F811 - the imported fixture
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1500,1000")
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield ConsolePage(driver, tmp_path)
    driver.quit()


def history_of(stack: RunningStack, arn: str) -> list[dict[str, Any]]:
    pages = stack.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=arn)
    return [event for page in pages for event in page["events"]]


def expected_statuses(events: list[dict[str, Any]], state_names: list[str]) -> dict[str, str]:
    """What the history says of each state of a flow whose states each run once (duel_invite):
    never entered, entered and never left (the failure), left after an error (caught), or left."""
    expected = {}
    for name in state_names:
        entered = [e["id"] for e in events if (e.get("stateEnteredEventDetails") or {}).get("name") == name]
        exited = [e["id"] for e in events if (e.get("stateExitedEventDetails") or {}).get("name") == name]
        if not entered:
            expected[name] = "not_reached"
        elif not exited:
            expected[name] = "failed"
        elif any(entered[0] < e["id"] < exited[-1] and e["type"].endswith(ERROR_EVENTS) for e in events):
            expected[name] = "caught"
        else:
            expected[name] = "succeeded"
    return expected


def fail_three_invites(stack: RunningStack) -> list[str]:
    """Three invites nobody answers: each window ends (NotifyInvitee's timeout, caught), and the
    no_response push fails with an error no Retry covers. Returns their execution ARNs. The
    players stay connected until both have failed: a disconnect may push too."""
    machine = stack.endpoints()["stateMachines"]["duel_invite"]
    sfn = stack.client("stepfunctions")

    def ended(arn: str) -> str:
        return wait_for(
            lambda: (status := sfn.describe_execution(executionArn=arn)["status"]) != "RUNNING" and status,
            timeout=WAIT_SECONDS,
            message=f"{arn} to end",
        )

    async def run() -> list[str]:
        everyone = await players(stack, "alice", "bob", "carol", "dave", "erin", "frank")
        try:
            sent = []
            for inviter, invitee in zip(everyone[::2], everyone[1::2], strict=True):
                await inviter.send(action="invite", to=invitee.name)
                sent.append(await inviter.frame("invite_sent"))
                await invitee.frame("invite", inviteId=sent[-1]["inviteId"])
            # Set once the invites are delivered: the next three pushes are their no_response.
            set_fault(
                stack.aws_url, PUSH_FUNCTION, fail_on=[1, 2, 3], error=FAULT, message="push failed on purpose"
            )
            arns = [machine.replace(":stateMachine:", ":execution:") + f":{s['inviteId']}" for s in sent]
            statuses = [await asyncio.to_thread(ended, arn) for arn in arns]
            assert statuses == ["FAILED"] * 3, (statuses, list_faults(stack.aws_url))
            return arns
        finally:
            await close_all(*everyone)

    return asyncio.run(run())


def test_the_console_follows_a_fanout_and_redrives_failed_duel_invites(console_stack, console_page, tmp_path):
    stack, page = console_stack, console_page
    base = f"{stack.http_url}/console/"
    sfn = stack.client("stepfunctions")
    machines = stack.endpoints()["stateMachines"]

    # Every deployed machine is listed, with its executions counted.
    page.open(base, "machines")
    names = {arn.rsplit(":", 1)[-1] for arn in machines.values()}
    page.wait(
        lambda: (
            {r.get_attribute("data-testid")[len("machine-row-") :] for r in page.els("tr[data-testid]")}
            >= names
        ),
        "rows",
    )

    # A fan-out to 300 followers, watched while it runs.
    celebrity = "celebrity-console"
    populate(stack, FOLLOWERS, celebrity, prefix="console-fan-")
    fanout = start_fanout(stack, status_for(celebrity))
    page.open(f"{base}#/executions/{fanout}", "execution")
    page.wait_attr("execution-status", "data-status", "RUNNING")
    page.wait(lambda: "running" in page.node_statuses().values(), "a state drawn running")
    assert page.attr("live", "data-state") == "polling"
    running_nodes = page.node_statuses()
    assert running_nodes["PrepareFanout"] == "succeeded", running_nodes
    assert "DeadLetterFeedBatch" in running_nodes and running_nodes["DeadLetterFeedBatch"] == "not_reached"
    page.screenshot("1-fanout-running")

    # Meanwhile three duel invites fail.
    invites = fail_three_invites(stack)

    # The page updates by itself: the fan-out ends SUCCEEDED, every state it entered green.
    page.wait_attr("execution-status", "data-status", "SUCCEEDED", timeout=90)
    page.wait(lambda: page.attr("live", "data-state") == "idle", "polling to stop")
    entered = {(e.get("stateEnteredEventDetails") or {}).get("name") for e in history_of(stack, fanout)} - {
        None
    }
    drawn = page.node_statuses()
    assert {n for n, s in drawn.items() if s != "not_reached"} == entered
    assert all(drawn[n] == "succeeded" for n in entered), drawn
    page.screenshot("2-fanout-succeeded")

    # The failed invites in the list, newest first; the first opened with the keyboard.
    page.open(f"{base}#/executions?machine={machines['duel_invite']}&status=FAILED", "executions")
    first, second, third = invites
    first_name, second_name, third_name = (arn.rsplit(":", 1)[-1] for arn in invites)
    page.wait(lambda: page.attr(f"execution-row-{first_name}", "data-status") == "FAILED", "the first invite")
    rows = page.values("tbody tr[data-arn]", "data-arn")
    assert rows == [third, second, first], rows
    page.screenshot("3-failed-invites")
    page.el(f"open-{first_name}").click()
    page.wait(lambda: page.els(f'section[data-arn="{first}"]'), "the first invite's page")

    # Its graph and its table say what GetExecutionHistory says.
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machines["duel_invite"])["definition"])
    events = history_of(stack, first)
    expected = expected_statuses(events, list(definition["States"]))
    assert expected["NotifyInvitee"] == "caught" and expected["PushNotification"] == "failed"
    assert expected["InviteSettled"] == "not_reached" and expected["ExpireInvite"] == "succeeded"
    page.wait(lambda: page.node_statuses() == expected, "the graph coloured as the history says")
    catch_edges = page.els('path[data-from="NotifyInvitee"][data-kind="catch"]')
    assert {e.get_attribute("data-to") for e in catch_edges} == {"ExpireInvite"}
    assert page.attr("execution-status", "data-status") == "FAILED"
    assert page.el("execution-error").text == FAULT
    page.el("node-PushNotification").click()
    page.wait_attr("state-detail", "data-state", "PushNotification")
    assert page.el("detail-error").text == FAULT
    assert "push failed on purpose" in page.el("detail-cause").text
    assert json.loads(page.el("detail-input").text)["notification"]["frame"]["type"] == "no_response"
    page.screenshot("4-invite-graph")

    page.driver.find_element("css selector", "body").send_keys("t")
    page.wait(lambda: page.els('[data-testid="states"]'), "the table view")
    pushed_at = next(
        e["id"] for e in events if (e.get("stateEnteredEventDetails") or {}).get("name") == "PushNotification"
    )
    attempts = sum(
        1 for e in events if e["id"] > pushed_at and e["type"] in ("TaskScheduled", "LambdaFunctionScheduled")
    )
    for name, status in expected.items():
        assert page.attr(f"state-row-{name}", "data-status") == status, name
    push_row = page.el("state-row-PushNotification")
    cell = {
        c.get_attribute("data-col"): c.text for c in push_row.find_elements("css selector", "td[data-col]")
    }
    assert cell["attempts"] == str(attempts) and cell["retries"] == "" and cell["error"] == FAULT, cell
    assert cell["start"].startswith("+") and cell["duration"], cell
    page.screenshot("5-invite-table")

    # Redrive from the page, the fault cleared: the same execution goes on and succeeds.
    clear_faults(stack.aws_url)
    page.click("redrive")
    page.wait_attr("action-result", "data-outcome", "redriven")
    page.wait_attr("execution-status", "data-status", "SUCCEEDED")
    page.wait(
        lambda: page.attr("state-row-InviteSettled", "data-status") == "succeeded", "InviteSettled reached"
    )
    assert page.attr("state-row-PushNotification", "data-status") == "succeeded"
    assert page.el("redrive-count").text.startswith("1")
    described = sfn.describe_execution(executionArn=first)
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 1)
    page.screenshot("6-invite-redriven")

    # The event view is the history, event for event.
    body = page.driver.find_element("css selector", "body")
    body.send_keys("e")
    page.wait(lambda: page.els('[data-testid="events"]'), "the event view")
    history = history_of(stack, first)
    page.wait(
        lambda: page.values('[data-testid="events"] tbody tr', "data-type") == [e["type"] for e in history],
        "a row per history event",
    )
    assert "ExecutionRedriven" in page.values('[data-testid="events"] tbody tr', "data-type")

    # The other two from the list: one selected with the keyboard, one clicked, redriven together.
    page.open(f"{base}#/executions?machine={machines['duel_invite']}", "executions")
    page.wait(lambda: page.attr(f"execution-row-{first_name}", "data-status") == "SUCCEEDED", "the list")
    assert not page.el(f"select-{first_name}").is_enabled(), "a succeeded execution cannot be selected"
    body = page.driver.find_element("css selector", "body")
    order = page.values("tbody tr[data-arn]", "data-arn")
    for _ in range(order.index(second)):
        body.send_keys("j")
    body.send_keys("x")
    # The page redraws the list once a selection changes: the count says it has.
    page.wait(lambda: page.el("redrive-selected").text == "Redrive selected (1)", "one selected")
    assert page.el(f"select-{second_name}").is_selected()
    page.el(f"select-{third_name}").click()
    page.wait(lambda: page.el("redrive-selected").text == "Redrive selected (2)", "two selected")
    page.click("redrive-selected")
    for name in (second_name, third_name):
        page.wait_attr(f"redrive-result-{name}", "data-redriven", "true")
        page.wait_attr(f"execution-row-{name}", "data-status", "SUCCEEDED")
    for arn in (second, third):
        assert sfn.describe_execution(executionArn=arn)["redriveCount"] == 1
    page.screenshot("7-list-redriven")
    assert len(list(tmp_path.glob("*.png"))) == 7
