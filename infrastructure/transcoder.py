"""eventsourcing's JSON transcoder on orjson (same stored format, several times faster):
registered types such as datetimes are still {"_type_": name, "_data_": value} objects.

orjson writes a few types itself (UUID, enums) where the library's transcoder asks the
registered transcodings; those are wrapped before encoding, so what comes back is what went
in. eventsourcing's own `TranscoderTestCase` runs against this class (tests/library)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Transcoding

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_NATIVE = (UUID, Enum)  # orjson would write these itself, bypassing the transcodings


class OrjsonTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._walk: frozenset[type] = frozenset({dict, list})
        self._decoders: dict[str, Callable[[Any], Any]] = {}  # by registered name
        self._text_decoders: dict[str, Callable[[str], Any]] = {}  # the same, of a str

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._wrap(obj), default=self._encode_obj, option=_OPTIONS)
        except orjson.JSONEncodeError as error:
            if isinstance(error.__cause__, TypeError):  # the library's own message
                raise error.__cause__ from None
            raise

    def decode(self, data: bytes) -> Any:
        value = orjson.loads(data)
        kind = type(value)  # orjson gives exact dicts and lists
        if kind is dict:
            return self._restore_dict(value)
        if kind is list:
            return self._restore_list(value)
        return value

    def decode_flat(self, data: bytes, instants: tuple[str, ...]) -> dict[str, Any] | None:
        """What `decode` gives for `data` when it is one JSON object whose only objects
        inside are its `instants`, each a registered type stored as text (such as a
        `datetime_iso`), and that holds no array; None for any other shape, or when a value
        does not decode (`decode` then gives the result, or its error). Each JSON object has
        a `{` byte of its own: with one per instant and the outer one, no other value can
        need restoring, so the rest is left as orjson gives it, as `decode` leaves it."""
        if data.count(b"{") != len(instants) + 1 or b"[" in data:
            return None
        text_decoders = self._text_decoders
        try:
            value = orjson.loads(data)
            if type(value) is not dict or "_data_" in value:
                return None
            for name in instants:
                item = value[name]
                if type(item) is not dict or len(item) != 2:
                    return None
                text = item["_data_"]
                if type(text) is not str:
                    return None
                value[name] = text_decoders[item["_type_"]](text)
        except (KeyError, ValueError):  # orjson's JSONDecodeError is a ValueError
            return None
        return value

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = transcoding.decode
        # eventsourcing's DatetimeAsISO.decode of a str is datetime.fromisoformat (and a
        # call less)
        plain = type(transcoding) is DatetimeAsISO
        self._text_decoders[transcoding.name] = (
            datetime.fromisoformat if plain else transcoding.decode
        )
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

    def _restore_dict(self, value: dict[str, Any]) -> Any:
        """Decodes registered types wherever they are nested (as json's object_hook did),
        in place; the object of a registered type for a {"_type_", "_data_"} object."""
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            data = value["_data_"]
            if type(data) is dict:
                value["_data_"] = self._restore_dict(data)
            elif type(data) is list:
                value["_data_"] = self._restore_list(data)
            decode = self._decoders.get(value["_type_"])
            return self._decode_obj(value) if decode is None else decode(value["_data_"])
        text_decoders = self._text_decoders
        for key, item in value.items():
            kind = type(item)
            if kind is dict:
                if len(item) == 2 and type(item.get("_data_")) is str:  # a datetime's shape
                    decode = text_decoders.get(item.get("_type_"))
                    if decode is not None:
                        value[key] = decode(item["_data_"])
                        continue
                value[key] = self._restore_dict(item)
            elif kind is list:
                value[key] = self._restore_list(item)
        return value

    def _restore_list(self, value: list[Any]) -> list[Any]:
        restored = list(value)
        for index, item in enumerate(value):
            kind = type(item)
            if kind is dict:
                restored[index] = self._restore_dict(item)
            elif kind is list:
                restored[index] = self._restore_list(item)
        return restored
