"""PUT /presence, GET /presence/online, GET /presence/following, GET /users/{id}, PUT /users/me."""

from __future__ import annotations

P, U, F, S = "presence_api", "users_api", "followers_api", "scores_api"


def set_presence(world, user: str, status: str, **fields):
    return world.call(P, "PUT", "/presence", user=user, body={"status": status, **fields})


def online_ids(world, user: str = "alice", **query) -> list[str]:
    reply = world.call(P, "GET", "/presence/online", user=user, query=query or None)
    assert reply.status == 200
    return [entry["userId"] for entry in reply.body["items"]]


def test_first_call_creates_the_profile_from_the_token_claims(world):
    reply = world.call(
        U, "GET", "/users/me", user="alice", name="Alice A", picture="https://cdn.example/a.png"
    )

    assert reply.status == 200
    assert (reply.body["userId"], reply.body["screenName"], reply.body["avatar"]) == (
        "alice",
        "Alice A",
        "https://cdn.example/a.png",
    )
    assert reply.body["presence"] == {"status": "offline", "lastSeenAt": None}
    assert (reply.body["followerCount"], reply.body["followingCount"]) == (0, 0)


def test_put_users_me_changes_the_profile_and_later_tokens_do_not_undo_it(world):
    world.call(U, "GET", "/users/me", user="alice", picture="https://cdn.example/a.png")

    update = world.call(U, "PUT", "/users/me", user="alice", body={"screenName": "  Queen A "})
    later = world.call(U, "GET", "/users/alice", user="bob")

    assert update.status == 200
    assert (later.body["screenName"], later.body["avatar"]) == ("Queen A", None)


def test_bad_profile_updates_are_refused_and_change_nothing(world):
    world.call(U, "GET", "/users/me", user="alice", name="Alice")
    bad_bodies = [
        {"screenName": ""},
        {"screenName": "x" * 33},
        {"screenName": "A", "avatar": "not a url"},
        {"screenName": "A", "avatar": 5},
        {"screenName": "A", "bio": "hi"},
        {"avatar": "https://cdn.example/a.png"},
    ]
    for body in bad_bodies:
        reply = world.call(U, "PUT", "/users/me", user="alice", body=body)
        assert (reply.status, reply.error_code) == (400, "invalid_body"), body

    assert world.call(U, "GET", "/users/me", user="alice").body["screenName"] == "Alice"


def test_a_user_who_never_called_the_api_is_not_found(world):
    reply = world.call(U, "GET", "/users/ghost", user="alice")

    assert (reply.status, reply.error_code) == (404, "user_not_found")


def test_profile_shows_presence_best_scores_and_recent_games(world, time_machine):
    world.call(S, "POST", "/scores", user="bob", body={"gameId": "tetris", "score": 700})
    time_machine.advance(5)
    world.call(S, "POST", "/scores", user="bob", body={"gameId": "chess", "score": 40})
    time_machine.advance(5)
    world.call(S, "POST", "/scores", user="bob", body={"gameId": "tetris", "score": 200})
    set_presence(world, "bob", "playing", gameId="tetris", context="level 3")

    profile = world.call(U, "GET", "/users/bob", user="alice").body

    assert profile["presence"]["status"] == "playing"
    assert (profile["presence"]["gameId"], profile["presence"]["context"]) == ("tetris", "level 3")
    assert profile["bestScores"] == [
        {"gameId": "chess", "bestScore": 40},
        {"gameId": "tetris", "bestScore": 700},
    ]
    assert [(g["gameId"], g["lastScore"]) for g in profile["recentGames"]] == [("tetris", 200), ("chess", 40)]


def test_an_expired_presence_reads_offline_before_ttl_deletes_it(world, time_machine):
    set_presence(world, "bob", "home")
    updated_at = world.scan("presence")[0]["updatedAt"]

    time_machine.advance(121)

    assert len(world.scan("presence")) == 1  # TTL has not deleted it (moto never does)
    presence = world.call(U, "GET", "/users/bob", user="alice").body["presence"]
    assert presence == {"status": "offline", "lastSeenAt": updated_at}
    assert "bob" not in online_ids(world)


def test_presence_lives_for_the_configured_ttl(world, time_machine):
    world.deployment.functions["presence_api"].environment["PRESENCE_TTL_SECONDS"] = "30"

    reply = set_presence(world, "bob", "home")
    time_machine.advance(29)
    still_online = online_ids(world)
    time_machine.advance(2)

    assert reply.body["status"] == "home"
    assert "bob" in still_online
    assert "bob" not in online_ids(world)


def test_playing_without_a_game_is_refused(world):
    reply = set_presence(world, "bob", "playing")

    assert (reply.status, reply.error_code) == (422, "presence_needs_game")
    assert world.scan("presence") == []


def test_unknown_status_or_unknown_field_is_refused(world):
    unknown_status = set_presence(world, "bob", "sleeping")
    unknown_field = set_presence(world, "bob", "home", mood="happy")

    assert (unknown_status.status, unknown_status.error_code) == (400, "invalid_body")
    assert (unknown_field.status, unknown_field.error_code) == (400, "invalid_body")
    assert world.scan("presence") == []


def test_online_list_pages_through_every_shard_most_recent_first(world, time_machine):
    users = [f"player{n:02d}" for n in range(9)]
    for user in users:
        set_presence(world, user, "home")
        time_machine.advance(1)
    shards = {record["onlineShard"] for record in world.scan("presence")}
    assert len(shards) > 1  # the listing really merges shards

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = world.call(P, "GET", "/presence/online", user="player00", query=query)
        assert page.status == 200
        seen += [entry["userId"] for entry in page.body["items"]]
        cursor = page.body["nextCursor"]
        if not cursor:
            break

    assert seen == list(reversed(users))


def test_online_list_refuses_a_bad_cursor(world):
    reply = world.call(P, "GET", "/presence/online", user="alice", query={"cursor": "eyJ4IjoxfQ"})

    assert (reply.status, reply.error_code) == (400, "invalid_cursor")


def test_following_presence_shows_only_followed_users_who_are_online(world, time_machine):
    for user in ("bob", "carol", "dave", "erin"):
        world.call(F, "GET", "/followers", user=user)
    for target in ("bob", "carol", "dave"):
        world.call(F, "POST", "/followers", user="alice", body={"targetUserId": target})
    set_presence(world, "carol", "home")
    time_machine.advance(100)
    set_presence(world, "bob", "game_lobby", gameId="chess")
    set_presence(world, "erin", "home")  # online, but alice does not follow her
    time_machine.advance(30)  # carol's presence has now expired; bob's has not

    reply = world.call(P, "GET", "/presence/following", user="alice")

    assert reply.status == 200
    assert [(e["userId"], e["status"], e["gameId"]) for e in reply.body["items"]] == [
        ("bob", "game_lobby", "chess")
    ]
