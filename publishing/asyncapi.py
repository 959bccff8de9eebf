"""The AsyncAPI 3.0.0 document of the three topics (written by `python -m publishing.contracts`)."""

from __future__ import annotations

from typing import Any

from publishing.anchor_head import HEAD_TYPE, HEAD_VERSION
from publishing.cloudevents import CONTENT_TYPE, SEQUENCE_WIDTH, SOURCE, ce_type
from publishing.contracts_draft07 import DIRECTORY, FORMAT_DRAFT_07
from publishing.state_summary import SUMMARY_TYPE
from publishing.topics import (
    ANCHORS_PARTITIONS,
    ANCHORS_TOPIC,
    EVENTS_PARTITIONS,
    EVENTS_TOPIC,
    STATE_PARTITIONS,
    STATE_TOPIC,
    anchors_config,
    topic_configs,
)

SCHEMA_FORMAT = FORMAT_DRAFT_07  # the payload format every AsyncAPI 3.0 tool must read
KAFKA_BINDING = "0.5.0"
STRING = {"type": "string"}

# No address of ours is published: each deployment names its own brokers.
SERVERS = {
    "deployment": {
        "host": "{bootstrap}",
        "protocol": "kafka",
        "description": "The Kafka cluster of the deployment that runs the relay: the value of "
        "its JOURNEY_KAFKA_BOOTSTRAP_SERVERS. Topics carry PHI (42 CFR Part 2): the operator "
        "secures the listener (TLS, SASL) and the ACLs of each consumer.",
        "variables": {
            "bootstrap": {
                "description": "one bootstrap broker as host:port",
                "examples": ["kafka:9092", "broker-1.kafka.example.org:9093"],
            }
        },
    }
}


def _headers(title: str) -> dict[str, Any]:
    """CloudEvents 1.0 Kafka binary-mode headers (UTF-8 strings)."""
    properties = {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {**STRING, "description": "event id (UUID); dedupe on it"},
        "ce_source": {"const": SOURCE},
        "ce_type": {**STRING, "pattern": "^org\\.carejourney\\.[A-Za-z]+\\.v[0-9]+$"},
        "ce_time": {**STRING, "format": "date-time", "description": "clinical time"},
        "ce_subject": {**STRING, "description": "patient_id (also the record key)"},
        "ce_dataschema": {**STRING, "format": "uri"},
        "ce_sequence": {
            **STRING,
            "pattern": f"^[0-9]{{{SEQUENCE_WIDTH}}}$",
            "description": f"CloudEvents sequence extension: the patient's version, zero-padded "
            f"to {SEQUENCE_WIDTH} digits (string order = numeric order, per patient)",
        },
        "ce_partitionkey": {
            **STRING,
            "description": "CloudEvents partitioning extension: patient_id (the record key)",
        },
        "ce_recordedat": {**STRING, "format": "date-time", "description": "transaction time"},
        "content-type": {"const": CONTENT_TYPE},
    }
    required = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"]
    return {"type": "object", "title": title, "properties": properties, "required": required}


def _message(name: str, version: int, summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": ce_type(name, version),
        "summary": summary,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
        "payload": {
            "schemaFormat": SCHEMA_FORMAT,
            "schema": {"$ref": f"./{DIRECTORY}/{name}.v{version}.json"},
        },
        "bindings": {
            "kafka": {
                "key": {**STRING, "description": "patient_id"},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _anchor_message() -> dict[str, Any]:
    """The anchor head: plain JSON (no CloudEvents headers), keyed by the store's name."""
    return {
        "name": HEAD_TYPE,
        "title": f"{HEAD_TYPE} v{HEAD_VERSION}",
        "summary": "the anchor head of the log after a relay batch (tamper evidence)",
        "contentType": CONTENT_TYPE,
        "payload": {
            "schemaFormat": SCHEMA_FORMAT,
            "schema": {"$ref": f"./{DIRECTORY}/{HEAD_TYPE}.v{HEAD_VERSION}.json"},
        },
        "bindings": {
            "kafka": {
                "key": {**STRING, "description": "the store's name (the application name)"},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _channel(
    address: str, messages: list[str], partitions: int, config: dict[str, str]
) -> dict[str, Any]:
    topic: dict[str, Any] = {"cleanup.policy": [config["cleanup.policy"]]}
    for name in ("retention.ms", "min.compaction.lag.ms"):
        if name in config:
            topic[name] = int(config[name])
    return {
        "address": address,
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
        "bindings": {
            "kafka": {
                "topic": address,
                "partitions": partitions,
                "topicConfiguration": topic,
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _operation(channel: str, messages: list[str], summary: str) -> dict[str, Any]:
    return {
        "action": "receive",
        "summary": summary,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages],
    }


def asyncapi_document(event_versions: dict[str, int], summary_version: int) -> dict[str, Any]:
    events, state = topic_configs()
    names = list(event_versions)
    messages = {n: _message(n, v, f"a {n} event") for n, v in event_versions.items()}
    messages[SUMMARY_TYPE] = _message(
        SUMMARY_TYPE, summary_version, "the patient's journey after their latest event"
    )
    messages[HEAD_TYPE] = _anchor_message()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Care-journey topics",
            "version": "1.0.0",
            "description": "Events of addiction-treatment care journeys (at least once; "
            "dedupe on ce_id; per-patient order by key), the latest journey summary, and "
            "the anchor head of the log (compare it with the store: journey verify --all).",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": SERVERS,
        "channels": {
            "events": _channel(EVENTS_TOPIC, names, EVENTS_PARTITIONS, events),
            "state": _channel(STATE_TOPIC, [SUMMARY_TYPE], STATE_PARTITIONS, state),
            "anchors": _channel(ANCHORS_TOPIC, [HEAD_TYPE], ANCHORS_PARTITIONS, anchors_config()),
        },
        "operations": {
            "receiveEvents": _operation("events", names, "React to care-journey events."),
            "receiveState": _operation("state", [SUMMARY_TYPE], "Follow journey summaries."),
            "receiveAnchors": _operation(
                "anchors", [HEAD_TYPE], "Read the latest anchor head to audit the store."
            ),
        },
        "components": {
            "messages": messages,
            "schemas": {"CloudEventsHeaders": _headers("CloudEvents 1.0 binary-mode headers")},
        },
    }
