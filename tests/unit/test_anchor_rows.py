"""`anchor_rows` (the anchors table's rows, as the SQLite recorder writes them) is
`anchors_for` of the same rows: the same running hashes, positions, patients, versions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.anchors import anchor_rows, anchors_for
from journey.chain import GENESIS

rows = st.lists(
    st.tuples(st.text(max_size=12), st.integers(0, 10**12), st.text(max_size=20), st.binary()),
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.none() | st.just(GENESIS) | st.text("0123456789abcdef", min_size=64, max_size=64),
    st.integers(1, 10**12),
    rows,
)
def test_anchor_rows_are_anchors_for(
    previous: str | None, first: int, given_rows: list[tuple[str, int, str, bytes]]
) -> None:
    expected = anchors_for(previous, range(first, first + len(given_rows)), given_rows)
    assert anchor_rows(previous, first, given_rows) == [
        (a.position, a.patient_id, a.version, a.running_hash) for a in expected
    ]
