"""`journey erase ID --reason R`: crypto-shredding of one patient (SPEC section 10), and
`journey rotate-key`: the master key's rotation (docs/privacy.md).

The command line acts with the store's credentials and master key, that is as an
administrator; the erasure is recorded in the access trail (`patient.erase`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from interfaces.cli_access import cli_actor, recorded
from interfaces.cli_errors import EXIT_USAGE, domain_errors
from interfaces.cli_store import runtime


def erase(
    patient_id: str,
    reason: Annotated[str, typer.Option(help="why (kept in clear with the erasure: no PHI)")],
    actor: Annotated[str | None, typer.Option(help="who erases (access trail)")] = None,
) -> None:
    """Erase a patient: destroy its data key; its events stay (anchored) but are unreadable."""
    from infrastructure.erasure import erase_patient

    app = runtime().application
    with domain_errors(), recorded("patient.erase", patient_id, f"reason={reason}", actor):
        marker = erase_patient(app, patient_id, reason, actor=cli_actor(actor))
    typer.echo(
        f"erased patient {patient_id} at {marker.erased_at}: {marker.erased_version} events "
        f"kept unreadable; chain head at erasure {marker.chain_head}"
    )


def rotate_key(
    new_key_env: Annotated[
        str, typer.Option(help="the environment variable holding the new master key")
    ] = "JOURNEY_NEW_CIPHER_KEY",
    actor: Annotated[str | None, typer.Option(help="who rotates (access trail)")] = None,
) -> None:
    """Re-wrap every patient's data key under a new master key (stop every writer first);
    then restart everything with JOURNEY_CIPHER_KEY set to the new key."""
    from infrastructure.keys import StoreKeyError, parse_master_key
    from infrastructure.rotation import rotate_master_key

    new_key = os.environ.get(new_key_env)
    if not new_key:
        typer.echo(f"error: {new_key_env} is not set: it must hold the new master key", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        parse_master_key(new_key)
    except StoreKeyError as error:
        typer.echo(f"error: {new_key_env}: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    app = runtime().application
    with domain_errors(), recorded("store.rotate_key", None, f"env={new_key_env}", actor):
        count = rotate_master_key(app, new_key)
    typer.echo(
        f"re-wrapped {count} data keys: restart every process with JOURNEY_CIPHER_KEY set to "
        "the new key, rebuild the read models (journey project), then retire the old key"
    )


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
    app.command("rotate-key")(rotate_key)
