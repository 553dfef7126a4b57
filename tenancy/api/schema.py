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
