"""The content hash is stored with every record and compared on every sync: its canonical text
must stay exactly what it was first made with (``json.dumps`` sorted, compact, unescaped), whatever
serialiser makes it now."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from app.models import Message, WorkItem, content_hash
from app.models.envelope import _float_fields


def reference_hash(body: BaseModel) -> str:
    """The hash as the hub first stored it."""
    volatile: frozenset[str] = getattr(body, "volatile_fields", frozenset())
    data = body.model_dump(mode="json", exclude=set(volatile))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
POINTS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e16, 1e15, 9.999e15, 1e-4, 9.99e-5, 1e-7, 1e22, 2.5, 13.0, 1 / 3]),
)


@given(title=TEXT, description=TEXT, labels=st.lists(TEXT, max_size=4), points=POINTS,
       due=st.one_of(st.none(), st.dates()))
def test_work_item_hash_is_the_reference_hash(
    title: str, description: str, labels: list[str], points: float | None, due: date | None
) -> None:
    body = WorkItem(key="CHK-1", title=title, description=description, labels=tuple(labels),
                    story_points=points, due_date=due)
    assert content_hash(body) == reference_hash(body)


@given(text=TEXT, permalink=TEXT)
def test_volatile_fields_stay_out_of_the_hash(text: str, permalink: str) -> None:
    body = Message(channel="C1", ts="1.0", text=text, permalink=permalink)
    assert content_hash(body) == reference_hash(body)
    assert content_hash(body) == content_hash(body.model_copy(update={"permalink": permalink + "x"}))


def test_control_characters_and_non_ascii_hash_as_before() -> None:
    body = WorkItem(key="CHK-2", title='a\x00\x1f\x7f\u2028é☃"\\', description="line\nnext\ttab")
    assert content_hash(body) == reference_hash(body)


def test_an_integer_beyond_64_bits_hashes_as_before() -> None:
    # orjson refuses it; the standard library writes it.
    body = Message(channel="C1", ts="1.0", reply_count=2**70)
    assert content_hash(body) == reference_hash(body)


def test_float_fields_are_found_and_nested_floats_opt_out() -> None:
    assert _float_fields(WorkItem) == frozenset({"story_points"})

    class Inner(BaseModel):
        weight: float

    class Outer(BaseModel):
        inner: Inner

    class Loose(BaseModel):
        extra: dict[str, Any]

    assert _float_fields(Outer) is None
    assert _float_fields(Loose) is None


def test_non_finite_points_take_the_standard_text() -> None:
    body = WorkItem(key="CHK-1", title="t", story_points=math.inf)
    assert content_hash(body) == reference_hash(body)
