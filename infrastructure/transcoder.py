"""eventsourcing's JSON transcoder on orjson (same stored format, several times faster):
registered types such as datetimes are still {"_type_": name, "_data_": value} objects."""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        return self._restore(orjson.loads(data))

    def _restore(self, value: Any) -> Any:
        """Decodes registered types wherever they are nested (as json's object_hook did)."""
        if isinstance(value, dict):
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decode_obj(value)
            for key, item in value.items():
                if isinstance(item, dict | list):
                    value[key] = self._restore(item)
            return value
        if isinstance(value, list):
            return [
                self._restore(item) if isinstance(item, dict | list) else item for item in value
            ]
        return value
