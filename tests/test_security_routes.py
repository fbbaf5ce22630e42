"""Every route of the app (from its route table, plugin routes included) answers hostile
input without a server error (issue 12.5 and "Done means").

Three walks, each over ``app.routes`` — a new route is covered the day it is added:

* an over-range id in every int path parameter (beyond 64 bits, and 2^31 which a
  PostgreSQL ``integer`` column cannot hold) → 404, never 5xx or "数据库暂时无法连接";
* every unsafe method with a form whose fields (every field name the templates use and
  every parameter the handler declares) hold over-range numbers, words where numbers
  go and unpaired surrogates → 4xx with a Chinese message or a normal answer, never 5xx;
* a foreign record (the tenancy matrix's factories, ``tests/test_tenancy.py``) with those
  hostile forms, as hospital A's users → 404.

Run as anonymous, as a hospital user, as a regulator and as the admin.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_tenancy import (
    _PARAM,
    HOSPITAL_A_USERS,
    TENANT_ROUTES,
    _id_routes,
    client_for,  # noqa: F401  (fixture)
    fill,
    full_app,  # noqa: F401  (fixture)
    methods_of,
)

ROOT = Path(__file__).resolve().parent.parent
OVER_RANGE = (2**64 + 7, 2**63, 2**31)
# Numbers far beyond 64 bits, words where numbers go, the first id PostgreSQL's integer cannot hold.
HOSTILE_VALUES = ("99999999999999999999999999", "abc", "2147483648")
USERS = ("clinician_a", "medaffairs_a", "regulator_province", "admin")
# Posting these would end the walking client's own session.
SKIP_UNSAFE = {"/logout"}


def _template_fields() -> list[str]:
    names: set[str] = set()
    for path in [*ROOT.glob("web/templates/**/*.html"), *ROOT.glob("plugins/*/templates/**/*.html")]:
        names |= set(re.findall(r'name="([a-z_0-9]+)"', path.read_text()))
    return sorted(names - {"viewport", "_csrf_token"})


FIELDS = _template_fields()


def _handler_params(route, method: str) -> list[str]:
    handler = next(h for h in route.route_handlers if method in h.http_methods)
    params = handler.parsed_fn_signature.parameters
    skip = {"request", "actor", "hooks", "layout", "data", "token_actor", "self", "socket", "state", "headers"}
    return [name for name in params if name not in skip and name not in route.path_parameters]


def _over_range_path(path: str, value: int) -> str:
    def sub(match: re.Match) -> str:
        kind = match.group(0).split(":")[-1].rstrip("}")
        return str(value) if kind == "int" else "x"
    return _PARAM.sub(sub, path)


def _hostile_form(value: str) -> dict:
    return {name: value for name in FIELDS}


def _assert_no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what} → {response.status_code}: {response.text[:300]}"
    assert "数据库暂时无法连接" not in response.text, f"{what}: a false database outage"


def _routes(app) -> list:
    return [r for r in app.routes if not r.path.startswith(("/static", "/schema"))]


async def _clients(make_client, anon_client):
    return [("anonymous", anon_client)] + [(u, await make_client(u)) for u in USERS]


@pytest.fixture
async def anon_full(full_app):  # noqa: F811
    import httpx

    from tests.fixtures import PortalClient

    async with PortalClient(transport=httpx.ASGITransport(app=full_app, client=("127.0.0.7", 1)),
                            base_url="http://testserver") as client:
        yield client


def test_the_walk_covers_the_route_table(full_app):  # noqa: F811
    """The instrument: the walk sees every route with an int id (a sample of known ones)
    and the hostile form names the fields the handlers read."""
    paths = {r.path for r in _routes(full_app)}
    assert {"/admission/projects/{project_id:int}/step", "/public/institutions/{institution_id:int}",
            "/files/{attachment_id:int}", "/cases/upload", "/api/v1/cases"} <= paths
    assert {"version", "year", "project_id", "technology_id", "institution", "region"} <= set(FIELDS)


async def test_over_range_ids_in_every_route_answer_404_never_5xx(deployment, full_app, client_for,  # noqa: F811
                                                                 anon_full):
    """Issue 12.5: ids beyond 64 bits → 500 on SQLite on every id route (anonymous public
    pages too), ids ≥ 2^31 → 503 "数据库暂时无法连接" on PostgreSQL."""
    walked = 0
    for name, client in await _clients(client_for, anon_full):
        for route in _routes(full_app):
            if ":int}" not in route.path:
                continue
            for value in OVER_RANGE:
                url = _over_range_path(route.path, value)
                for method in methods_of(route):
                    if route.path in SKIP_UNSAFE:
                        continue
                    response = await client.request(method, url, data=_hostile_form(str(value)))
                    _assert_no_server_error(response, f"{name} {method} {url}")
                    if name != "anonymous" or response.status_code != 303:
                        assert response.status_code in (401, 404), f"{name} {method} {url} → {response.status_code}"
                    walked += 1
    assert walked > 100


async def test_hostile_forms_and_query_strings_on_every_route_never_5xx(deployment, full_app, client_for,  # noqa: F811
                                                                       anon_full):
    """Issue 12.5: over-range numbers and words in form fields and query parameters (year,
    project_id, a non-numeric ``version`` …) → 400/404/422 with a Chinese message."""
    failures: list[str] = []
    for name, client in await _clients(client_for, anon_full):
        for route in _routes(full_app):
            if route.path in SKIP_UNSAFE:
                continue
            url = _over_range_path(route.path, 1)
            for method in methods_of(route):
                if name == "admin" and method != "GET":
                    continue  # the admin's forms legitimately create regions, catalogues …
                params = _handler_params(route, method)
                for value in HOSTILE_VALUES:
                    query = {p: value for p in params}
                    if method == "GET":
                        response = await client.get(url, params=query)
                    else:
                        response = await client.request(method, url, params=query, data=_hostile_form(value))
                    if response.status_code >= 500 or "数据库暂时无法连接" in response.text:
                        failures.append(f"{name} {method} {url} {value!r} → {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", sorted(TENANT_ROUTES))
async def test_foreign_records_with_hostile_forms_answer_404(deployment, full_app, client_for, path):  # noqa: F811
    spec = TENANT_ROUTES[path]
    route = _id_routes(full_app)[path]
    foreign = fill(path, await spec.record(deployment, deployment["hospital_b"]))
    for username in HOSPITAL_A_USERS:
        client = await client_for(username)
        for method in methods_of(route):
            for value in HOSTILE_VALUES[:2]:
                response = await (client.get(foreign) if method == "GET"
                                  else client.request(method, foreign, data=_hostile_form(value)))
                _assert_no_server_error(response, f"{username} {method} {foreign}")
                assert response.status_code == 404, f"{username} {method} {foreign} → {response.status_code}"
