"""Deployment settings, read from the environment once (``get_settings()``)."""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent

# Piccolo's migration runner finds the engine through a conf module; ours reads
# DATABASE_URL, so the CLI, the app and the tests all agree on one database.
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")


class Settings(msgspec.Struct, frozen=True):
    """Every setting of a deployment, from the environment (names in the comments)."""

    database_url: str  # DATABASE_URL (default: SQLite in the var folder)
    plugins: tuple[str, ...]  # CLINTECH_PLUGINS
    var_dir: Path  # CLINTECH_VAR
    storage_dir: Path  # CLINTECH_STORAGE
    secret: str  # CLINTECH_SECRET (default: one kept in var/secret)
    session_hours: int = 8  # CLINTECH_SESSION_HOURS
    smtp_host: str = ""  # CLINTECH_SMTP_HOST ("host" or "host:port"; empty: no mail)
    smtp_from: str = "clintech@localhost"  # CLINTECH_SMTP_FROM
    debug: bool = False  # CLINTECH_DEBUG=1
    # A fixed today for demos and the test kit (CLINTECH_TODAY=2026-05-20); None: the real date.
    today: dt.date | None = None
    pseudonym_key: str = ""  # CLINTECH_PSEUDONYM_KEY (default: the secret)
    max_upload_bytes: int = 10 * 1024 * 1024  # CLINTECH_MAX_UPLOAD_BYTES
    due_soon_days: int = 5  # CLINTECH_DUE_SOON_DAYS
    reminder_leads: tuple[int, ...] = (5, 1)  # CLINTECH_REMINDER_LEADS="5,1"
    db_pool: bool = True  # CLINTECH_DB_POOL=0: no PostgreSQL connection pool
    fast_hash: bool = False  # CLINTECH_FAST_HASH=1: cheap argon2 for test suites, never production
    trace_plugins: bool = False  # CLINTECH_TRACE_PLUGINS=1
    # CLINTECH_COUNT_QUERIES=1: every answer carries ``X-Clintech-Queries``, the number of
    # database queries the server ran for it (the benchmark's figure; off in production).
    count_queries: bool = False
    # Every CLINTECH_* variable, for the settings a plugin names itself (a channel's
    # endpoint_setting, a province's window): read them with ``setting(name)``.
    env: dict[str, str] = {}

    # The background jobs (reminders, outbox, deadline recomputes) run inside
    # ``clintech serve`` unless CLINTECH_JOBS=separate (a multi-host deployment runs
    # ``clintech worker`` on one host instead).
    jobs_inline: bool = True
    jobs_interval: int = 60  # CLINTECH_JOBS_INTERVAL, seconds
    # Largest request body (bytes): a 10 MiB attachment plus its form; beyond → 413.
    max_request_bytes: int = 12 * 1024 * 1024
    # Session and CSRF cookies marked Secure, and HSTS sent (CLINTECH_SECURE_COOKIES=0 to
    # turn off, e.g. a test deployment on plain http). A plain-http request to a loopback
    # host (``make run`` on http://127.0.0.1) is local development: no Secure, no HSTS.
    secure_cookies: bool = True
    # Reverse proxies (addresses or CIDR networks, CLINTECH_TRUSTED_PROXIES, comma-separated)
    # whose X-Forwarded-For / X-Forwarded-Proto are believed; nobody else's are.
    trusted_proxies: tuple[str, ...] = ()
    # The deployment's name and emblem on every page (issue 11 point 14): CLINTECH_SITE_NAME
    # (empty: the product name) and CLINTECH_SITE_EMBLEM, an image file (PNG, SVG, JPEG).
    site_name: str = ""
    site_emblem: Path | None = None

    def setting(self, name: str, default: str = "") -> str:
        return self.env.get(name, default)


def _secret(var_dir: Path) -> str:
    """The CSRF/session secret: from the environment, else one kept in var/."""
    if value := os.environ.get("CLINTECH_SECRET"):
        return value
    path = var_dir / "secret"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _networks(text: str) -> tuple[str, ...]:
    """Comma-separated addresses/CIDRs; a malformed one stops the start with its name."""
    import ipaddress

    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise ValueError(f"CLINTECH_TRUSTED_PROXIES 中的地址无效：{part}") from exc
    return tuple(out)


