"""`journey verify`: the checks of audit.verify, an exported anchor copy, and the latest
anchor head published on Kafka; prints what was compared, exits 5 on the first break."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from interfaces.cli_access import access_log
from interfaces.cli_errors import EXIT_BROKEN, EXIT_STORAGE, domain_errors
from interfaces.cli_store import require_store, runtime
from publishing.topics import ANCHORS_TOPIC

if TYPE_CHECKING:
    from audit.access_chain import TrailVerification
    from audit.anchors import Anchor
    from audit.verification import Verification
    from journey.application import JourneyApplication

NO_HEAD = "no published anchor head to compare; tail truncation cannot be detected"
ORDER = ("events", "anchors", "snapshots", "exported head", "published head")


def verify(
    patient_id: Annotated[str | None, typer.Argument(help="one patient; omit with --all")] = None,
    all_: Annotated[bool, typer.Option("--all", help="the whole log and the access trail")] = False,
    trail: Annotated[
        bool, typer.Option("--access-log", help="only the access trail's chain")
    ] = False,
    anchors: Annotated[
        Path | None, typer.Option(help="exported anchors (JSON Lines) to compare against")
    ] = None,
    anchors_topic: Annotated[
        str,
        typer.Option(envvar="JOURNEY_RELAY_ANCHORS_TOPIC", help="topic of the published heads"),
    ] = ANCHORS_TOPIC,
) -> None:
    """Recompute hash chains, anchors and snapshots, compare with the exported and the
    published anchor head, and check the access trail's chain; exit 5 naming the first
    broken patient and version (or access trail row)."""
    from audit.verify import verify_log, verify_patient

    if (patient_id is not None) + all_ + trail != 1:
        raise typer.BadParameter("give a patient id, --all or --access-log (one of them)")
    if patient_id is not None and anchors is not None:
        raise typer.BadParameter("--anchors compares the whole log: use it with --all")
    broken = False
    if patient_id is not None or all_:
        require_store()
        app = runtime().application
        if patient_id is not None:
            with domain_errors():
                result = verify_patient(app, patient_id)
        else:
            result = verify_log(app, read_anchors(anchors) if anchors else None)
            if anchors is None:
                result.compared["exported head"] = (
                    "none given (journey verify --all --anchors FILE)"
                )
            _compare_published(app, result, anchors_topic)
        broken = _report(result, patient_id or "the log")
    if all_ or trail:
        broken = _report_trail(access_log().verify()) or broken
    if broken:
        raise typer.Exit(EXIT_BROKEN)


def _compare_published(app: JourneyApplication, result: Verification, topic: str) -> None:
    from audit.anchors import Anchor
    from audit.verify_heads import Head, compare_head
    from publishing.anchor_head import HeadUnavailable, latest_head

    bootstrap = runtime().settings.kafka_bootstrap_servers
    if not bootstrap:
        result.compared["published head"] = f"{NO_HEAD} (JOURNEY_KAFKA_BOOTSTRAP_SERVERS unset)"
        return
    try:
        head = latest_head(bootstrap, topic, app.name)
    except HeadUnavailable as error:
        typer.echo(f"error: cannot read the published anchor head from {topic}: {error}", err=True)
        raise typer.Exit(EXIT_STORAGE) from None
    if head is None:
        result.compared["published head"] = f"{NO_HEAD} (none on topic {topic})"
        return
    anchor = Anchor(head.position, head.patient_id, head.version, head.running_hash)
    source = f"topic {topic}, published {head.published_at.isoformat()}"
    compare_head(app, result, Head(anchor, head.events, source), "published head")


def _report(result: Verification, scope: str) -> bool:
    """Prints the outcome; True when broken."""
    head = result.head
    where = f"; anchor head {head.running_hash} at position {head.position}" if head else ""
    first = result.first()
    for patient_id, erasure in sorted(result.erased.items()):
        typer.echo(f"ERASED: patient {patient_id} {erasure}")
    if first is None:
        typer.echo(f"OK: {scope}: {result.events} events verified{where}")
    else:
        found = f"{len(result.breaks)} break{'s' if len(result.breaks) > 1 else ''}"
        typer.echo(f"BROKEN: {scope}: {result.events} events checked, {found}{where}")
    typer.echo("compared:")
    for what in ORDER:
        if what in result.compared:
            typer.echo(f"  {what + ':':16}{result.compared[what]}")
    if first is None:
        return False
    typer.echo(f"BROKEN: {first}", err=True)
    others = len(result.breaks) - 1
    if others:
        typer.echo(f"({others} more breaks after the first)", err=True)
    return True


def _report_trail(result: TrailVerification) -> bool:
    first = result.first()
    if first is None:
        typer.echo(f"OK: the access trail: {result.rows} rows verified")
        return False
    typer.echo(f"BROKEN: {first}", err=True)
    if len(result.breaks) > 1:
        typer.echo(f"({len(result.breaks) - 1} more breaks after the first)", err=True)
    return True


def read_anchors(path: Path) -> list[Anchor]:
    """The anchors exported by `journey anchors --out` (one JSON object a line)."""
    from audit.anchors import Anchor

    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            anchors.append(
                Anchor(
                    int(row["position"]),
                    str(row["patient_id"]),
                    int(row["version"]),
                    str(row["running_hash"]),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise typer.BadParameter(
                f"{path} line {number}: not an exported anchor (position, patient_id,"
                f" version, running_hash): {error!r}",
                param_hint="--anchors",
            ) from None
    return anchors


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
