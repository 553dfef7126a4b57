"""Every status the API answers is documented: schemathesis checks each generated response's
status against the schema (400, 401, 403, 404 and the transport's 413 included)."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tenancy.api.schema import ERROR_RESPONSES
from tests.deploynix.test_api_fuzz_schema import api_schema, owner_token  # noqa: F401 (fixtures)


def test_every_operation_documents_the_error_answers(client, db):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    operations = [op for item in schema["paths"].values() for op in item.values()
                  if isinstance(op, dict) and "responses" in op]
    assert len(operations) >= 15
    assert all(set(ERROR_RESPONSES) <= set(op["responses"]) for op in operations)
    assert schema["components"]["schemas"]["ErrorDetail"]["required"] == ["detail"]


def conform(operation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                               checks=[not_a_server_error, status_code_conformance])

    check()


def test_every_answer_has_a_documented_status(api_schema, owner_token):  # noqa: F811
    for result in api_schema.get_all_operations():
        conform(result.ok(), owner_token)
