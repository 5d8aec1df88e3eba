"""follow_counts and presence_expiry: DynamoDB stream batches, partial failures, redelivery."""

from __future__ import annotations

from tests.support.lambda_events import stream_record

F, U = "followers_api", "users_api"


def counts(world, user: str) -> tuple[int, int]:
    body = world.call(U, "GET", f"/users/{user}", user=user).body
    return body["followerCount"], body["followingCount"]


def make_follows(world, edges: list[tuple[str, str]]) -> None:
    for user in {u for edge in edges for u in edge}:
        world.call(F, "GET", "/followers", user=user)
    for follower, target in edges:
        assert world.call(F, "POST", "/followers", user=follower, body={"targetUserId": target}).status == 201


def test_counts_follow_inserts_and_removes_from_the_real_stream(world):
    make_follows(world, [("alice", "bob"), ("carol", "bob"), ("bob", "alice")])
    world.call(F, "DELETE", "/followers/bob", user="carol")
    world.call(F, "POST", "/followers", user="alice", body={"targetUserId": "bob"})  # repeat: no new record

    records = world.stream_records("follows")
    response = world.invoke("follow_counts", {"Records": records})

    assert response == {"batchItemFailures": []}
    assert counts(world, "bob") == (1, 1)
    assert counts(world, "alice") == (1, 1)
    assert counts(world, "carol") == (0, 0)


def test_a_redelivered_batch_does_not_count_twice(world):
    make_follows(world, [("alice", "bob"), ("carol", "bob")])
    records = world.stream_records("follows")

    world.invoke("follow_counts", {"Records": records})
    again = world.invoke("follow_counts", {"Records": records})

    assert again == {"batchItemFailures": []}
    assert counts(world, "bob") == (2, 0)
    assert counts(world, "alice") == (0, 1)


def test_a_bad_record_fails_alone_and_the_retry_counts_only_what_was_missed(world):
    make_follows(world, [("alice", "bob"), ("carol", "bob")])
    good = world.stream_records("follows")
    broken = stream_record(
        "INSERT", {"userId": "dave", "targetUserId": "bob"}, sequence_number="999000", event_id="broken-1"
    )
    batch = {"Records": [good[0], broken, good[1]]}

    first = world.invoke("follow_counts", batch)
    counted_before_retry = counts(world, "bob")
    retry = world.invoke("follow_counts", batch)  # Lambda retries the batch from the failed record on

    assert first == {"batchItemFailures": [{"itemIdentifier": "999000"}]}
    assert counted_before_retry == (2, 0)
    assert retry == {"batchItemFailures": [{"itemIdentifier": "999000"}]}
    assert counts(world, "bob") == (2, 0)


def presence_image(user: str, updated_at: str) -> dict:
    return {
        "userId": user,
        "status": "home",
        "updatedAt": updated_at,
        "expiresAt": 1,
        "onlineShard": "online#0",
    }


def test_ttl_removal_records_last_seen_once_and_never_moves_it_back(world):
    world.call(U, "GET", "/users/me", user="bob")
    newer = stream_record(
        "REMOVE",
        {"userId": "bob"},
        old_image=presence_image("bob", "2030-01-01T10:00:00.000000Z"),
        sequence_number="100",
        by_ttl=True,
    )
    older = stream_record(
        "REMOVE",
        {"userId": "bob"},
        old_image=presence_image("bob", "2030-01-01T09:00:00.000000Z"),
        sequence_number="101",
        by_ttl=True,
    )

    first = world.invoke("presence_expiry", {"Records": [newer, older]})
    redelivered = world.invoke("presence_expiry", {"Records": [newer]})

    assert first == redelivered == {"batchItemFailures": []}
    presence = world.call(U, "GET", "/users/bob", user="alice").body["presence"]
    assert presence == {"status": "offline", "lastSeenAt": "2030-01-01T10:00:00.000000Z"}


def test_only_ttl_removals_record_last_seen_and_malformed_ones_fail_alone(world):
    world.call(U, "GET", "/users/me", user="bob")
    world.call(U, "GET", "/users/me", user="carol")
    deleted_by_someone = stream_record(
        "REMOVE",
        {"userId": "bob"},
        old_image=presence_image("bob", "2030-01-01T10:00:00.000000Z"),
        sequence_number="1",
    )
    refreshed = stream_record(
        "MODIFY",
        {"userId": "bob"},
        new_image=presence_image("bob", "2030-01-01T11:00:00.000000Z"),
        old_image=presence_image("bob", "2030-01-01T10:00:00.000000Z"),
        sequence_number="2",
    )
    no_image = stream_record("REMOVE", {"userId": "carol"}, sequence_number="3", by_ttl=True)
    carol_expired = stream_record(
        "REMOVE",
        {"userId": "carol"},
        old_image=presence_image("carol", "2030-01-02T00:00:00.000000Z"),
        sequence_number="4",
        by_ttl=True,
    )

    response = world.invoke(
        "presence_expiry", {"Records": [deleted_by_someone, refreshed, no_image, carol_expired]}
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "3"}]}
    users = {item["userId"]: item for item in world.scan("users")}
    assert "lastSeenAt" not in users["bob"]
    assert users["carol"]["lastSeenAt"] == "2030-01-02T00:00:00.000000Z"
