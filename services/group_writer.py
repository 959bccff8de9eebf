"""Group commit of concurrent commands: the requests that arrive while a transaction is being
written are decided in arrival order and stored together in the next one.

Each caller still gets its own answer: the outcome of its command (accepted or duplicate),
or its own domain error (a rejected command stores nothing and does not affect the others:
`JourneyApplication.handle_many(atomic=False)`). The events, chains and anchors stored are
those of the same commands applied one after the other, in that order; only the number of
transactions differs. There is no thread of its own: the first waiting caller writes the
group (leader), the others wait for it, and a caller whose command is not yet written when
it gets its turn writes the next group."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from journey.application import JourneyApplication, Outcome
from journey.commands import Command
from journey.errors import JourneyError

MAX_GROUP = 256  # commands per transaction at most


@dataclass
class _Ticket:
    command: Command
    recorded_by: str | None
    outcome: Outcome | None = None
    error: BaseException | None = None
    done: bool = False


class GroupWriter:
    """Applies commands of concurrent callers in groups, one transaction per group."""

    def __init__(self, application: JourneyApplication, max_group: int = MAX_GROUP) -> None:
        self.application = application
        self.max_group = max_group
        self._queue: list[_Ticket] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()  # the leader writing a group holds it

    def handle(self, command: Command, *, recorded_by: str | None = None) -> Outcome:
        """As `JourneyApplication.handle`, stored with the commands of concurrent callers."""
        ticket = _Ticket(command, recorded_by)
        with self._queue_lock:
            self._queue.append(ticket)
        while not ticket.done:
            with self._turn:
                if not ticket.done:
                    self._write_next_group()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.outcome is not None
        return ticket.outcome

    def _write_next_group(self) -> None:
        with self._queue_lock:
            group = self._queue[: self.max_group]
            del self._queue[: self.max_group]
        try:
            results = self.application.handle_many(
                [t.command for t in group],
                atomic=False,
                recorded_by_each=[t.recorded_by for t in group],
            )
        except BaseException as error:  # the group's failure is each caller's: raised there
            for ticket in group:
                ticket.error, ticket.done = error, True
            return
        for ticket, result in zip(group, results, strict=True):
            if isinstance(result, JourneyError):
                ticket.error = result
            else:
                ticket.outcome = result
            ticket.done = True
