"""The /play page in two headless Chromium browsers against a real `arcadeflow up`: a duel from
invite to stop, and matchmaking from the queue through a whole game to a win and a requeue.

The browsers are Debian's `chromium` and `chromium-driver`; missing, the set-up installs them
with apt-get when it runs as root, and otherwise skips with the reason. Every wait is on what the
page shows (WebDriverWait on its elements), never a sleep. Screenshots go under the test's
tmp_path; a timed-out wait names what it waited for and shows both pages' frame logs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

APT_INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
APT_TIMEOUT_SECONDS = 900
WAIT_SECONDS = 30
# The matchmaking pairing goes through a Step Functions execution; under a loaded 2-core
# machine it has taken seconds, so pairing waits are longer than a page's own reaction.
PAIRING_WAIT_SECONDS = 60


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def chromium() -> tuple[str, str]:
    """(browser, driver) paths; installs Debian's packages when missing and allowed to."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    found = _chromium()
    if found is None:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip(
                "no chromium/chromedriver on the PATH, and installing them needs root and apt-get: "
                f"run `{APT_INSTALL}`"
            )
        result = subprocess.run(
            APT_INSTALL,
            shell=True,
            capture_output=True,
            text=True,
            timeout=APT_TIMEOUT_SECONDS,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = _chromium()
        if found is None:
            pytest.skip(f"could not install chromium: `{APT_INSTALL}` said:\n{result.stderr[-2000:]}")
    return found


@pytest.fixture(scope="module")
def play_stack(tmp_path_factory) -> Iterator[RunningStack]:
    """A stack of this module's own: an empty queue, so the two browsers pair with each other."""
    running = RunningStack(tmp_path_factory.mktemp("play-page"), ["--ttl-interval", "1"])
    yield running
    running.stop()


class Page:
    """One browser on the /play page, driven through its data-testid attributes."""

    def __init__(self, driver: Any, name: str, shots: Path):
        self.driver = driver
        self.name = name
        self.shots = shots
        self.others: list[Page] = []
        self.closed = False

    def close(self) -> None:
        """The player closes the browser (its WebSocket with it)."""
        if not self.closed:
            self.closed = True
            self.driver.quit()

    def el(self, testid: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def click(self, testid: str) -> None:
        def clickable() -> bool:
            element = self.el(testid)
            return bool(element.is_displayed() and element.is_enabled())

        self.wait(clickable, f"{testid} clickable")
        self.el(testid).click()

    def attr(self, testid: str, name: str) -> str:
        return self.el(testid).get_attribute(name) or ""

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda _: condition())
        except TimeoutException:
            logs = "\n".join(page.frames_log() for page in [self, *self.others] if not page.closed)
            message = f"{self.name}: timed out after {timeout}s waiting for {what}"
            raise AssertionError(f"{message}\n{logs}") from None

    def wait_attr(self, testid: str, name: str, value: str, timeout: float = WAIT_SECONDS) -> None:
        self.wait(lambda: self.attr(testid, name) == value, f"{testid} {name}={value!r}", timeout)

    def frames_log(self) -> str:
        try:
            frames, error = self.el("frames").text, self.el("last-error").text
            return f"--- {self.name}'s frames, newest first:\n{frames}\n{error}"
        except Exception as exc:  # the page may not have loaded at all
            return f"--- {self.name}: no frame log ({exc})"

    def screenshot(self, step: str) -> Path:
        path = self.shots / f"{step}-{self.name}.png"
        assert self.driver.save_screenshot(str(path)), path
        assert path.stat().st_size > 0
        return path

    def sign_in(self, url: str, user_id: str, name: str) -> None:
        self.driver.get(url)
        self.el("user-id").send_keys(user_id)
        self.el("display-name").send_keys(name)
        self.click("sign-in")
        self.wait_attr("connection-status", "data-state", "connected")
        assert self.attr("whoami", "data-user-id") == user_id


@pytest.fixture
def open_page(chromium, tmp_path) -> Iterator[Callable[[str], Page]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium
    pages: list[Page] = []

    def open_one(name: str) -> Page:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
            options.add_argument(flag)
        options.add_argument("--window-size=1280,900")
        # Its own profile: two browsers share no storage, as two players on two machines.
        options.add_argument(f"--user-data-dir={tmp_path / f'profile-{name}'}")
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        page = Page(driver, name, tmp_path)
        for other in pages:
            other.others.append(page)
            page.others.append(other)
        pages.append(page)
        return page

    yield open_one
    for page in pages:
        page.close()


def _user(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_a_duel_from_invite_to_stop_in_two_browsers(play_stack, open_page, tmp_path):
    url = f"{play_stack.http_url}/play/"
    alice_id, bob_id = _user("alice"), _user("bob")
    bob = open_page("bob")
    bob.sign_in(url, bob_id, "Bob")
    alice = open_page("alice")
    alice.sign_in(url, alice_id, "Alice")

    # Bob is on the online list (GET /presence/online): alice invites him, he rejects.
    alice.wait(lambda: alice.el(f"online-user-{bob_id}").is_displayed(), f"{bob_id} in the online list")
    alice.click(f"invite-{bob_id}")
    alice.wait_attr("duel-status", "data-state", "inviting")
    bob.wait(lambda: bob.el("incoming-invite").is_displayed(), "the invite prompt")
    assert alice_id in bob.el("incoming-invite-text").text
    bob.screenshot("1-invited")
    bob.click("reject-invite")
    alice.wait_attr("duel-status", "data-state", "rejected")
    assert not bob.el("incoming-invite").is_displayed()

    # Again; this time he accepts, and both count down from the same startAt.
    alice.click(f"invite-{bob_id}")
    bob.wait(lambda: bob.el("incoming-invite").is_displayed(), "the second invite prompt")
    bob.click("accept-invite")
    for page in (alice, bob):
        page.wait(lambda p=page: p.el("duel-session").is_displayed(), "the duel session")
        assert {alice_id, bob_id} <= set(page.el("duel-players").text.split(" vs "))
    first_phase = {page.name: page.attr("countdown", "data-phase") for page in (alice, bob)}
    assert set(first_phase.values()) <= {"starting", "running"}, first_phase
    assert alice.attr("duel-session", "data-session-id") == bob.attr("duel-session", "data-session-id")
    for page in (alice, bob):
        page.wait_attr("countdown", "data-phase", "running")
    # Both clocks read from the server's startAt: within a tick of each other (10:00 at most).
    left = [page.el("countdown").text for page in (alice, bob)]
    assert all(text.endswith(" left") for text in left), left
    seconds = [int(t.split()[0].split(":")[0]) * 60 + int(t.split()[0].split(":")[1]) for t in left]
    assert abs(seconds[0] - seconds[1]) <= 2 and max(seconds) <= 600, left
    alice.screenshot("2-counting-down")
    bob.screenshot("2-counting-down")

    alice.click("stop-duel")
    for page in (alice, bob):
        page.wait_attr("countdown", "data-phase", "stopped")
        page.wait_attr("duel-status", "data-state", "stopped")
    assert alice.el("duel-status").text == "Stopped by you."
    assert bob.el("duel-status").text == f"Stopped by {alice_id}."
    assert not alice.el("stop-duel").is_enabled()
    alice.screenshot("3-stopped")
    bob.screenshot("3-stopped")
    assert len(list(tmp_path.glob("*.png"))) == 5


def _play(mover: Page, waiter: Page, cell: int, marker: str) -> None:
    mover.wait_attr("turn", "data-turn", "mine")
    mover.click(f"cell-{cell}")
    # The mover's own board shows the mark at once; the opponent's when the relay arrives.
    mover.wait_attr(f"cell-{cell}", "data-mark", marker)
    waiter.wait_attr(f"cell-{cell}", "data-mark", marker)


def test_matchmaking_pairs_two_browsers_who_play_to_a_win_and_requeue(play_stack, open_page, tmp_path):
    url = f"{play_stack.http_url}/play/"
    alice_id, bob_id = _user("alice"), _user("bob")
    alice = open_page("alice")
    alice.sign_in(url, alice_id, "Alice")
    bob = open_page("bob")
    bob.sign_in(url, bob_id, "Bob")

    # Alice waits first, so she gets X and moves first.
    alice.click("join-queue")
    alice.wait_attr("queue-status", "data-state", "queued")
    assert alice.attr("queue-status", "data-position") == "1"
    alice.screenshot("1-queued")
    bob.click("join-queue")
    for page in (alice, bob):
        page.wait(lambda p=page: p.el("game").is_displayed(), "the board", PAIRING_WAIT_SECONDS)
    assert (alice.attr("game-info", "data-marker"), bob.attr("game-info", "data-marker")) == ("X", "O")
    assert alice.attr("game-info", "data-opponent") == bob_id
    assert bob.attr("game-info", "data-opponent") == alice_id
    first_game = alice.attr("game", "data-game-id")
    assert first_game and first_game == bob.attr("game", "data-game-id")
    assert bob.attr("turn", "data-turn") == "theirs"
    alice.screenshot("2-paired")

    # X takes the top row while O plays the middle one.
    for mover, waiter, cell, marker in [
        (alice, bob, 0, "X"),
        (bob, alice, 3, "O"),
        (alice, bob, 1, "X"),
        (bob, alice, 4, "O"),
    ]:
        _play(mover, waiter, cell, marker)
    alice.wait_attr("turn", "data-turn", "mine")
    alice.click("cell-2")
    for page, result in ((alice, "won"), (bob, "lost")):
        page.wait_attr("game-result", "data-result", result)
        page.wait_attr("queue-status", "data-state", "over")
        marks = [page.attr(f"cell-{cell}", "data-mark") for cell in range(9)]
        assert marks == ["X", "X", "X", "O", "O", "", "", "", ""], (page.name, marks)
    assert alice.el("game-result").text == "You won!"
    assert bob.el("game-result").text == "Alice won."
    winning = [c for c in range(9) if "winning" in (alice.attr(f"cell-{c}", "class") or "")]
    assert winning == [0, 1, 2]
    alice.screenshot("3-game-over")
    bob.screenshot("3-game-over")

    # Both go back in: a new game, alice X again because she requeued first.
    alice.click("requeue")
    alice.wait_attr("queue-status", "data-state", "queued")
    bob.click("requeue")
    for page in (alice, bob):

        def second_game(p: Page = page) -> bool:
            return p.attr("game", "data-game-id") not in ("", first_game) and p.el("game").is_displayed()

        page.wait(second_game, "a second game", PAIRING_WAIT_SECONDS)
        page.wait_attr("queue-status", "data-state", "playing")
    assert alice.attr("game", "data-game-id") == bob.attr("game", "data-game-id")
    assert (alice.attr("game-info", "data-marker"), bob.attr("game-info", "data-marker")) == ("X", "O")
    assert [alice.attr(f"cell-{cell}", "data-mark") for cell in range(9)] == [""] * 9
    alice.screenshot("4-requeued")
    bob.screenshot("4-requeued")


def test_leaving_the_queue_and_an_opponent_who_closes_the_browser_mid_game(play_stack, open_page):
    url = f"{play_stack.http_url}/play/"
    alice_id, bob_id = _user("alice"), _user("bob")
    alice = open_page("alice")
    alice.sign_in(url, alice_id, "Alice")
    bob = open_page("bob")
    bob.sign_in(url, bob_id, "Bob")

    alice.click("join-queue")
    alice.wait_attr("queue-status", "data-state", "queued")
    alice.click("leave-queue")
    alice.wait_attr("queue-status", "data-state", "idle")
    assert alice.el("join-queue").is_displayed() and not alice.el("leave-queue").is_displayed()

    alice.click("join-queue")
    alice.wait_attr("queue-status", "data-state", "queued")
    bob.click("join-queue")
    for page in (alice, bob):
        page.wait_attr("queue-status", "data-state", "playing", PAIRING_WAIT_SECONDS)
    _play(alice, bob, 4, "X")

    # Closing the window closes the WebSocket: $disconnect, and the game is abandoned for alice.
    bob.close()
    alice.wait_attr("game-result", "data-result", "opponent_left", PAIRING_WAIT_SECONDS)
    assert alice.el("game-result").text == "Bob left the game."
    assert all(not alice.el(f"cell-{cell}").is_enabled() for cell in range(9))
    assert alice.el("requeue").is_displayed()
    alice.screenshot("opponent-left")
