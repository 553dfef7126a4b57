"""Secret environment values are never on a page or in an API list: they are revealed on
purpose (a POST, "view secrets" capability, audited), and editing works without revealing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sites.models import Site
from tenancy.models import AuditEvent
from tests.fixtures.api import api_as  # noqa: F401

SECRET = "c2VjcmV0LWtleS12YWx1ZQ"  # inside the site fixture's APP_KEY


def reveal_url(site: Site, name: str = "APP_KEY") -> str:
    return reverse("sites:env-reveal", kwargs={"org": "acme", "pk": site.pk, "name": name})


def page(client, site: Site, view: str = "detail") -> str:
    response = client.get(reverse(f"sites:{view}", kwargs={"org": "acme", "pk": site.pk}))
    return response.content.decode()


def test_the_site_page_masks_secrets_and_shows_ordinary_values(cast, site, client_for):
    html = page(client_for(cast.owner), site)
    assert SECRET not in html and "********" in html and "Reveal" in html
    assert "APP_DEBUG" in html and ">false<" in html


def test_the_environment_editor_masks_secrets(cast, site, client_for):
    html = page(client_for(cast.developer), site, "environment")
    assert SECRET not in html and 'value="********"' in html


@pytest.mark.parametrize(("role", "expected"), [
    ("owner", 200), ("manager", 200), ("developer", 200), ("viewer", 403), ("outsider", 404),
])
def test_it_reveals_a_secret_to_the_roles_that_may_view_secrets(cast, site, client_for, role,
                                                                 expected):
    response = client_for(cast.user(role)).post(reveal_url(site), HTTP_HX_REQUEST="true")
    assert response.status_code == expected
    assert (SECRET in response.content.decode()) == (expected == 200)


def test_a_reveal_is_audited_by_name_and_never_cached(cast, site, client_for):
    response = client_for(cast.developer).post(reveal_url(site))
    event = AuditEvent.objects.get(verb="site.secret_revealed")
    assert event.after == {"name": "APP_KEY"} and event.actor == cast.developer
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_a_reveal_needs_a_post_and_an_existing_name(cast, site, client_for):
    client = client_for(cast.developer)
    assert client.get(reveal_url(site)).status_code == 405
    assert client.post(reveal_url(site, "MISSING")).status_code == 404


def test_saving_the_masked_editor_keeps_the_stored_secret(cast, site, client_for):
    client = client_for(cast.developer)
    url = reverse("sites:environment", kwargs={"org": "acme", "pk": site.pk})
    rows = client.get(url).context["rows"]
    data = {f"env-{k}": v for k, v in rows.management_form.initial.items()}
    for i, row in enumerate(rows.initial + [{"name": "NEW_VAR", "value": "plain"}]):
        data |= {f"env-{i}-name": row["name"], f"env-{i}-value": row["value"]}
        if row.get("secret"):
            data[f"env-{i}-secret"] = "on"
    data["env-TOTAL_FORMS"] = str(len(rows.initial) + 1)
    client.post(url, data)
    assert Site.objects.get(pk=site.pk).env == {**site.env, "NEW_VAR": "plain"}


def test_a_masked_value_for_a_new_variable_is_refused(cast, site, api_as):  # noqa: F811
    response = api_as("developer").patch(f"/api/v1/sites/{site.pk}/", {"env": {"NEW": "********"}})
    assert response.status_code == 400
    assert Site.objects.get(pk=site.pk).env == site.env


def test_the_api_masks_secrets_and_reveals_on_purpose(site, api_as):  # noqa: F811
    api = api_as("developer")
    listed = api.get("/api/v1/sites/").content.decode()
    revealed = api.post(f"/api/v1/sites/{site.pk}/environment/reveal/", {"name": "APP_KEY"})
    assert SECRET not in listed and '"value":"false"' in listed.replace(" ", "")
    assert revealed.status_code == 200 and SECRET in revealed.json()["value"]
    assert revealed["Cache-Control"] == "no-store"


def test_the_api_refuses_a_reveal_to_viewers(site, api_as):  # noqa: F811
    response = api_as("viewer").post(f"/api/v1/sites/{site.pk}/environment/reveal/",
                                     {"name": "APP_KEY"})
    assert response.status_code == 403


def test_the_api_keeps_a_masked_secret_on_patch(site, api_as):  # noqa: F811
    body = {"env": {"APP_KEY": "********", "APP_DEBUG": "true"}}
    assert api_as("developer").patch(f"/api/v1/sites/{site.pk}/", body).status_code == 200
    assert Site.objects.get(pk=site.pk).env == {**site.env, "APP_DEBUG": "true"}
