"""The simulated Web API through slack_sdk: reference-shaped answers, paging, threads, edits, errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from slack_reference import assert_matches_reference, reference_errors
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator
from app.sandbox.world import TeamWorld


def _busiest_channel(sim: SlackSimulator) -> str:
    ws = sim.workspace
    return max(ws.top, key=lambda cid: len(ws.top[cid]))


def _a_thread(sim: SlackSimulator) -> tuple[str, str]:
    ws = sim.workspace
    for cid, threads in ws.threads.items():
        for parent, replies in threads.items():
            if len(replies) >= 2:
                return cid, ws.messages[cid][parent]["ts"]
    raise AssertionError("the seeded world has no thread with two replies")


def test_every_read_method_answers_in_the_shape_of_its_reference(sim: SlackSimulator, web: WebClient) -> None:
    cid, thread_ts = _a_thread(sim)
    user = sim.world.members[1].slack_user_id
    calls: dict[str, Any] = {
        "auth.test": web.auth_test(),
        "conversations.list": web.conversations_list(limit=3),
        "conversations.info": web.conversations_info(channel=cid),
        "conversations.history": web.conversations_history(channel=cid, limit=5),
        "conversations.replies": web.conversations_replies(channel=cid, ts=thread_ts),
        "users.list": web.users_list(limit=3),
        "users.info": web.users_info(user=user),
    }
    for method, response in calls.items():
        assert response["ok"] is True
        assert_matches_reference(method, response.data)  # type: ignore[arg-type]


def test_every_write_method_answers_in_the_shape_of_its_reference(
    sim: SlackSimulator, web: WebClient
) -> None:
    cid = sim.channel_id("dev")
    posted = web.chat_postMessage(channel=cid, text="Deploying CHK-3")
    assert_matches_reference("chat.postMessage", posted.data)  # type: ignore[arg-type]
    ts = posted["ts"]
    updated = web.chat_update(channel=cid, ts=ts, text="Deployed CHK-3")
    assert_matches_reference("chat.update", updated.data)  # type: ignore[arg-type]
    reacted = web.reactions_add(channel=cid, timestamp=ts, name="rocket")
    assert reacted.data == {"ok": True}
    got = web.reactions_get(channel=cid, timestamp=ts)
    assert_matches_reference("reactions.get", got.data)  # type: ignore[arg-type]
    bot = sim.workspace.bot_user_id
    assert got["message"]["reactions"] == [{"name": "rocket", "users": [bot], "count": 1}]
    deleted = web.chat_delete(channel=cid, ts=ts)
    assert_matches_reference("chat.delete", deleted.data)  # type: ignore[arg-type]


def test_history_pages_newest_first_through_the_cursor_without_gaps(
    sim: SlackSimulator, web: WebClient
) -> None:
    cid = _busiest_channel(sim)
    seen: list[str] = []
    pages = 0
    for page in web.conversations_history(channel=cid, limit=4):
        pages += 1
        assert len(page["messages"]) <= 4
        seen.extend(m["ts"] for m in page["messages"])
    expected = [sim.workspace.messages[cid][ts]["ts"] for ts in reversed(sim.workspace.top[cid])]
    assert seen == expected
    assert pages == -(-len(expected) // 4)


def test_history_caps_a_page_at_999_messages() -> None:
    big = SlackSimulator(TeamWorld(scale=100), rate_limits=RateLimits(enabled=False))
    app = serve_in_thread(big.app)
    try:
        client = WebClient(token=DEFAULT_BOT_TOKEN, base_url=app.url + "/api/", retry_handlers=[])
        page = client.conversations_history(channel=_busiest_channel(big), limit=5000)
    finally:
        app.stop()
    assert len(page["messages"]) == 999
    assert page["has_more"] is True


def test_oldest_latest_and_inclusive_bound_the_history(sim: SlackSimulator, web: WebClient) -> None:
    cid = _busiest_channel(sim)
    all_ts = [sim.workspace.messages[cid][t]["ts"] for t in sim.workspace.top[cid]]
    low, high = all_ts[2], all_ts[6]
    exclusive = web.conversations_history(channel=cid, oldest=low, latest=high)
    assert [m["ts"] for m in exclusive["messages"]] == list(reversed(all_ts[3:6]))
    inclusive = web.conversations_history(channel=cid, oldest=low, latest=high, inclusive=True)
    assert [m["ts"] for m in inclusive["messages"]] == list(reversed(all_ts[2:7]))
    single = web.conversations_history(channel=cid, latest=low, inclusive=True, limit=1)
    assert [m["ts"] for m in single["messages"]] == [low]


def test_thread_replies_stay_out_of_history_and_the_parent_summarises_them(
    sim: SlackSimulator, web: WebClient
) -> None:
    cid = sim.channel_id("design")
    parent = web.chat_postMessage(channel=cid, text="Which checkout layout, A or B? CHK-2")
    first = sim.post_message(cid, "A", user="dev1", thread_ts=parent["ts"])
    last = sim.post_message(cid, "B, clearer", user="qa", thread_ts=parent["ts"])
    history = web.conversations_history(channel=cid, limit=3)["messages"]
    assert next(m["ts"] for m in history) == parent["ts"]
    assert first["ts"] not in {m["ts"] for m in history}
    top = history[0]
    assert (top["reply_count"], top["latest_reply"], top["thread_ts"]) == (2, last["ts"], parent["ts"])
    assert top["reply_users"] == [first["user"], last["user"]]
    thread = web.conversations_replies(channel=cid, ts=parent["ts"])["messages"]
    assert [m["ts"] for m in thread] == [parent["ts"], first["ts"], last["ts"]]
    assert all(m["thread_ts"] == parent["ts"] for m in thread)


def test_a_broadcast_reply_shows_in_history_and_in_its_thread(sim: SlackSimulator, web: WebClient) -> None:
    cid = sim.channel_id("releases")
    parent = web.chat_postMessage(channel=cid, text="Release 1.4 train")
    reply = web.chat_postMessage(channel=cid, text="Shipped!", thread_ts=parent["ts"], reply_broadcast=True)
    history = web.conversations_history(channel=cid, limit=2)["messages"]
    assert history[0]["ts"] == reply["ts"]
    assert history[0]["subtype"] == "thread_broadcast"
    thread = web.conversations_replies(channel=cid, ts=parent["ts"])["messages"]
    assert [m["ts"] for m in thread] == [parent["ts"], reply["ts"]]


def test_replies_page_through_a_long_thread(sim: SlackSimulator, web: WebClient) -> None:
    cid = sim.channel_id("dev")
    parent = web.chat_postMessage(channel=cid, text="Flaky test log")
    replies = [sim.post_message(cid, f"run {i}", thread_ts=parent["ts"])["ts"] for i in range(7)]
    seen = [m["ts"] for page in web.conversations_replies(channel=cid, ts=parent["ts"], limit=3)
            for m in page["messages"]]
    assert seen == [parent["ts"], *replies]


def test_an_edit_sets_edited_and_a_delete_removes_the_message(sim: SlackSimulator, web: WebClient) -> None:
    cid = sim.channel_id("dev")
    posted = web.chat_postMessage(channel=cid, text="typo")
    web.chat_update(channel=cid, ts=posted["ts"], text="fixed")
    newest = web.conversations_history(channel=cid, limit=1)["messages"][0]
    assert (newest["text"], newest["edited"]["user"]) == ("fixed", sim.workspace.bot_user_id)
    web.chat_delete(channel=cid, ts=posted["ts"])
    after = web.conversations_history(channel=cid, latest=posted["ts"], inclusive=True, limit=1)["messages"]
    assert posted["ts"] not in {m["ts"] for m in after}


def test_deleting_a_parent_with_replies_leaves_a_tombstone(sim: SlackSimulator, web: WebClient) -> None:
    cid = sim.channel_id("dev")
    parent = sim.post_message(cid, "parent", user="dev2")
    sim.post_message(cid, "reply", user="dev3", thread_ts=parent["ts"])
    sim.delete_message(cid, parent["ts"])
    top = web.conversations_history(channel=cid, limit=1)["messages"][0]
    assert (top["ts"], top["subtype"], top["reply_count"]) == (parent["ts"], "tombstone", 1)


def test_a_bot_cannot_edit_or_delete_someone_elses_message(sim: SlackSimulator, web: WebClient) -> None:
    cid = sim.channel_id("dev")
    theirs = sim.post_message(cid, "mine", user="dev1")
    for call in (lambda: web.chat_update(channel=cid, ts=theirs["ts"], text="x"),
                 lambda: web.chat_delete(channel=cid, ts=theirs["ts"])):
        with pytest.raises(SlackApiError) as caught:
            call()
        assert caught.value.response["error"] in {"cant_update_message", "cant_delete_message"}


def test_metadata_posted_with_a_message_is_read_back(sim: SlackSimulator, web: WebClient) -> None:
    cid = sim.channel_id("dev")
    metadata = {"event_type": "passerelle_origin", "event_payload": {"origin": "hub-1"}}
    posted = web.chat_postMessage(channel=cid, text="from the hub", metadata=metadata)
    read = web.conversations_history(channel=cid, limit=1, include_all_metadata=True)["messages"][0]
    assert read["ts"] == posted["ts"]
    assert read["metadata"] == metadata


@pytest.mark.parametrize(
    ("headers", "error"),
    [({}, "not_authed"), ({"Authorization": "Bearer xoxb-nope"}, "invalid_auth")],
)
def test_bad_credentials_answer_http_200_with_ok_false(served: ServedApp, headers: dict[str, str],
                                                       error: str) -> None:
    response = httpx.post(served.url + "/api/conversations.list", headers=headers)
    assert (response.status_code, response.json()) == (200, {"ok": False, "error": error})


def test_a_revoked_token_and_an_expired_one_are_refused(sim: SlackSimulator, served: ServedApp,
                                                        web: WebClient) -> None:
    httpx.patch(served.url + "/_sandbox/chaos", json={"token_expired": True})
    with pytest.raises(SlackApiError) as expired:
        web.auth_test()
    assert (expired.value.response.status_code, expired.value.response["error"]) == (200, "token_expired")
    httpx.patch(served.url + "/_sandbox/chaos", json={"token_expired": False})
    sim.revoke_token()
    with pytest.raises(SlackApiError) as revoked:
        web.auth_test()
    assert revoked.value.response["error"] == "token_revoked"


def test_a_missing_scope_names_the_needed_scope(sim: SlackSimulator, served: ServedApp) -> None:
    sim.grant_token("xoxb-reader", {"channels:read"})
    client = WebClient(token="xoxb-reader", base_url=served.url + "/api/", retry_handlers=[])
    with pytest.raises(SlackApiError) as caught:
        client.conversations_history(channel=sim.channel_id("dev"))
    response = caught.value.response
    assert (response["error"], response["needed"]) == ("missing_scope", "channels:history")
    assert response.headers["x-oauth-scopes"] == "channels:read"


def test_users_list_gives_the_cast_with_emails_only_with_the_email_scope(
    sim: SlackSimulator, served: ServedApp, web: WebClient
) -> None:
    members = web.users_list()["members"]
    emails = {m["profile"].get("email") for m in members if not m["is_bot"]}
    assert emails == {m.email for m in sim.world.members}
    sim.grant_token("xoxb-no-email", {"users:read"})
    client = WebClient(token="xoxb-no-email", base_url=served.url + "/api/", retry_handlers=[])
    assert all("email" not in m["profile"] for m in client.users_list()["members"])


def test_unknown_channel_and_message_errors_are_in_the_reference(sim: SlackSimulator, web: WebClient) -> None:
    with pytest.raises(SlackApiError) as history:
        web.conversations_history(channel="C0NOPE00000")
    assert history.value.response["error"] == "channel_not_found"
    assert "channel_not_found" in reference_errors("conversations.history")
    with pytest.raises(SlackApiError) as update:
        web.chat_update(channel=sim.channel_id("dev"), ts="1000000000.000001", text="x")
    assert update.value.response["error"] == "message_not_found"
    assert "message_not_found" in reference_errors("chat.update")
    with pytest.raises(SlackApiError) as cursor:
        web.conversations_history(channel=sim.channel_id("dev"), cursor="garbage")
    assert cursor.value.response["error"] == "invalid_cursor"


def test_an_unknown_method_is_a_404_naming_it(served: ServedApp) -> None:
    response = httpx.post(served.url + "/api/files.upload",
                          headers={"Authorization": f"Bearer {DEFAULT_BOT_TOKEN}"})
    assert response.status_code == 404
    assert "files.upload" in json.dumps(response.json())


def test_arguments_arrive_as_query_form_or_json(sim: SlackSimulator, served: ServedApp) -> None:
    cid = sim.channel_id("dev")
    auth = {"Authorization": f"Bearer {DEFAULT_BOT_TOKEN}"}
    by_query = httpx.get(served.url + "/api/conversations.history", params={"channel": cid, "limit": 2},
                         headers=auth).json()
    by_form = httpx.post(served.url + "/api/conversations.history", data={"channel": cid, "limit": "2"},
                         headers=auth).json()
    by_json = httpx.post(served.url + "/api/conversations.history", json={"channel": cid, "limit": 2},
                         headers=auth).json()
    by_token_arg = httpx.post(served.url + "/api/conversations.history",
                              data={"channel": cid, "limit": "2", "token": DEFAULT_BOT_TOKEN}).json()
    assert by_query == by_form == by_json == by_token_arg
    assert len(by_query["messages"]) == 2


def test_a_lost_answer_takes_effect_but_answers_502(sim: SlackSimulator, web: WebClient) -> None:
    cid = sim.channel_id("dev")
    sim.chaos.update({"lost_answers": 1})
    with pytest.raises(SlackApiError) as lost:
        web.chat_postMessage(channel=cid, text="posted, answer lost")
    assert lost.value.response.status_code == 502
    assert [m["text"] for m in sim.workspace.messages[cid].values()].count("posted, answer lost") == 1
    assert sim.chaos.lost_answers == 0
    assert web.chat_postMessage(channel=cid, text="answered")["ok"] is True
