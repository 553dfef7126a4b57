"""The OpenAPI document and the docs page built from it."""

from __future__ import annotations

import re

import yaml


def test_it_serves_an_openapi_3_document_with_every_endpoint(client, db):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/servers/", "/api/v1/sites/{id}/deployments/",
            "/api/v1/deployments/{id}/log/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_it_lists_endpoints_on_the_docs_page_without_inline_scripts(client, db):
    response = client.get("/api/v1/docs/")
    html = response.content.decode()
    assert "/api/v1/sites/{id}/rollback/" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
