"""Merging a page's sightings of one account: skipping the identical ones changes nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.models import Account
from app.storage.sightings import _merged

_accounts = st.builds(
    Account,
    system=st.just("atlassian"),
    account_id=st.sampled_from(["a1", "a2"]),
    email=st.one_of(st.none(), st.just(""), st.sampled_from(["x@orbit.example", "y@orbit.example"])),
    email_verified=st.booleans(),
    display_name=st.one_of(st.none(), st.just(""), st.sampled_from(["Ada", "Bo"])),
)


def _merged_always(batch: list[Account]) -> dict[tuple[str, str], Account]:
    """The merge as written before the shortcut: a new account for every repeat."""
    out: dict[tuple[str, str], Account] = {}
    for acct in batch:
        key = (acct.system, acct.account_id)
        prev = out.get(key)
        if prev is not None:
            acct = Account(
                system=acct.system,
                account_id=acct.account_id,
                email=acct.email or prev.email,
                email_verified=acct.email_verified if acct.email else prev.email_verified,
                display_name=acct.display_name or prev.display_name,
            )
        out[key] = acct
    return out


@given(st.lists(_accounts, max_size=12))
def test_merging_equals_merging_every_repeat(batch: list[Account]) -> None:
    assert _merged(batch) == _merged_always(batch)


def test_a_later_sighting_without_an_email_keeps_the_earlier_one() -> None:
    named = Account(system="atlassian", account_id="a1", email="x@orbit.example", email_verified=True)
    bare = Account(system="atlassian", account_id="a1", display_name="Ada")
    assert _merged([named, bare])[("atlassian", "a1")] == Account(
        system="atlassian", account_id="a1", email="x@orbit.example", email_verified=True, display_name="Ada"
    )
