"""`journey erase ID --reason R`: crypto-shredding of one patient (SPEC section 10).

The command line acts with the store's credentials and master key, that is as an
administrator; the erasure is recorded in the access trail (`patient.erase`)."""

from __future__ import annotations

from typing import Annotated

import typer

from infrastructure.erasure import erase_patient
from interfaces.bootstrap import build_application
from interfaces.cli_access import cli_actor, recorded
from interfaces.cli_errors import domain_errors


def erase(
    patient_id: str,
    reason: Annotated[str, typer.Option(help="why (kept in clear with the erasure: no PHI)")],
    actor: Annotated[str | None, typer.Option(help="who erases (access trail)")] = None,
) -> None:
    """Erase a patient: destroy its data key; its events stay (anchored) but are unreadable."""
    app = build_application()
    try:
        with domain_errors(), recorded("patient.erase", patient_id, f"reason={reason}", actor):
            marker = erase_patient(app, patient_id, reason, actor=cli_actor(actor))
    finally:
        app.close()
    typer.echo(
        f"erased patient {patient_id} at {marker.erased_at}: {marker.erased_version} events "
        f"kept unreadable; chain head at erasure {marker.chain_head}"
    )


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
