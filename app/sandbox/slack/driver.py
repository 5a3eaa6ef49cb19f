"""Changes to a simulated workspace made the way a user would: the contract suite's source driver."""

from __future__ import annotations

from app.models import AnyBody, Message
from app.sandbox.slack.simulator import SlackSimulator
from app.sandbox.slack.timestamps import ts_str

__all__ = ["SlackSourceDriver"]


class SlackSourceDriver:
    def __init__(self, sim: SlackSimulator, channel: str = "team-checkout") -> None:
        self.sim = sim
        self.channel = sim.channel_id(channel)

    def partition(self) -> str:
        return self.channel

    def _newest(self, partition: str, *, without_replies: bool = False) -> str:
        ws = self.sim.workspace
        for ts in reversed(ws.top[partition]):
            message = ws.messages[partition][ts]
            if message.get("subtype") is None and not (without_replies and message.get("reply_count")):
                return ts_str(ts)
        raise LookupError(f"channel {partition} has no message to change")

    def touch(self, partition: str) -> str:
        ts = self._newest(partition)
        self.sim.edit_message(partition, ts, "Edited: scope of CHK-1 changed")
        return f"{partition}:{ts}"

    def add(self, partition: str) -> str:
        message = self.sim.post_message(partition, "New question about CHK-2", user="dev2")
        return f"{partition}:{message['ts']}"

    def reply(self, partition: str, thread_ts: str, text: str = "Answer in the thread") -> str:
        message = self.sim.post_message(partition, text, user="qa", thread_ts=thread_ts)
        return f"{partition}:{message['ts']}"

    def remove(self, partition: str) -> str:
        ts = self._newest(partition, without_replies=True)
        self.sim.delete_message(partition, ts)
        return f"{partition}:{ts}"

    def revoke_token(self) -> None:
        self.sim.revoke_token()

    def new_body(self, partition: str) -> AnyBody:
        return Message(channel=partition, text="Posted by the hub about CHK-3", ts="0")

    def edited(self, body: AnyBody) -> AnyBody:
        assert isinstance(body, Message)
        return body.model_copy(update={"text": body.text + " (edited)"})
