"""Fixtures of the browser tests: a real API server (uvicorn in a thread, on a free loopback
port) over a temporary SQLite store holding the demo cohort, and headless Debian Chromium
driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from config.settings import Settings
from consumers.read_model_service import ReadModelService
from devtools.demo.cohort import generate_cohort
from interfaces.api.app import create_app
from services.bootstrap import build_application
from services.importing import import_lines

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
UNTIL = date(2026, 6, 30)
PATIENTS = 60
KEYS = {"admin": "web-admin-key", "analyst": "web-analyst-key", "service": "web-service-key"}
SCREENSHOTS = Path(__file__).parent / "screenshots"


# A browser test takes seconds. One whose Playwright connection freezes (a call that waits
# on the driver forever: a timeout signal frees the test, not the connection, and the next
# test would freeze on it too) ends its worker process after this, every thread's stack
# written first: xdist starts a new worker, with a new browser, for the tests left.
BROWSER_TIMEOUT = 180


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium (Playwright)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(BROWSER_TIMEOUT, method="thread"))


@dataclass
class Server:
    url: str
    loaded_at: datetime  # after the cohort, before the later correction and void
    amended: dict[str, str]  # session id -> what was done to it afterwards
    patient: str
    keys: dict[str, str] = field(default_factory=lambda: dict(KEYS))

    def get(self, path: str, role: str = "admin", **params: str) -> Any:
        headers = {"X-API-Key": self.keys[role]}
        response = httpx.get(self.url + path, params=params, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _amend(application: Any, commands: list[dict[str, Any]], patient: str) -> dict[str, str]:
    """Corrects one attended session of `patient` and voids another, recorded after the load."""
    sessions = [
        c["session_id"]
        for c in commands
        if c["patient_id"] == patient
        and c["command"] == "record_session"
        and c.get("status", "attended") == "attended"
    ]
    fix, void = sessions[0], sessions[1]
    lines = [
        {"command": "correct_session", "patient_id": patient, "session_id": fix,
         "reason": "typed 45 for 105", "duration_minutes": 105},
        {"command": "void_session", "patient_id": patient, "session_id": void,
         "reason": "entered on the wrong patient"},
    ]  # fmt: skip
    report = import_lines(application, (json.dumps(c) for c in lines), actor="web-test")
    assert not report.rejected
    return {fix: "corrected", void: "voided"}


CARE_PATIENT = "demo-000008"  # admitted again on 2026-06-12 (iop), open at the cohort's end


def _care(application: Any) -> None:
    """A primary therapist, a plan reviewed once (then overdue), a referral closed and one
    open, for CARE_PATIENT (America/New_York)."""
    p, at = CARE_PATIENT, "2026-06-{}T17:00:00+00:00".format
    plan = {
        "plan_id": "plan-web",
        "goals": [
            {
                "goal_id": "g-1",
                "dimension": "relapse_potential",
                "description": "Stay in treatment",
                "objectives": [
                    {
                        "objective_id": "o-1",
                        "target_date": "2026-07-15",
                        "description": "Attend every group",
                    },
                    {"objective_id": "o-2", "target_date": "2026-08-15"},
                ],
            },
            {
                "goal_id": "g-2",
                "dimension": "recovery_environment",
                "objectives": [{"objective_id": "o-3", "target_date": "2026-09-30"}],
            },
        ],
    }
    lines = [
        {"command": "assign_primary_therapist", "patient_id": p, "clinician_id": "dr-web",
         "occurred_at": at(12)},
        {"command": "create_treatment_plan", "patient_id": p, "occurred_at": at(13)} | plan,
        {"command": "refer", "patient_id": p, "referral_id": "ref-web-1", "specialty": "trauma",
         "occurred_at": at(15)},
        {"command": "review_treatment_plan", "patient_id": p, "plan_id": "plan-web",
         "outcome": "continue", "objectives": {"o-1": "met"}, "occurred_at": at(20)},
        {"command": "close_referral", "patient_id": p, "referral_id": "ref-web-1",
         "outcome": "completed", "occurred_at": at(22)},
        {"command": "refer", "patient_id": p, "referral_id": "ref-web-2",
         "specialty": "psychiatry", "to_clinician_id": "dr-psy", "occurred_at": at(25)},
    ]  # fmt: skip
    report = import_lines(application, (json.dumps(c) for c in lines), actor="web-test")
    assert not report.rejected, report.rejected


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store = tmp_path_factory.mktemp("web") / "journey.db"
    api_keys = ";".join(f"{key}=web-{role}:{role}" for role, key in KEYS.items())
    settings = Settings(database_url=f"sqlite:///{store}", auth=True, api_keys=api_keys)
    application = build_application(settings)
    commands = list(generate_cohort(PATIENTS, seed=7, until=UNTIL))
    now = datetime(UNTIL.year, UNTIL.month, UNTIL.day, 23, tzinfo=UTC)
    report = import_lines(
        application, (json.dumps(c) for c in commands), continue_on_error=True, now=now
    )
    assert not report.rejected
    time.sleep(1.1)
    loaded_at = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    patient = "demo-000001"
    amended = _amend(application, commands, patient)
    _care(application)
    port = _free_port()
    config = uvicorn.Config(
        create_app(application, settings), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    running = Server(f"http://127.0.0.1:{port}", loaded_at, amended, patient)
    with ReadModelService(application, settings.database_url) as read_models:
        read_models.catch_up()  # what `journey serve`'s projection worker does
    yield running
    uv.should_exit = True
    thread.join(timeout=10)
    application.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Page:
    """A Playwright page and what its console reported."""

    page: Any
    errors: list[str]

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server.url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield Page(tab, errors)
    context.close()


def use_key(page: Page, key: str) -> None:
    """What a user does: types the key into the header's key form (kept for this tab)."""
    page.page.fill("#api-key", key)
    page.page.click("#key-form button[type=submit]")