# The environment as last read by ``get_settings`` and the settings read from it. Every
# page asks for the settings several times: comparing the environment's own dict with a
# copy (one C-level comparison) is what a call costs while nothing changed, instead of
# decoding and filtering every variable.
_LAST: tuple[dict | None, Settings | None] = (None, None)  # (copy of the environment, settings)


def get_settings() -> Settings:
    """The settings; read again only when the environment changes (a test's monkeypatch
    applies at once)."""
    global _LAST
    current = getattr(os.environ, "_data", None)
    environ, settings = _LAST
    if settings is not None and current == environ:
        return settings
    snapshot = dict(current) if current is not None else None
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CLINTECH_") or k == "DATABASE_URL"))
    settings = _settings(key)
    if snapshot is not None:
        _LAST = (snapshot, settings)
    return settings


def _forget() -> None:
    global _LAST
    _LAST = (None, None)
    _settings.cache_clear()


@functools.lru_cache(maxsize=16)
def _settings(key: tuple[tuple[str, str], ...]) -> Settings:
    env = dict(key)
    var_dir = Path(env.get("CLINTECH_VAR", ROOT / "var"))
    database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'clintech.sqlite3'}"
    plugins = tuple(p.strip() for p in env.get("CLINTECH_PLUGINS", "jilin,hospital_default").split(",") if p.strip())
    return Settings(
        database_url=database_url,
        plugins=plugins,
        var_dir=var_dir,
        storage_dir=Path(env.get("CLINTECH_STORAGE", var_dir / "storage")),
        secret=_secret(var_dir),
        session_hours=int(env.get("CLINTECH_SESSION_HOURS", "8")),
        smtp_host=env.get("CLINTECH_SMTP_HOST", "").strip(),
        smtp_from=env.get("CLINTECH_SMTP_FROM", "clintech@localhost"),
        debug=env.get("CLINTECH_DEBUG", "") == "1",
        today=dt.date.fromisoformat(env["CLINTECH_TODAY"]) if env.get("CLINTECH_TODAY") else None,
        pseudonym_key=env.get("CLINTECH_PSEUDONYM_KEY", ""),
        max_upload_bytes=int(env.get("CLINTECH_MAX_UPLOAD_BYTES", "") or 10 * 1024 * 1024),
        due_soon_days=int(env.get("CLINTECH_DUE_SOON_DAYS", "5")),
        reminder_leads=tuple(sorted({int(x) for x in env.get("CLINTECH_REMINDER_LEADS", "5,1").split(",")
                                     if x.strip()}, reverse=True)),
        db_pool=env.get("CLINTECH_DB_POOL", "1") != "0",
        fast_hash=env.get("CLINTECH_FAST_HASH") == "1",
        trace_plugins=bool(env.get("CLINTECH_TRACE_PLUGINS")),
        count_queries=env.get("CLINTECH_COUNT_QUERIES") == "1",
        jobs_inline=env.get("CLINTECH_JOBS", "inline").strip().lower() != "separate",
        jobs_interval=_positive_int(env.get("CLINTECH_JOBS_INTERVAL", ""), 60),
        max_request_bytes=int(env.get("CLINTECH_MAX_REQUEST_BYTES", str(12 * 1024 * 1024))),
        site_name=env.get("CLINTECH_SITE_NAME", "").strip()[:60],
        site_emblem=Path(env["CLINTECH_SITE_EMBLEM"]) if env.get("CLINTECH_SITE_EMBLEM", "").strip() else None,
        secure_cookies=env.get("CLINTECH_SECURE_COOKIES", "1").strip().lower() not in ("0", "false", "no", "off"),
        trusted_proxies=_networks(env.get("CLINTECH_TRUSTED_PROXIES", "")),
        env={k: v for k, v in env.items() if k.startswith("CLINTECH_")},
    )


def _positive_int(value: str, default: int) -> int:
    try:
        return max(int(value), 1)
    except ValueError:
        return default


# ``get_settings.cache_clear()``: forget the settings read so far (the CLI sets CLINTECH_JOBS).
get_settings.cache_clear = _forget  # type: ignore[attr-defined]
