"""Seed a workspace from the shared :class:`TeamWorld`: the cast as users, team channels, and
``world.message_count`` messages over the last four weeks, with threads about Jira issues.

Deterministic for a given seed and anchor date; messages are generated in time order
so that seeding appends to the sorted indexes (200,000 messages take seconds).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from app.sandbox.slack.timestamps import parse_ts
from app.sandbox.slack.workspace import Workspace
from app.sandbox.world import Member, TeamWorld

__all__ = ["CHANNELS", "SEED_DAYS", "seed_workspace"]

SEED_DAYS = 28

# (name, purpose, weight in the message mix)
CHANNELS: list[tuple[str, str, int]] = [
    ("team-checkout", "Checkout Revamp: the team room", 30),
    ("standup", "Async stand-up, every weekday before 9:15", 15),
    ("dev", "Code, reviews, CI", 25),
    ("design", "Flows, mock-ups, UX research", 10),
    ("releases", "Release train and deploy notes", 8),
    ("random", "Non-work banter", 12),
]

_TEMPLATES: dict[str, list[str]] = {
    "team-checkout": [
        "Can someone pick up {issue}? It blocks the payment step.",
        "{issue} is ready for review, see the PR linked in Jira.",
        "Reminder: refinement at noon, we go through {issue} and {issue2}.",
        "Moved {issue} to the next sprint, scope was bigger than we thought.",
        "Who owns {issue}? The acceptance criteria changed.",
    ],
    "standup": [
        "Yesterday: {issue}. Today: {issue2}. Blockers: none.",
        "Yesterday: reviews. Today: {issue}. Blocked by {issue2}.",
        "Today: pairing on {issue} with QA.",
    ],
    "dev": [
        "CI is red on main again, flaky test in {issue}.",
        "PR for {issue} needs a second reviewer.",
        "Merged {issue}, deploying to staging.",
        "Anyone seen this stack trace? Happens since {issue}.",
    ],
    "design": [
        "New mock-ups for {issue} are in Figma.",
        "User test notes for the address form ({issue}).",
        "Should the coupon field be collapsed by default? See {issue}.",
    ],
    "releases": [
        "Release candidate cut: includes {issue} and {issue2}.",
        "Rolled back {issue}, error rate went up.",
        "Deployed to production: {issue}.",
    ],
    "random": [
        "Lunch at the new ramen place?",
        "Coffee machine on 3 is fixed.",
        "Who is joining the running group on Thursday?",
    ],
}
_REPLIES = [
    "On it.", "Thanks!", "Looks good to me.", "I left comments on {issue}.",
    "Can we pair on this after lunch?",
    "Blocked until {issue} is merged.", "Done, moved to review.", "Let's discuss in refinement.",
]
_EMOJI = ["thumbsup", "eyes", "white_check_mark", "tada", "rocket", "pray", "heart"]


def _user(world: TeamWorld, team_id: str, member: Member, index: int) -> dict[str, Any]:
    display = member.name.split()[0]
    return {
        "id": member.slack_user_id, "team_id": team_id, "name": member.email.split("@")[0],
        "deleted": False, "color": "9f69e7", "real_name": member.name, "tz": world.timezone,
        "tz_label": "Central European Time", "tz_offset": 3600,
        "profile": {
            "title": member.role.title(), "phone": "", "skype": "", "real_name": member.name,
            "real_name_normalized": member.name, "display_name": display, "display_name_normalized": display,
            "fields": None, "status_text": "", "status_emoji": "", "status_expiration": 0,
            "avatar_hash": f"g{index:011d}", "email": member.email, "first_name": display,
            "last_name": member.name.split()[-1], "team": team_id,
            "image_24": f"https://avatars.example/{member.key}-24.png",
            "image_72": f"https://avatars.example/{member.key}-72.png",
        },
        "is_admin": member.role == "product owner", "is_owner": member.role == "product owner",
        "is_primary_owner": False, "is_restricted": False, "is_ultra_restricted": False, "is_bot": False,
        "is_app_user": False, "updated": 1_700_000_000 + index, "is_email_confirmed": True,
        "who_can_share_contact_card": "EVERYONE",
    }


def _bot_user(ws: Workspace) -> dict[str, Any]:
    return {
        "id": ws.bot_user_id, "team_id": ws.team_id, "name": "passerelle", "deleted": False,
        "real_name": "Passerelle", "tz": "America/Los_Angeles", "tz_label": "Pacific Standard Time",
        "tz_offset": -28800,
        "profile": {"real_name": "Passerelle", "real_name_normalized": "Passerelle", "display_name": "",
                    "display_name_normalized": "", "bot_id": ws.bot_id, "api_app_id": ws.app_id,
                    "always_active": True, "first_name": "Passerelle", "last_name": "", "team": ws.team_id,
                    "avatar_hash": "bpasserelle", "status_text": "", "status_emoji": ""},
        "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": True, "is_app_user": False, "updated": 1_700_000_000,
    }


def _channel(ws: Workspace, index: int, name: str, purpose: str, creator: str, created: int,
             members: int) -> dict[str, Any]:
    return {
        "id": f"C0{ws.team_id[2:5]}{index:06d}", "name": name, "is_channel": True, "is_group": False,
        "is_im": False, "is_mpim": False, "is_private": False, "created": created, "is_archived": False,
        "is_general": index == 0, "unlinked": 0, "name_normalized": name, "is_shared": False,
        "is_org_shared": False, "is_pending_ext_shared": False, "pending_shared": [],
        "context_team_id": ws.team_id,
        "updated": created * 1000, "parent_conversation": None, "creator": creator, "is_ext_shared": False,
        "shared_team_ids": [ws.team_id], "pending_connected_team_ids": [], "is_member": True,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": purpose, "creator": creator, "last_set": created},
        "previous_names": [], "num_members": members,
    }


def seed_workspace(world: TeamWorld, ws: Workspace) -> None:
    rng = world.rng("slack")
    cast = world.members
    for i, member in enumerate(cast):
        ws.users[member.slack_user_id] = _user(world, ws.team_id, member, i)
    ws.users[ws.bot_user_id] = _bot_user(ws)

    end = datetime.combine(world.anchor, datetime.min.time(), tzinfo=UTC).timestamp()
    start = (datetime.fromtimestamp(end, UTC) - timedelta(days=SEED_DAYS)).timestamp()
    channel_ids: list[str] = []
    for i, (name, purpose, _) in enumerate(CHANNELS):
        created = int(start) - 86_400 * 90
        channel = _channel(ws, i, name, purpose, cast[0].slack_user_id, created, len(cast) + 1)
        ws.add_channel(channel)
        channel_ids.append(channel["id"])

    total = world.message_count
    top_count = max(1, int(total * 0.75))
    weights = [w for _, _, w in CHANNELS]
    tops = sorted(
        (start + rng.random() * (end - start - 3600), rng.choices(range(len(CHANNELS)), weights)[0])
        for _ in range(top_count)
    )
    # Replies: (time, channel index, parent index); every thread replies after its parent.
    replies: list[tuple[float, int, int]] = []
    budget = total - top_count
    while budget > 0:
        parent = rng.randrange(top_count)
        at, channel_index = tops[parent]
        for _ in range(min(budget, rng.randint(1, 6))):
            replies.append((min(end - 1, at + rng.uniform(60, 86_400 * 2)), channel_index, parent))
            budget -= 1
    replies.sort()
    _post_all(world, ws, rng, tops, replies, channel_ids)


def _text(world: TeamWorld, rng: random.Random, templates: list[str]) -> str:
    top = world.issue_count
    first, second = rng.randint(1, top), rng.randint(1, top)
    return rng.choice(templates).format(issue=f"CHK-{first}", issue2=f"CHK-{second}")


def _post_all(world: TeamWorld, ws: Workspace, rng: random.Random, tops: list[tuple[float, int]],
              replies: list[tuple[float, int, int]], channel_ids: list[str]) -> None:
    authors = [{"user": m.slack_user_id} for m in world.members]
    user_ids = [m.slack_user_id for m in world.members]
    parent_ts: dict[int, int] = {}
    reply_index = 0
    for index, (at, channel_index) in enumerate(tops):
        # Interleave replies in time order so that every index is appended to, not inserted into.
        while reply_index < len(replies) and replies[reply_index][0] < at:
            reply_index = _post_reply(world, ws, rng, replies, reply_index, parent_ts, authors, channel_ids)
        cid = channel_ids[channel_index]
        message = ws.post(cid, rng.choice(authors), _text(world, rng, _TEMPLATES[CHANNELS[channel_index][0]]),
                          at=at)
        parent_ts[index] = parse_ts(message["ts"])
        _decorate(rng, message, user_ids, at)
    while reply_index < len(replies):
        reply_index = _post_reply(world, ws, rng, replies, reply_index, parent_ts, authors, channel_ids)


def _post_reply(world: TeamWorld, ws: Workspace, rng: random.Random, replies: list[tuple[float, int, int]],
                index: int, parent_ts: dict[int, int], authors: list[dict[str, str]],
                channel_ids: list[str]) -> int:
    at, channel_index, parent = replies[index]
    thread = parent_ts.get(parent)
    if thread is not None:
        message = ws.post(channel_ids[channel_index], rng.choice(authors), _text(world, rng, _REPLIES),
                          thread_ts=thread, at=at)
        _decorate(rng, message, [a["user"] for a in authors], at)
    return index + 1


def _decorate(rng: random.Random, message: dict[str, Any], user_ids: list[str], at: float) -> None:
    roll = rng.random()
    if roll < 0.12:
        names = rng.sample(_EMOJI, rng.randint(1, 2))
        message["reactions"] = [
            {"name": n, "users": (users := rng.sample(user_ids, rng.randint(1, 3))), "count": len(users)}
            for n in names
        ]
    elif roll < 0.15:
        message["edited"] = {"user": message["user"], "ts": f"{int(at) + 120}.000000"}
