"""`anchor_rows`, with which every store writes the anchors, hashes what the verifier checks:
the running `next_hash` (`audit.verify`'s formula) over the same rows at the same
positions, which on PostgreSQL may skip the ids of rolled-back transactions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.anchors import Row, anchor_rows, next_hash
from journey.chain import GENESIS

rows = st.lists(
    st.tuples(st.text(max_size=12), st.integers(0, 10**12), st.text(max_size=20), st.binary()),
    max_size=20,
)


def _verified(previous: str | None, positions: list[int], given_rows: list[Row]) -> list[str]:
    running, hashes = previous or GENESIS, []
    for position, row in zip(positions, given_rows, strict=True):
        running = next_hash(running, position, row)
        hashes.append(running)
    return hashes


@settings(max_examples=300, deadline=None)
@given(
    st.none() | st.just(GENESIS) | st.text("0123456789abcdef", min_size=64, max_size=64),
    st.integers(1, 10**12),
    rows,
    st.data(),
)
def test_anchor_rows_are_what_the_verifier_recomputes(
    previous: str | None, first: int, given_rows: list[Row], data: st.DataObject
) -> None:
    gaps = data.draw(
        st.lists(st.integers(1, 3), min_size=len(given_rows), max_size=len(given_rows))
    )
    positions = [first + sum(gaps[:i]) for i in range(len(given_rows))]
    written = anchor_rows(previous, positions, given_rows)
    assert [(p, pid, v) for p, pid, v, _ in written] == [
        (p, r[0], r[1]) for p, r in zip(positions, given_rows, strict=True)
    ]
    assert [h for *_, h in written] == _verified(previous, positions, given_rows)
