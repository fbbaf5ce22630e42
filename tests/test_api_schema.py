"""The API's OpenAPI schema matches its behaviour (issue 12.9).

Schemathesis generates requests from ``/schema/openapi.json`` for every operation under
``/api/v1`` — valid ones and ones that break the schema — and sends them to the portal on
a real loopback server, with an institution's bearer token. No answer may be a server
error, an undocumented status, or a body that does not match its declared schema; a
request the schema forbids must be refused; a method the API does not offer answers 405
with ``Allow``."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

EXAMPLES = 30  # per operation (issue 12.9: "a few dozen")


@pytest.fixture(scope="module")
async def bearer(deployment):
    from tests.case_helpers import token_for

    _, token = await token_for(deployment["hospital_a"])
    return {"Authorization": f"Bearer {token}"}


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, unsupported_method]


def test_api_v1_answers_as_its_schema_says(live_server, bearer):
    """Every ``/api/v1`` operation, with data that fits its schema and data that does not."""
    schema = schemathesis.openapi.from_url(f"{live_server}/schema/openapi.json")
    operations = [result.ok() for result in schema.include(path_regex=r"^/api/v1/").get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} >= {
        ("POST", "/api/v1/cases"), ("GET", "/api/v1/catalog"), ("GET", "/api/v1/catalog/{technology_id}")}
    calls = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                case.call_and_validate(headers=bearer, checks=CHECKS)
                calls.append(case.operation.path)

            check()
    assert len(calls) >= len(operations) * EXAMPLES, "every operation got a few dozen requests"


async def test_the_schema_states_the_limits_the_api_enforces(live_server, anon, bearer):
    """The specific mismatches found by probing: an empty batch and one over 1,000 were
    allowed by the schema; ``scope`` was free text; 404 undocumented; TRACE → 405 without
    ``Allow``; the catalogue refused the institution's token."""
    import httpx

    async with httpx.AsyncClient(base_url=live_server) as client:
        spec = (await client.get("/schema/openapi.json")).json()
        batch = spec["components"]["schemas"]["CaseBatch"]["properties"]["cases"]
        assert (batch.get("minItems"), batch.get("maxItems")) == (1, 1000)
        params = {p["name"]: p for p in spec["paths"]["/api/v1/catalog"]["get"]["parameters"]}
        scope = params["scope"]["schema"]
        assert set(scope.get("enum") or [v for s in scope.get("oneOf", []) for v in s.get("enum", [])]) >= {
            "national", "provincial", "hospital"}
        assert "404" in spec["paths"]["/api/v1/catalog/{technology_id}"]["get"]["responses"]
        trace = await client.request("TRACE", "/api/v1/cases")
        assert trace.status_code == 405 and "POST" in trace.headers.get("allow", "")
        catalog = await client.get("/api/v1/catalog", headers=bearer)
        assert catalog.status_code == 200 and catalog.json()["count"] > 0
        empty = await client.post("/api/v1/cases", json={"cases": []}, headers=bearer)
        assert empty.status_code == 400 and empty.json()["problems"]
        nobody = await client.get("/api/v1/catalog", headers={"Authorization": "Bearer ct_not-a-token"})
        assert nobody.status_code == 401
