"""/api/v1/sites/<id>/: the health check fields, bounded by the serializer and the services."""

from __future__ import annotations

import pytest

from tests.sites.test_api import LIST, site  # noqa: F401  (fixtures)


def test_it_sets_and_shows_the_health_check(api_as, site):  # noqa: F811
    patch = {"health_check_enabled": True, "health_check_path": "/up",
             "health_check_timeout": 10, "health_check_port": 8080}
    response = api_as("developer").patch(f"{LIST}{site.pk}/", patch)
    assert response.status_code == 200
    shown = api_as("viewer").get(f"{LIST}{site.pk}/").json()
    assert {name: shown[name] for name in patch} == patch


@pytest.mark.parametrize("field,value", [
    ("health_check_timeout", 31), ("health_check_timeout", 0), ("health_check_port", 0),
    ("health_check_path", "/a b"), ("health_check_status", 700), ("health_check_scheme", "ftp"),
    ("health_check_address", "a b"),
])
def test_it_answers_400_for_unbounded_values(api_as, site, field, value):  # noqa: F811
    response = api_as("developer").patch(f"{LIST}{site.pk}/", {field: value})
    assert response.status_code == 400 and field in response.json()


def test_it_lets_viewers_not_change_the_health_check(api_as, site):  # noqa: F811
    response = api_as("viewer").patch(f"{LIST}{site.pk}/", {"health_check_enabled": True})
    assert response.status_code == 403
    site.refresh_from_db()
    assert site.health_check_enabled is False
