"""A game's web front end on another origin calls the local HTTP API from headless Chromium:
`arcadeflow up --cors-origin <its origin>` configures the API's CORS as Terraform's
cors_allowed_origins does, and the browser itself enforces it.

Two pages, each a tiny http.server on its own 127.0.0.1 port (a port makes an origin), make the
same cross-origin `fetch`: POST /scores with an Authorization header and a JSON body, which the
browser preflights. From the allowed origin the page reads the answer, and the score is recorded;
a bad token's 401 is readable too (the gateway's own errors carry the headers). From the other
origin the browser blocks the call at the preflight: the page sees only a TypeError, Chromium's
log names the CORS policy, and nothing was recorded.

The browser is the one tests/e2e/test_play_page.py installs (its `chromium` fixture). Every wait
is on what the page shows, never a sleep.
"""

from __future__ import annotations

import functools
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from tests.e2e.test_play_page import chromium  # noqa: F401 - the fixture, installing the browser
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 30

# The front end: two cross-origin calls, each answer (or the browser's refusal) shown on the page.
FRONT_END = """<!doctype html>
<meta charset="utf-8">
<title>another origin</title>
<pre data-testid="score"></pre>
<pre data-testid="bad-token"></pre>
<script>
const params = new URLSearchParams(location.search);
async function call(testid, token) {
  const shown = document.querySelector(`[data-testid="${testid}"]`);
  try {
    const answer = await fetch(params.get("api") + "/scores", {
      method: "POST",
      headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json"},
      body: JSON.stringify({gameId: params.get("game"), score: 42}),
    });
    shown.textContent = JSON.stringify({status: answer.status, body: await answer.json()});
    shown.dataset.state = "answered";
  } catch (error) {
    shown.textContent = String(error);
    shown.dataset.state = "blocked";
  }
}
call("score", params.get("token")).then(() => call("bad-token", "not-a-token"));
</script>
"""


class FrontEnd:
    """A static page served from its own port, as a game's dev server on localhost:5173 would."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(FRONT_END)
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def front_ends(tmp_path_factory) -> Iterator[tuple[FrontEnd, FrontEnd]]:
    allowed = FrontEnd(tmp_path_factory.mktemp("allowed-front-end"))
    other = FrontEnd(tmp_path_factory.mktemp("other-front-end"))
    yield allowed, other
    allowed.stop()
    other.stop()


@pytest.fixture(scope="module")
def cors_stack(tmp_path_factory, front_ends) -> Iterator[RunningStack]:
    allowed, _ = front_ends
    running = RunningStack(tmp_path_factory.mktemp("cors"), ["--cors-origin", allowed.origin])
    yield running
    running.stop()


@pytest.fixture
def browser(chromium, tmp_path) -> Iterator[Any]:  # noqa: F811 - the imported fixture
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    # The console's messages: where Chromium says why it blocked a call.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()


def _open(browser: Any, front_end: FrontEnd, stack: RunningStack, token: str, game: str) -> None:
    query = urlencode({"api": stack.http_url, "token": token, "game": game})
    browser.get(f"{front_end.origin}/index.html?{query}")


def _shown(browser: Any, testid: str) -> tuple[str, str]:
    """(state, text) of a result once the page has one: "answered" or "blocked"."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def settled(driver: Any) -> tuple[str, str] | None:
        element = driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')
        state = element.get_attribute("data-state")
        return (state, element.text) if state else None

    try:
        return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.1).until(settled)
    except TimeoutException:
        logs = "\n".join(entry["message"] for entry in browser.get_log("browser"))
        raise AssertionError(
            f"the page showed no {testid} result in {WAIT_SECONDS}s; its console:\n{logs}"
        ) from None


def _leaderboard(stack: RunningStack, token: str, game: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{stack.http_url}/games/{game}/leaderboard", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["entries"]


def test_the_allowed_origin_reads_the_apis_answers(cors_stack, front_ends, browser) -> None:
    allowed, _ = front_ends
    assert cors_stack.endpoints()["corsOrigins"] == [allowed.origin]
    token = cors_stack.token("cors-alice", "Alice")
    game = f"cors-{uuid.uuid4().hex[:8]}"
    _open(browser, allowed, cors_stack, token, game)

    state, text = _shown(browser, "score")
    assert state == "answered", text
    answer = json.loads(text)
    assert answer["status"] == 200
    assert answer["body"]["gameId"] == game and answer["body"]["bestScore"] == 42
    # The JWT authorizer's 401 is readable from the page too, not an opaque network error.
    state, text = _shown(browser, "bad-token")
    assert state == "answered", text
    assert json.loads(text) == {"status": 401, "body": {"message": "Unauthorized"}}
    assert [entry["userId"] for entry in _leaderboard(cors_stack, token, game)] == ["cors-alice"]


def test_another_origin_is_blocked_by_the_browser(cors_stack, front_ends, browser) -> None:
    _, other = front_ends
    token = cors_stack.token("cors-mallory", "Mallory")
    game = f"cors-{uuid.uuid4().hex[:8]}"
    _open(browser, other, cors_stack, token, game)

    state, text = _shown(browser, "score")
    assert state == "blocked", text
    assert text.startswith("TypeError")
    console = "\n".join(entry["message"] for entry in browser.get_log("browser"))
    assert "blocked by CORS policy" in console, console
    assert other.origin in console
    # Blocked at the preflight: the POST itself was never sent, so nothing was recorded.
    assert _leaderboard(cors_stack, token, game) == []
