"""An erasure while a read of the same patient is under way, in the same process: the read
has decrypted the patient's rows and is about to keep them (`app.folds` for the journey,
`app._histories` for the other reads); `forget` has already dropped the caches. Nothing
of the patient may be kept afterwards (`JourneyApplication.keep`), on either cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infrastructure.erasure import erase_patient
from journey.application import JourneyApplication
from projections import stored_journey
from projections.queries import patient_journey
from tests.app.test_fast_history import KEY, with_program


def stored(make_app: Callable[..., JourneyApplication]) -> JourneyApplication:
    app = with_program(make_app(cipher_key=KEY))
    app.forget("p-1")  # nothing cached by the writes: the read below reads every row
    return app


def erasing_first(app: JourneyApplication, decode: Callable[..., Any]) -> Callable[..., Any]:
    """`decode`, with the patient erased once its rows were read and decrypted."""

    def decoded(*args: Any) -> Any:
        found = decode(*args)
        erase_patient(app, "p-1", "request of the patient", actor="dpo")
        return found

    return decoded


def cached(cache: Any, patient_id: str) -> bool:
    try:
        cache.get(patient_id)
    except KeyError:
        return False
    return True


def test_a_journey_read_during_the_erasure_keeps_nothing(
    make_app: Callable[..., JourneyApplication], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = stored(make_app)
    monkeypatch.setattr(stored_journey, "_decode", erasing_first(app, stored_journey._decode))
    patient_journey(app, "p-1")  # answered from what it read before the erasure
    assert not cached(app.folds, "p-1"), "the erased patient's rows were kept"


def test_a_history_read_during_the_erasure_keeps_nothing(
    make_app: Callable[..., JourneyApplication], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = stored(make_app)
    monkeypatch.setattr(app, "_envelopes", erasing_first(app, app._envelopes))
    assert app.history("p-1")
    assert not cached(app._histories, "p-1"), "the erased patient's envelopes were kept"


def test_reads_without_an_erasure_still_keep_what_they_read(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = stored(make_app)
    patient_journey(app, "p-1")
    app.history("p-1")
    assert cached(app.folds, "p-1") and cached(app._histories, "p-1")
