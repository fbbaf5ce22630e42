"""The static files under content-hashed URLs (web/assets.py): a page names each file with the
hash of what is on disk, that URL is cached for a year, any other URL of a static file is
revalidated, and no template names a static file by a bare path."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from web import assets

ROOT = Path(__file__).resolve().parent.parent
ASSET_URL = re.compile(r'(?:href|src)="/static/([^"?]+)\?v=([0-9a-f]{12})"')


def _sha(name: str) -> str:
    return hashlib.sha256((assets.STATIC / name).read_bytes()).hexdigest()[:12]


async def test_a_page_names_every_static_file_by_the_hash_of_its_content(deployment, login_as, anon):
    for client, path in ((await login_as("medaffairs_a"), "/cases"), (anon, "/login")):
        named = dict(ASSET_URL.findall((await client.get(path)).text))
        assert set(named) >= {"app.css", "app.js", "vendor/htmx.min.js", "emblem.svg"}, path
        assert named == {name: _sha(name) for name in named}, path


async def test_the_hashed_url_is_kept_a_year_and_any_other_is_revalidated(deployment, login_as, anon):
    user = await login_as("medaffairs_a")
    for client in (anon, user):  # a logged-in browser's static files are not no-store
        current = await client.get(assets.asset("app.css"))
        assert current.status_code == 200 and current.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert current.content == (assets.STATIC / "app.css").read_bytes()
        for other in ("/static/app.css", "/static/app.css?v=000000000000", "/static/app.css?x=1"):
            answer = await client.get(other)
            assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache", other
            assert answer.headers.get("etag"), other  # what the browser revalidates with
    # A page stays no-store for a logged-in browser (web/security.py).
    assert (await user.get("/cases")).headers["cache-control"] == "no-store"


async def test_an_unknown_or_escaping_name_has_no_hash(deployment, anon):
    assert assets.version("no-such-file.css") is None and assets.asset("no-such-file.css") == "/static/no-such-file.css"
    assert assets.version("../app.py") is None and assets.version("/etc/passwd") is None
    for escaping in ("/static/%2E%2E/app.py", "/static/..%2Fapp.py"):  # sent encoded, as a client may
        assert (await anon.get(escaping)).status_code == 404, escaping


def test_the_hash_follows_the_file_when_it_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "STATIC", tmp_path)
    (tmp_path / "x.css").write_text("a{}")
    before = assets.asset("x.css")
    (tmp_path / "x.css").write_text("b{ }")  # another size: another version of the file
    after = assets.asset("x.css")
    assert before != after and after == f"/static/x.css?v={hashlib.sha256(b'b{ }').hexdigest()[:12]}"


def test_no_template_names_a_static_file_without_its_hash():
    """Templates of core and of the shipped plugins write ``{{ asset("…") }}``; a bare
    ``/static/…`` would be revalidated on every page view."""
    bare = [f"{path.relative_to(ROOT)}: {line.strip()}"
            for directory in (ROOT / "web" / "templates", ROOT / "plugins")
            for path in directory.rglob("*.html")
            for line in path.read_text(encoding="utf-8").splitlines() if re.search(r"[\"'(]/static/", line)]
    assert bare == []
