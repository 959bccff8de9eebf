"""The FastAPI application factory. Nothing connects at import: `create_app` opens the API's
composition root (`services.runtime.Runtime`: the application unless one is handed in, the
access trail's connection) and the app's lifespan closes it at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from audit.principals import KeyRegistry
from config.settings import Settings
from interfaces.api import routes_audit, routes_commands, routes_erasure, routes_patients
from interfaces.api.guard import Authenticate, BodyLimits, LimitBody
from interfaces.api.openapi import component_schemas
from interfaces.api.problems import install_problem_handlers
from interfaces.api.routes_analytics import router_for as analytics_router
from interfaces.api.schemas import Health
from interfaces.api.security import Security
from interfaces.api.trail import RecordPatientReads
from interfaces.web.routes import STATIC_PREFIX
from interfaces.web.routes import router as web_router
from journey.application import JourneyApplication
from services.group_writer import GroupWriter
from services.runtime import Runtime

DESCRIPTION = """\
Records the care journey of patients in addiction treatment (admissions, level-of-care
transitions, therapy sessions, corrections, discharges) as immutable events, and serves
each patient's journey as of any instant, from what was known at any past moment.

Every call needs an API key (`X-API-Key` header or `Authorization: Bearer`), mapped to a
principal and a role (clinician, service, auditor, analyst, admin) that limits what it may
read or write; every attempt to read patient-level data is recorded in the access trail
(refused ones included). Bodies are limited in size (413) and JSON nesting depth (422).

Commands are validated exactly as by the JSON Lines import. Errors are RFC 9457
`application/problem+json`: 422 invalid, 409 conflict with the patient's history,
404 unknown patient; `errors` names each field and broken rule."""


def _version() -> str:
    try:
        return version("care-journey")
    except PackageNotFoundError:
        return "0.0.0"


SWAGGER_UI = f"{STATIC_PREFIX}/vendor/swagger-ui"


class JourneyAPI(FastAPI):
    """FastAPI with the command schemas the request bodies refer to in its OpenAPI document."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, body in component_schemas().items():
                components.setdefault(name, body)
        return self.openapi_schema or {}


def _lifespan(runtime: Runtime) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with runtime:  # closed at shutdown
            yield

    return lifespan


def create_app(
    application: JourneyApplication | None = None, settings: Settings | None = None
) -> FastAPI:
    """The API on its composition root, built from `settings` (default: the environment);
    authentication and the access trail follow them. With `application` the caller owns
    that application (it is not closed at shutdown)."""
    runtime = Runtime(settings, application=application)
    try:
        return _create(runtime)
    except BaseException:
        runtime.close()
        raise


def _create(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    app = JourneyAPI(
        title="Care Journey API",
        version=_version(),
        description=DESCRIPTION,
        docs_url=None,  # served below from vendored assets: the page works offline
        redoc_url=None,  # ReDoc would load its script from a CDN
        lifespan=_lifespan(runtime),
    )
    app.state.runtime = runtime
    app.state.application = runtime.application
    app.state.writer = GroupWriter(runtime.application)  # concurrent commands, one transaction
    security = Security(
        enabled=settings.auth,
        keys=KeyRegistry.parse(settings.api_keys),
        access_log=runtime.access_log,
    )
    app.state.security = security
    install_problem_handlers(app, settings.database_url)
    limits = BodyLimits(
        settings.max_body_bytes, settings.max_batch_body_bytes, settings.max_json_depth
    )
    # Outermost last: the trail sees every outcome, authentication precedes the body.
    app.add_middleware(LimitBody, limits=limits)
    app.add_middleware(Authenticate, security=security)
    app.add_middleware(RecordPatientReads, access_log=security.access_log)
    app.include_router(routes_commands.router)
    app.include_router(routes_patients.router)
    app.include_router(routes_erasure.router)
    app.include_router(routes_audit.router)
    app.include_router(analytics_router(runtime.read_models))
    app.include_router(web_router)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the vendored swagger-ui-dist (interfaces/web/static/vendor)."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        )

    @app.get("/healthz", response_model=Health, tags=["health"], operation_id="health")
    def healthz() -> Health:
        return Health(status="ok")

    return app
