"""Maps `JOURNEY_DATABASE_URL` to the eventsourcing persistence settings."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from journey.errors import invalid


def persistence_env(database_url: str) -> dict[str, str]:
    """eventsourcing environment for `sqlite:///file.db` or `postgresql://u:p@host:port/db`
    (optional `?connect_timeout=SECONDS`, as libpq: how long to try to reach the server)."""
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        path = database_url.removeprefix("sqlite://").removeprefix("/") or "journey.db"
        if database_url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or ""),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "5",
        }
        timeout = parse_qs(url.query).get("connect_timeout", [""])[-1]
        if timeout.isdigit():
            env["POSTGRES_CONNECT_TIMEOUT"] = timeout
        return env
    raise invalid(
        "JOURNEY_DATABASE_URL",
        "supported_scheme",
        f"'{url.scheme}' is not supported; use sqlite:///file.db or postgresql://...",
    )
