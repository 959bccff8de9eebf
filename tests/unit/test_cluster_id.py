"""A KRaft cluster id never starts with "-": `StorageTool format -t -...` reads it as an
option and refuses to format (seen: a Kafka test's private broker failed to start with the
id `-gm3IVxaTOemR-iJEujwhw`; 1 random id in 64 starts so)."""

from __future__ import annotations

import uuid

import pytest

from devtools import local_kafka


def test_an_id_that_would_start_with_a_dash_is_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" * 16)])
    monkeypatch.setattr(local_kafka.uuid, "uuid4", lambda: next(drawn))
    assert local_kafka.cluster_id() == "AQEBAQEBAQEBAQEBAQEBAQ"


def test_ids_are_22_url_safe_characters_and_never_start_with_a_dash() -> None:
    ids = [local_kafka.cluster_id() for _ in range(2000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)
