"""OpenAPI pieces drf-spectacular cannot infer, and the docs page (no JavaScript, no CDN)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import build_bearer_security_scheme_object

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tenancy.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="AUTHORIZATION",
                                                   token_prefix="Bearer")


# The answers every operation can give besides its own: a body the serializers refuse (400), no
# or a bad token (401), an ability or role short of the operation (403), an object outside the
# token's organization (404), a body over the transport limit (413, deploynix/bodylimit.py).
ERROR_RESPONSES = {
    "400": ("Invalid input: field names with their errors, or `detail`.", "ValidationError"),
    "401": ("No token, or an unknown, expired or revoked one.", "ErrorDetail"),
    "403": ("The token lacks the ability, or its user the role.", "ErrorDetail"),
    "404": ("No such object in the token's organization.", "ErrorDetail"),
    "413": ("The request body is larger than the configured limit.", "ErrorDetail"),
}
ERROR_SCHEMAS = {
    "ErrorDetail": {
        "type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "additionalProperties": {"oneOf": [
            {"type": "array", "items": {"type": "string"}}, {"type": "string"}, {"type": "object"},
        ]},
    },
}


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: add ERROR_RESPONSES to every operation that does
    not describe them itself, so clients (and schemathesis) know every status they can get."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for item in result.get("paths", {}).values():
        for method in HTTP_METHODS:
            responses = item.get(method, {}).get("responses")
            if responses is None:
                continue
            for status, (description, schema) in ERROR_RESPONSES.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/json": {
                        "schema": {"$ref": f"#/components/schemas/{schema}"},
                    }},
                })
    return result


def api_endpoints(schema: dict) -> list[dict]:
    """Flatten an OpenAPI document into rows (path, method, summary, auth) for the docs page."""
    rows = []
    for path, item in schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            auth = sorted({name for req in op.get("security", []) for name in req})
            rows.append({"path": path, "method": method.upper(), "auth": ", ".join(auth),
                         "summary": op.get("summary") or op.get("description", "")[:120],
                         "operation_id": op.get("operationId", "")})
    return rows


def api_docs(request: HttpRequest) -> HttpResponse:
    """A plain HTML list of the endpoints, generated from the same schema as /schema/."""
    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    return render(request, "tokens/api_docs.html",
                  {"endpoints": api_endpoints(schema), "info": schema.get("info", {})})
