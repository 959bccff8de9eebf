"""Auditors' commands: `journey verify` and `journey anchors`."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from interfaces.cli_access import cli_actor, recorded
from interfaces.cli_errors import EXIT_DIFFERENT, domain_errors
from interfaces.cli_progress import Progress
from interfaces.cli_store import require_store, runtime
from interfaces.render import table
from interfaces.timeparse import parse_instant
from services.worker_counts import DEFAULT_WORKERS

if TYPE_CHECKING:
    from consumers.replay import Comparison


def export_anchors(
    out: Annotated[Path, typer.Option(help="JSON Lines file to keep elsewhere")],
    actor: Annotated[str | None, typer.Option(help="who exports (access trail)")] = None,
) -> None:
    """Export the log's anchors (position, patient, version, running hash). They name every
    patient: the export is recorded in the access trail."""
    require_store()
    app = runtime().application
    with recorded("anchors.export", None, f"out={out}", actor):
        count = _write_anchors(app, out)
    typer.echo(f"exported {count} anchors to {out}", err=True)


def _write_anchors(app: Any, out: Path) -> int:
    recorder: Any = app.recorder
    count, start = 0, 1
    with out.open("w", encoding="utf-8") as sink:
        while page := recorder.select_anchors(start, 1_000):
            for a in page:
                row = {
                    "position": a.position,
                    "patient_id": a.patient_id,
                    "version": a.version,
                    "running_hash": a.running_hash,
                }
                sink.write(json.dumps(row) + "\n")
            count += len(page)
            start = page[-1].position + 1
    return count


def audit_report(
    patient_id: str,
    out: Annotated[Path, typer.Option(help="the HTML file to write")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="journey as of T")] = None,
    actor: Annotated[str | None, typer.Option(help="who exports (access trail)")] = None,
) -> None:
    """A self-contained HTML audit report of one patient (timeline, corrections, integrity)."""
    from audit.report import render_report
    from audit.verify import verify_patient
    from journey.errors import UnknownPatient
    from projections.care_view import care_view
    from projections.queries import patient_history, patient_journey
    from projections.session_view import session_log_view

    require_store()
    app = runtime().application
    with domain_errors(), recorded("audit.report", patient_id, f"out={out.name}", actor):
        history = patient_history(app, patient_id)
        view = patient_journey(app, patient_id, as_of=parse_instant(as_of, "as_of"))
        log = session_log_view(history, as_of=view.as_of)
        care = care_view(history, as_of=view.as_of)
        if log is None or care is None:
            raise UnknownPatient(patient_id)
        result = verify_patient(app, patient_id)
        page = render_report(
            view,
            log,
            history,
            care=care,
            result=result,
            generated_at=datetime.now(UTC),
            generated_by=cli_actor(actor),
        )
    out.write_text(page, encoding="utf-8")
    verdict = "verified" if result.ok else f"BROKEN at {result.first()}"
    typer.echo(f"wrote {out} ({len(history)} events, {verdict})", err=True)


def _copy_recorded(keep: Path | None, actor: str | None) -> AbstractContextManager[None]:
    """A copy of the read models leaves the store: it is recorded in the access trail
    (opened here, on entering: after the replay's workers started)."""
    if keep is None:
        return nullcontext()
    return recorded("read_models.copy", None, f"out={keep.resolve()}", actor)


def replay(
    projection: Annotated[
        str | None, typer.Option(help="one read model (patients, episodes, stays, ...)")
    ] = None,
    keep: Annotated[Path | None, typer.Option(help="keep the rebuilt tables in this file")] = None,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = DEFAULT_WORKERS,
    actor: Annotated[str | None, typer.Option(help="who keeps a copy (access trail)")] = None,
) -> None:
    """Rebuild the read models from the event log alone into fresh tables and compare them
    with the live ones (rows and checksum per table); exit 6 when they differ. A copy kept
    with --keep (owner-only file, pseudonymized like the live read models) is recorded in
    the access trail (`read_models.copy`)."""
    from services.replay import replay_and_compare, replay_position, tables_for
    from services.replay_parallel import SharePool

    try:
        tables = tables_for(projection)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    require_store()
    # the workers start before anything opens the store: forked, not spawned (SharePool)
    pool = SharePool(workers) if workers > 1 else None
    with pool or nullcontext(), _copy_recorded(keep, actor):
        stop = replay_position(runtime())
        with Progress("replay", stop, "events") as progress:
            done = replay_and_compare(
                runtime(),
                tables,
                stop=stop,
                workers=workers,
                keep=keep,
                tick=progress.advance,
                pool=pool,
            )
    where = done.scratch
    typer.echo(f"replayed {done.events} events (log positions 1..{stop}) into {where}", err=True)
    _show(done.comparisons)
    if not done.equal:
        raise typer.Exit(EXIT_DIFFERENT)


def _show(results: list[Comparison]) -> None:
    rows = [
        (
            c.live.table,
            c.live.rows,
            c.rebuilt.rows,
            c.live.sha256[:16],
            c.rebuilt.sha256[:16],
            "equal" if c.equal else "DIFFERENT",
        )
        for c in results
    ]
    typer.echo(
        table(["table", "live rows", "rebuilt rows", "live sha256", "rebuilt sha256", ""], rows)
    )


def register(app: typer.Typer) -> None:
    app.command("anchors")(export_anchors)
    app.command("audit-report")(audit_report)
    app.command("replay")(replay)
