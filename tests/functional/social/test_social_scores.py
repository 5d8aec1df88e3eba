"""POST /scores and GET /games/{gameId}/leaderboard against moto."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from functions.shared import clock
from functions.social import domain, wiring

S = "scores_api"


def post(world, user: str, game: str, score, **options):
    return world.call(S, "POST", "/scores", user=user, body={"gameId": game, "score": score}, **options)


def test_a_lower_score_updates_last_but_never_lowers_best(world, time_machine):
    first = post(world, "alice", "tetris", 900)
    time_machine.advance(60)
    second = post(world, "alice", "tetris", 300)

    assert first.body["newBest"] is True
    assert second.body["newBest"] is False
    assert (second.body["bestScore"], second.body["lastScore"]) == (900, 300)
    assert second.body["lastPlayedAt"] > first.body["lastPlayedAt"]
    [stats] = world.scan("user_game_stats")
    assert (stats["bestScore"], stats["lastScore"], stats["lastPlayedAt"]) == (
        900,
        300,
        second.body["lastPlayedAt"],
    )


def test_an_equal_score_is_not_a_new_best(world):
    post(world, "alice", "tetris", 500)

    assert post(world, "alice", "tetris", 500).body["newBest"] is False


def test_concurrent_posts_never_lose_the_best(world):
    """Lambda runs concurrent requests in separate containers, and Powertools' resolver keeps
    the current event in class state, so one handler module never serves two requests at once.
    The threads therefore race where concurrent containers race: on the score write itself."""
    player = world.call(S, "GET", "/games/warmup/leaderboard", user="alice")  # registers alice
    assert player.status == 200
    world.use_function(S)
    alice = wiring.users().get("alice")
    stats = wiring.game_stats()
    # Mostly rising scores make nearly every post a new best, so posts race on raising it; a
    # little shuffling means a higher one often lands just before a lower one.
    rng = random.Random(7)
    posts = []
    for game in ("tetris", "pong", "chess"):
        scores = list(range(1, 121))
        for i in range(0, len(scores), 4):
            chunk = scores[i : i + 4]
            rng.shuffle(chunk)
            scores[i : i + 4] = chunk
        posts += [(game, score) for score in scores]

    def record(game_and_score):
        game, score = game_and_score
        played_at = clock.iso(clock.now())
        return stats.record_score(alice, game, score, played_at, domain.recent_key(played_at, game))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(record, posts))

    best = {s["gameId"]: s["bestScore"] for s in world.scan("user_game_stats")}
    assert best == {"tetris": 120, "pong": 120, "chess": 120}
    assert all(after["bestScore"] >= score for (_, score), (after, _) in zip(posts, results, strict=True))
    board = world.call(S, "GET", "/games/pong/leaderboard", user="bob").body["entries"]
    assert [(e["userId"], e["bestScore"]) for e in board] == [("alice", 120)]


def test_leaderboard_lists_best_scores_highest_first_with_shared_ranks(world):
    for user, score in [("alice", 300), ("bob", 900), ("carol", 600), ("dave", 600), ("erin", 100)]:
        post(world, user, "tetris", score, name=user.title())
    post(world, "bob", "tetris", 10)  # a worse later game keeps bob's best on the board
    post(world, "zed", "chess", 5000)  # another game stays off this board

    board = world.call(S, "GET", "/games/tetris/leaderboard", user="alice", query={"limit": "4"})

    assert board.status == 200
    entries = board.body["entries"]
    assert [(e["rank"], e["bestScore"]) for e in entries] == [(1, 900), (2, 600), (2, 600), (4, 300)]
    assert entries[0]["userId"] == "bob" and entries[0]["screenName"] == "Bob"
    assert {e["userId"] for e in entries[1:3]} == {"carol", "dave"}


def test_leaderboard_of_a_game_nobody_played_is_empty(world):
    board = world.call(S, "GET", "/games/pong/leaderboard", user="alice")

    assert (board.status, board.body["entries"]) == (200, [])


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_leaderboard_limit_out_of_range_is_a_client_error(world, limit):
    reply = world.call(S, "GET", "/games/tetris/leaderboard", user="alice", query={"limit": limit})

    assert (reply.status, reply.error_code) == (400, "invalid_query")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gameId": "tetris", "score": "100"}, "score"),
        ({"gameId": "tetris", "score": 1.5}, "score"),
        ({"gameId": "tetris", "score": -1}, "score"),
        ({"gameId": "tetris", "score": True}, "score"),
        ({"gameId": "tetris", "score": 2**53}, "score"),
        ({"gameId": "", "score": 1}, "gameId"),
        ({"gameId": 7, "score": 1}, "gameId"),
        ({"score": 1}, "gameId"),
        ({"gameId": "tetris", "score": 1, "cheat": True}, "cheat"),
    ],
)
def test_invalid_scores_are_refused_with_the_field_named_and_nothing_recorded(world, body, field):
    reply = world.call(S, "POST", "/scores", user="alice", body=body)

    assert (reply.status, reply.error_code) == (400, "invalid_body")
    assert field in {detail["field"] for detail in reply.body["error"]["details"]}
    assert world.scan("user_game_stats") == []
