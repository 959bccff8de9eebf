"""The API docs page (/docs) works offline: Swagger UI's script, style and icon are served
by the service itself, and the page renders every operation with no other origin reachable
(headless Chromium with every request to another origin aborted)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.conftest import Page, Server

pytestmark = pytest.mark.browser


def test_docs_page_names_only_local_assets(server: Server) -> None:
    html = httpx.get(server.url + "/docs", timeout=30).text
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert sources, html
    assert not [s for s in sources if urlsplit(s).netloc], sources  # no other origin
    scripts = re.findall(r"""url:\s*['"]([^'"]+)['"]""", html)
    for path in {*sources, *scripts}:
        assert httpx.get(server.url + path, timeout=30).status_code == 200, path
    assert httpx.get(server.url + "/redoc", timeout=30).status_code == 404  # it needs a CDN


def test_docs_page_renders_with_no_other_origin(page: Page, server: Server) -> None:
    own = urlsplit(server.url).netloc
    elsewhere: list[str] = []

    def only_here(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if urlsplit(request.url).netloc != own:
            elsewhere.append(request.url)
            route.abort()  # type: ignore[attr-defined]
        else:
            route.continue_()  # type: ignore[attr-defined]

    page.page.route("**/*", only_here)
    page.page.goto("/docs")
    page.page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.page.locator(".opblock-summary-path").all_inner_texts()
    assert "/v1/patients/{patient_id}/journey" in [p.strip() for p in paths]
    assert elsewhere == []
    assert page.errors == []
