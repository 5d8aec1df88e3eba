"""DynamoDB access of the duels flows: connections, invites (with their pair guards), sessions.

Every state change that two parties can race for is one conditional write here; the caller
learns whether it won (True) or lost (False) and never overwrites the winner.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.duels import domain
from functions.duels.errors import InviteAlreadyPending
from functions.shared.clock import iso_ms
from functions.shared.dynamo import (
    error_code,
    expression_values,
    from_item,
    from_items,
    is_conditional_check_failure,
    to_item,
)

SESSIONS_BY_USER_A = "SessionsByUserA"
SESSIONS_BY_USER_B = "SessionsByUserB"


class InvitesRepository:
    """invites: inviteId; pending_invites: fromUserId + toUserId -> the invite that holds the pair.

    The pair guard makes "one pending invite from A to B" a conditional write: a new invite may
    take the guard only if nobody holds it, or if it still names the invite the caller found
    settled (or lost). Settling an invite never has to touch the guard.
    """

    def __init__(self, client: Any, invites_table: str, guards_table: str | None = None) -> None:
        # Only the invite handler takes pair guards; the flow's steps touch invites alone.
        self.client, self.table, self._guards = client, invites_table, guards_table

    @property
    def guards(self) -> str:
        if self._guards is None:
            raise RuntimeError("this InvitesRepository was made without the pending_invites table")
        return self._guards

    def get(self, invite_id: str) -> dict[str, Any] | None:
        out = self.client.get_item(
            TableName=self.table, Key=to_item({"inviteId": invite_id}), ConsistentRead=True
        )
        return from_item(out.get("Item"))

    def holder_of_pair(self, from_user: str, to_user: str) -> dict[str, Any] | None:
        out = self.client.get_item(
            TableName=self.guards,
            Key=to_item({"fromUserId": from_user, "toUserId": to_user}),
            ConsistentRead=True,
        )
        guard = from_item(out.get("Item"))
        return self.get(guard["inviteId"]) if guard else None

    def create(self, invite: dict[str, Any], replaces_invite_id: str | None) -> None:
        guard = {
            "fromUserId": invite["fromUserId"],
            "toUserId": invite["toUserId"],
            "inviteId": invite["inviteId"],
            "expireAt": invite["expireAt"],
        }
        guard_put: dict[str, Any] = {"TableName": self.guards, "Item": to_item(guard)}
        if replaces_invite_id is None:
            guard_put["ConditionExpression"] = "attribute_not_exists(fromUserId)"
        else:
            guard_put["ConditionExpression"] = "attribute_not_exists(fromUserId) OR inviteId = :previous"
            guard_put["ExpressionAttributeValues"] = expression_values(previous=replaces_invite_id)
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Put": guard_put},
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(invite),
                            "ConditionExpression": "attribute_not_exists(inviteId)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                raise InviteAlreadyPending(
                    f"you already have a pending invite to {invite['toUserId']}"
                ) from error
            raise

    def mark_failed(self, invite: dict[str, Any]) -> None:
        """The flow could not be started: the invite never existed for the invitee."""
        self.client.update_item(
            TableName=self.table,
            Key=to_item({"inviteId": invite["inviteId"]}),
            UpdateExpression="SET #status = :failed",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=expression_values(failed="failed", pending=domain.PENDING),
        )

    def store_token(self, invite_id: str, task_token: str) -> dict[str, Any] | None:
        """Keeps the flow's task token on a pending invite; None when it is not pending."""
        try:
            out = self.client.update_item(
                TableName=self.table,
                Key=to_item({"inviteId": invite_id}),
                UpdateExpression="SET taskToken = :token",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expression_values(token=task_token, pending=domain.PENDING),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return None
            raise
        return from_item(out["Attributes"])

    def decide(self, invite_id: str, invitee: str, accept: bool, session_id: str | None, now_ms: int) -> bool:
        """The invitee's answer, if it comes first and in time. The flow's expiry write is the
        other contender: whichever conditional write lands first is the outcome."""
        update = "SET #status = :decision, decidedAt = :now"
        values = {
            "decision": domain.ACCEPTED if accept else domain.REJECTED,
            "now": iso_ms(now_ms),
            "pending": domain.PENDING,
            "invitee": invitee,
            "nowMs": now_ms,
        }
        if accept:
            update += ", sessionId = :session"
            values["session"] = session_id
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"inviteId": invite_id}),
                UpdateExpression=update,
                ConditionExpression=(
                    "#status = :pending AND toUserId = :invitee AND expiresAtMs > :nowMs"
                    " AND attribute_exists(taskToken)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expression_values(**values),
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True


class SessionsRepository:
    """sessions: sessionId; SessionsByUserA / SessionsByUserB (player, status) list a user's."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client, self.table = client, table_name

    def get(self, session_id: str) -> dict[str, Any] | None:
        out = self.client.get_item(
            TableName=self.table, Key=to_item({"sessionId": session_id}), ConsistentRead=True
        )
        return from_item(out.get("Item"))

    def open(self, session: dict[str, Any]) -> dict[str, Any]:
        """Creates the session, or returns the one a previous attempt created (same times)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(session),
                ConditionExpression="attribute_not_exists(sessionId)",
            )
        except ClientError as error:
            if not is_conditional_check_failure(error):
                raise
            existing = self.get(session["sessionId"])
            assert existing is not None
            return existing
        return session

    def activate(self, session_id: str, task_token: str) -> dict[str, Any] | None:
        """Keeps the flow's task token and marks the session active; None once it has ended."""
        try:
            out = self.client.update_item(
                TableName=self.table,
                Key=to_item({"sessionId": session_id}),
                UpdateExpression="SET #status = :active, taskToken = :token",
                ConditionExpression="#status IN (:pending, :active)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expression_values(
                    active=domain.SESSION_ACTIVE, pending=domain.SESSION_PENDING, token=task_token
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return None
            raise
        return from_item(out["Attributes"])

    def stop(self, session_id: str, player: str, now_ms: int) -> bool:
        """A player's stop, if it comes before the end. The flow's end-on-time write is the
        other contender: whichever conditional write lands first is the outcome."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"sessionId": session_id}),
                UpdateExpression=(
                    "SET #status = :stopped, endReason = :stop, stoppedBy = :player, endedAt = :now"
                ),
                ConditionExpression=(
                    "#status = :active AND endsAtMs > :nowMs AND (userA = :player OR userB = :player)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=expression_values(
                    stopped=domain.SESSION_STOPPED,
                    stop=domain.END_BY_STOP,
                    player=player,
                    now=iso_ms(now_ms),
                    active=domain.SESSION_ACTIVE,
                    nowMs=now_ms,
                ),
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                return False
            raise
        return True

    def active_of(self, user_id: str, now_ms: int) -> list[dict[str, Any]]:
        sessions: list[dict[str, Any]] = []
        for index, attribute in ((SESSIONS_BY_USER_A, "userA"), (SESSIONS_BY_USER_B, "userB")):
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": index,
                "KeyConditionExpression": f"{attribute} = :user AND #status = :active",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": expression_values(user=user_id, active=domain.SESSION_ACTIVE),
            }
            while True:
                page = self.client.query(**request)
                sessions += from_items(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # The index lags the table a little and TTL deletes late: re-check each on its own data.
        running = [s for s in sessions if domain.is_running(s, now_ms)]
        return sorted(running, key=lambda s: (s["startAtMs"], s["sessionId"]))
