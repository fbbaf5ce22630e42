"""Deployment settings, read from the environment once (``get_settings()``)."""

from __future__ import annotations

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
    database_url: str
    plugins: tuple[str, ...]
    var_dir: Path
    storage_dir: Path
    secret: str
    session_hours: int = 8
    smtp_host: str = ""
    debug: bool = False
    # The background jobs (reminders, outbox, deadline recomputes) run inside
    # ``clintech serve`` unless CLINTECH_JOBS=separate (a multi-host deployment runs
    # ``clintech worker`` on one host instead).
    jobs_inline: bool = True
    jobs_interval: int = 60
    # Largest request body (bytes): a 10 MiB attachment plus its form; beyond → 413.
    max_request_bytes: int = 12 * 1024 * 1024
    # Session and CSRF cookies marked Secure, and HSTS sent (CLINTECH_SECURE_COOKIES=0 to
    # turn off, e.g. a test deployment on plain http). A plain-http request to a loopback
    # host (``make run`` on http://127.0.0.1) is local development: no Secure, no HSTS.
    secure_cookies: bool = True
    # Reverse proxies (addresses or CIDR networks, CLINTECH_TRUSTED_PROXIES, comma-separated)
    # whose X-Forwarded-For / X-Forwarded-Proto are believed; nobody else's are.
    trusted_proxies: tuple[str, ...] = ()


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


@functools.cache
def get_settings() -> Settings:
    var_dir = Path(os.environ.get("CLINTECH_VAR", ROOT / "var"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'clintech.sqlite3'}"
    plugins = tuple(
        p.strip()
        for p in os.environ.get("CLINTECH_PLUGINS", "jilin,hospital_default").split(",")
        if p.strip()
    )
    return Settings(
        database_url=database_url,
        plugins=plugins,
        var_dir=var_dir,
        storage_dir=Path(os.environ.get("CLINTECH_STORAGE", var_dir / "storage")),
        secret=_secret(var_dir),
        session_hours=int(os.environ.get("CLINTECH_SESSION_HOURS", "8")),
        smtp_host=os.environ.get("CLINTECH_SMTP_HOST", ""),
        debug=os.environ.get("CLINTECH_DEBUG", "") == "1",
        jobs_inline=os.environ.get("CLINTECH_JOBS", "inline").strip().lower() != "separate",
        jobs_interval=_positive_int(os.environ.get("CLINTECH_JOBS_INTERVAL", ""), 60),
        max_request_bytes=int(os.environ.get("CLINTECH_MAX_REQUEST_BYTES", str(12 * 1024 * 1024))),
        secure_cookies=os.environ.get("CLINTECH_SECURE_COOKIES", "1").strip().lower() not in ("0", "false", "no", "off"),
        trusted_proxies=_networks(os.environ.get("CLINTECH_TRUSTED_PROXIES", "")),
    )


def _positive_int(value: str, default: int) -> int:
    try:
        return max(int(value), 1)
    except ValueError:
        return default
