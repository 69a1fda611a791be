"""The feed's page is written by orjson (issue #16) byte for byte as pydantic writes the ``EventPage``
(what the endpoint's response model wrote before): any payload, any time, any optional member."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from shared.events import Event, EventPage, render_page

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)  # beyond 64 bits too: pydantic writes those
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
rows = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(min_value=1, max_value=2**62),
            "cursor": st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1),
            "type": st.sampled_from(["worker.hired", "post.assigned", "quota.set"]),
            "occurred_at": st.datetimes(  # hypothesis takes naive bounds and adds the zone
                min_value=datetime(1970, 1, 1),  # noqa: DTZ001
                max_value=datetime(2200, 1, 1),  # noqa: DTZ001
                timezones=st.just(UTC),
            ),
            "request_id": st.none() | st.text(max_size=20),
            "subject": st.text(max_size=20),
            "region": st.none() | st.from_regex(r"\A33[0-9]{10}\Z"),
            "data": st.dictionaries(st.text(max_size=10), json_values, max_size=6),
        }
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(rows=rows, after=st.none() | st.text(max_size=10))
def test_the_orjson_page_is_byte_for_byte_the_pydantic_page(rows: list[dict[str, Any]], after: str | None) -> None:
    rows = [{name: row[name] for name in Event.model_fields} for row in rows]  # as feed_rows orders them
    page = EventPage(
        items=[Event.model_construct(**row) for row in rows], next_cursor=rows[-1]["cursor"] if rows else after
    )
    assert render_page(rows, after) == TypeAdapter(EventPage).dump_json(page)
    assert render_page(rows, after) == page.model_dump_json().encode()
