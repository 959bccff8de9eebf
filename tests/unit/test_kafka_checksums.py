"""Record batches are checksummed in C: the declared `kafka-python[crc32c]` is what runs,
and a publisher started without it says so."""

from __future__ import annotations

import logging

import pytest
from kafka.errors import KafkaError

from publishing.publisher import Publisher, checksums_in_c


def test_the_installed_stack_checksums_in_c() -> None:
    assert checksums_in_c(), "crc32c missing: pip install -e . (kafka-python[crc32c])"


def test_a_publisher_without_it_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("kafka.record.util.crc32c_c", None)
    assert not checksums_in_c()
    # No broker listens on port 9 (discard): the warning comes before any connection.
    with (
        caplog.at_level(logging.WARNING, logger="publishing.publisher"),
        pytest.raises(KafkaError),
    ):
        Publisher("127.0.0.1:9", delivery_timeout_s=1.0)
    assert "install kafka-python[crc32c]" in caplog.text
