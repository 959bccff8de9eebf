"""eventsourcing's JSON transcoder on orjson (same stored format, several times faster):
registered types such as datetimes are still {"_type_": name, "_data_": value} objects.

orjson writes a few types itself (UUID, enums) where the library's transcoder asks the
registered transcodings; those are wrapped before encoding, so what comes back is what went
in. eventsourcing's own `TranscoderTestCase` runs against this class (tests/library)."""

from __future__ import annotations

from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_NATIVE = (UUID, Enum)  # orjson would write these itself, bypassing the transcodings


class OrjsonTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._walk: frozenset[type] = frozenset({dict, list})

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._wrap(obj), default=self._encode_obj, option=_OPTIONS)
        except orjson.JSONEncodeError as error:
            if isinstance(error.__cause__, TypeError):  # the library's own message
                raise error.__cause__ from None
            raise

    def decode(self, data: bytes) -> Any:
        return self._restore(orjson.loads(data))

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        if issubclass(transcoding.type, _NATIVE):
            self._walk = self._walk | {transcoding.type}

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        encoded = super()._encode_obj(o)
        if type(encoded["_data_"]) in self._walk:
            encoded["_data_"] = self._wrap(encoded["_data_"])
        return encoded

    def _wrap(self, value: Any) -> Any:
        """`value` with the registered types orjson would write natively (UUID, enums)
        encoded by their transcodings, at any depth; containers are copied only then."""
        kind, walk = type(value), self._walk
        if kind is dict:
            for item in value.values():
                if type(item) in walk:
                    return {k: self._wrap(v) for k, v in value.items()}
            return value
        if kind is list:
            for item in value:
                if type(item) in walk:
                    return [self._wrap(v) for v in value]
            return value
        if kind in walk:
            return self._encode_obj(value)
        return value

    def _restore(self, value: Any) -> Any:
        """Decodes registered types wherever they are nested (as json's object_hook did).
        orjson gives plain dicts and lists only, so a type test is exact; an event's state
        is a flat dict whose registered values (instants) hold text: those are decoded
        here without a call per level."""
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                value["_data_"] = self._restore(value["_data_"])
                return self._decode_obj(value)
            for key, item in value.items():
                if type(item) is dict:
                    data = item.get("_data_") if len(item) == 2 else None
                    if type(data) is str and "_type_" in item:
                        value[key] = self._decode_obj(item)
                    else:
                        value[key] = self._restore(item)
                elif type(item) is list:
                    value[key] = self._restore(item)
            return value
        if kind is list:
            return [
                self._restore(item) if type(item) is dict or type(item) is list else item
                for item in value
            ]
        return value
