"""Routes of the web pages: the HTML shells and their static assets. They serve files only:
no patient data, no computation; the pages fetch their figures from the API."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse

import audit.timeline_svg as _audit
from interfaces.api.deps import PatientId

HERE = Path(__file__).parent
PAGES = HERE / "pages"
STATIC = HERE / "static"
STATIC_PREFIX = "/web/static"
PALETTE = _audit.PALETTE

# The pages load only their own scripts and styles and talk only to this origin: a script
# injected through data could not send the API key (kept in sessionStorage) elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((PAGES / name).read_text(encoding="utf-8"), headers=PAGE_HEADERS)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    """The program dashboard (census, length of stay, flows, retention, intensity)."""
    return _page("dashboard.html")


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient(patient_id: PatientId) -> HTMLResponse:
    """One patient's journey timeline; the page reads the id from its own address."""
    del patient_id  # validated here, used by the page's script
    return _page("patient.html")


def resolve_asset(path: str) -> Path:
    """The file under `static/` that `path` names; never a file outside it. The level
    palette is the one the audit report's timeline uses."""
    if path == "palette.json":
        return PALETTE
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        raise HTTPException(status_code=404, detail=f"no asset '{path}'")
    return target


@router.get(STATIC_PREFIX + "/{path:path}")
def asset(path: Annotated[str, PathParam(max_length=200)]) -> FileResponse:
    """Scripts, styles and the vendored charting library, served locally (works offline)."""
    target = resolve_asset(path)
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix in {".js", ".mjs"}:
        media_type = "text/javascript"
    return FileResponse(target, media_type=media_type, headers=ASSET_HEADERS)
