"""A site's health check: form, API and service bound every field, edits are audited, and the
deploy context carries it (the pipeline's probes: tests/pipeline/test_health_gate.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deployments.context_builder import _health_check, _server_spec
from deployments.pipeline.context import HealthCheck
from sites.services import site_update
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tests.sites.test_views import FORM

GATE = {
    "health_check_enabled": "on", "health_check_path": "/up", "health_check_status": "204",
    "health_check_body": "", "health_check_timeout": "3", "health_check_scheme": "http",
    "health_check_address": "127.0.0.1", "health_check_port": "8080",
}
HOSTILE = [
    ("health_check_path", "up"), ("health_check_path", "/a b"), ("health_check_path", "/a\nb"),
    ("health_check_status", "99"), ("health_check_status", "600"),
    ("health_check_timeout", "0"), ("health_check_timeout", "31"),
    ("health_check_port", "70000"), ("health_check_scheme", "gopher"),
    ("health_check_body", "ok\r\nX-Injected: 1"), ("health_check_address", "host;id"),
    ("health_check_address", "-oProxyCommand=x"),
]


def edit_url(site) -> str:
    return reverse("sites:edit", kwargs={"org": "acme", "pk": site.pk})


def test_it_saves_the_health_check_from_the_form_and_audits_it(cast, site, server, client_for):
    data = {**FORM, "name": site.name, "servers": [server.pk], **GATE}
    response = client_for(cast.developer).post(edit_url(site), data)
    site.refresh_from_db()
    assert response.status_code == 302
    assert (site.health_check_enabled, site.health_check_path, site.health_check_port) == (
        True, "/up", 8080)
    event = AuditEvent.objects.filter(verb="site.updated").latest("id")
    assert event.after["health_check_path"] == "/up"


def test_it_keeps_the_defaults_when_the_section_is_left_empty(cast, site, server, client_for):
    data = {**FORM, "name": site.name, "servers": [server.pk]}
    assert client_for(cast.developer).post(edit_url(site), data).status_code == 302
    site.refresh_from_db()
    assert (site.health_check_enabled, site.health_check_path, site.health_check_timeout) == (
        False, "/", 5)


@pytest.mark.parametrize("field,value", HOSTILE)
def test_it_refuses_unbounded_values_in_the_form(cast, site, server, client_for, field, value):
    data = {**FORM, "name": site.name, "servers": [server.pk], **GATE, field: value}
    response = client_for(cast.developer).post(edit_url(site), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    site.refresh_from_db()
    assert site.health_check_enabled is False  # nothing half-written


@pytest.mark.parametrize("field,value", HOSTILE)
def test_it_refuses_unbounded_values_in_the_service(site, field, value):
    with pytest.raises(ValidationError) as refused:
        site_update(site=site, actor=Actor.system(), **{field: value})
    assert field in refused.value.message_dict


def test_it_shows_the_health_check_section_on_the_edit_page(cast, site, client_for):
    page = client_for(cast.developer).get(edit_url(site)).content.decode()
    assert '<legend>Health check</legend>' in page and 'name="health_check_path"' in page


def test_it_builds_the_probe_from_the_site(site, server):
    site_update(site=site, actor=Actor.system(), health_check_enabled=True,
                health_check_path="/up", health_check_body="ok", health_check_port=8080)
    check, spec = _health_check(site), _server_spec(server, site)
    assert check == HealthCheck(path="/up", expected_status=200, body_text="ok", timeout=5.0,
                                host="shop.example.test", scheme="http")
    assert (spec.web_address, spec.web_port) == ("127.0.0.1", 8080)


def test_it_builds_no_probe_while_the_check_is_off(site):
    assert _health_check(site) is None
