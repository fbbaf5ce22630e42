"""The portal's static files (CSS, scripts, the default emblem) under URLs that carry their
content's hash, so a browser keeps them for a year and asks for them again only when they
change (a new release).

* ``{{ asset("app.css") }}`` in a template is ``/static/app.css?v=<12 hex digits of its
  SHA-256>``; the hash is computed once per file version (its size and mtime), not per page.
* ``cache_control``: a ``/static/`` answer whose ``v`` is the file's current hash is
  ``Cache-Control: public, max-age=31536000, immutable``; any other (no ``v``, or the hash of
  an earlier release) is ``no-cache``, i.e. revalidated by its ETag each time, so an old URL
  never pins an old file for a year. ``web/security.py``'s middleware, which decides every
  answer's Cache-Control, applies it.

Before, static files had no Cache-Control: browsers kept them for a share of their age since
Last-Modified (heuristic freshness), so after a release a browser could run an old script.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

STATIC = Path(__file__).parent / "static"
PREFIX = "/static/"
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


@lru_cache(maxsize=128)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def version(name: str) -> str | None:
    """The current hash of ``web/static/<name>``; None for a name outside it or no file."""
    path = (STATIC / name).resolve()
    if STATIC.resolve() not in path.parents:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


def asset(name: str) -> str:
    """The URL of ``web/static/<name>`` for a template, with its hash when the file exists."""
    digest = version(name)
    return f"{PREFIX}{name}?v={digest}" if digest else f"{PREFIX}{name}"


def cache_control(path: str, query: bytes) -> bytes:
    """The Cache-Control of a ``/static/`` answer for ``path`` and its query string."""
    asked = parse_qs(query.decode("latin-1")).get("v", [None])[0]
    return IMMUTABLE if asked is not None and asked == version(path[len(PREFIX):]) else REVALIDATE

