"""Domain exceptions. Each edge maps them once: HTTP problem+json, CLI exit codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One broken rule: the field it concerns, the rule's name and a readable message."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} [{self.rule}]"


class JourneyError(Exception):
    """Base of every error the domain and application raise on purpose."""

    kind = "error"

    def __init__(self, *issues: Issue) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


class InvalidCommand(JourneyError):
    """The command is malformed or breaks a rule about its own content (HTTP 422)."""

    kind = "invalid"


class RuleViolation(InvalidCommand):
    """The command is well formed but the patient's history forbids it (HTTP 422)."""


class Conflict(JourneyError):
    """The command contradicts the patient's current state (HTTP 409)."""

    kind = "conflict"


class ConcurrentUpdate(Conflict):
    """Other writers kept changing the patient; retrying did not get through (HTTP 409)."""


class UnknownPatient(JourneyError):
    """No event is known for this patient (HTTP 404)."""

    kind = "not_found"

    def __init__(self, patient_id: str) -> None:
        super().__init__(Issue("patient_id", "known_patient", f"no patient '{patient_id}'"))
        self.patient_id = patient_id


class PatientErased(UnknownPatient):
    """The patient was erased (crypto-shredding): its records can no longer be read and
    no command is accepted for its id (HTTP 410 Gone, CLI exit 3)."""

    kind = "gone"

    def __init__(self, patient_id: str, erased_at: str | None = None) -> None:
        when = f" at {erased_at}" if erased_at else ""
        JourneyError.__init__(
            self,
            Issue(
                "patient_id",
                "not_erased",
                f"patient '{patient_id}' was erased{when}: its records can no longer be read",
            ),
        )
        self.patient_id = patient_id
        self.erased_at = erased_at


def invalid(field: str, rule: str, message: str) -> InvalidCommand:
    return InvalidCommand(Issue(field, rule, message))


def violation(field: str, rule: str, message: str) -> RuleViolation:
    return RuleViolation(Issue(field, rule, message))


def conflict(field: str, rule: str, message: str) -> Conflict:
    return Conflict(Issue(field, rule, message))


class StorageUnavailable(JourneyError):
    """The store cannot be used: disk full, read-only, cannot be opened or reached (HTTP 503,
    CLI exit 7). Raised by the edges from the storage exceptions, never by the domain."""

    kind = "unavailable"

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(Issue("store", rule, message))
        self.rule = rule
        self.message = message
