"""/api/v1/sites/: role matrix, scoping, no secrets out, validation through the services."""

from __future__ import annotations

import pytest

from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor

LIST = "/api/v1/sites/"
NEW = {"name": "api-site", "repository_url": "git@github.com:acme/api.git",
       "deploy_path": "/srv/api", "branch": "main"}


@pytest.fixture
def site(make_site) -> Site:
    """The shared site, with secrets the API must never send out."""
    return make_site(env={"APP_KEY": "s3cret-value"}, https_token="tok-s3cret")


@pytest.fixture
def foreign_site(cast, other_server) -> Site:
    return site_create(organization=cast.other_org, actor=Actor(user=cast.outsider),
                       servers=[other_server], name="theirs", deploy_path="/srv/theirs",
                       repository_url="git@github.com:other/theirs.git")


@pytest.mark.parametrize("who,expected", [("owner", 200), ("viewer", 200), ("anonymous", 401)])
def test_it_lists_sites(api_as, site, who, expected):
    response = api_as(who).get(LIST)
    assert response.status_code == expected
    if expected == 200:
        assert [s["name"] for s in response.json()["results"]] == ["shop"]


def test_it_never_returns_secrets(api_as, site):
    body = api_as("owner").get(f"{LIST}{site.pk}/").content.decode()
    assert "s3cret" not in body and "PRIVATE KEY" not in body
    assert "APP_KEY" in body and site.deploy_key_public.split()[1] in body


def test_it_shows_the_webhook_urls(api_as, site):
    urls = api_as("viewer").get(f"{LIST}{site.pk}/").json()["webhook_urls"]
    assert urls["github"].endswith(f"/hooks/{site.webhook_uuid}/github")


@pytest.mark.parametrize("who,expected", [("developer", 201), ("viewer", 403),
                                          ("anonymous", 401)])
def test_it_creates_sites_for_developers_and_up(api_as, server, who, expected):
    response = api_as(who).post(LIST, {**NEW, "servers": [server.pk]})
    assert response.status_code == expected
    assert Site.objects.filter(name="api-site").exists() == (expected == 201)


def test_it_refuses_another_organizations_server(api_as, foreign_site):
    theirs = foreign_site.servers.get()
    response = api_as("owner").post(LIST, {**NEW, "servers": [theirs.pk]})
    assert response.status_code == 400
    assert "servers" in response.json()


def test_it_answers_400_with_the_services_field_errors(api_as, server):
    response = api_as("owner").post(LIST, {**NEW, "branch": "main; rm -rf /",
                                           "servers": [server.pk]})
    assert response.status_code == 400
    assert "branch" in response.json()


@pytest.mark.parametrize("who,expected", [("developer", 200), ("viewer", 403)])
def test_it_updates_sites_for_developers_and_up(api_as, site, who, expected):
    response = api_as(who).patch(f"{LIST}{site.pk}/", {"branch": "release"})
    assert response.status_code == expected
    site.refresh_from_db()
    assert (site.branch == "release") == (expected == 200)


@pytest.mark.parametrize("who,expected", [("manager", 204), ("developer", 403)])
def test_it_deletes_sites_for_managers_and_up(api_as, site, who, expected):
    assert api_as(who).delete(f"{LIST}{site.pk}/").status_code == expected
    assert Site.objects.filter(pk=site.pk).exists() == (expected == 403)


def test_it_answers_404_for_another_organizations_site(api_as, foreign_site):
    for path in ("", "releases/", "deployments/"):
        assert api_as("owner").get(f"{LIST}{foreign_site.pk}/{path}").status_code == 404
    assert api_as("owner").post(f"{LIST}{foreign_site.pk}/deployments/").status_code == 404


@pytest.mark.parametrize("who,expected", [("developer", 200), ("viewer", 403)])
def test_it_shows_the_webhook_secret_to_developers_and_up(api_as, site, who, expected):
    response = api_as(who).get(f"{LIST}{site.pk}/webhook/")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["secret"].startswith("whsec_")


def test_it_rotates_the_webhook_secret(api_as, site):
    api = api_as("developer")
    before = api.get(f"{LIST}{site.pk}/webhook/").json()["secret"]
    after = api.post(f"{LIST}{site.pk}/webhook/").json()["secret"]
    assert after != before and api.get(f"{LIST}{site.pk}/webhook/").json()["secret"] == after


def test_it_lists_sites_in_constant_queries(api_as, cast, server, django_assert_max_num_queries):
    for n in range(5):
        site_create(organization=cast.org, actor=Actor(user=cast.owner), servers=[server],
                    name=f"s{n}", repository_url="git@github.com:acme/x.git",
                    deploy_path=f"/srv/s{n}")
    api = api_as("viewer")
    with django_assert_max_num_queries(7):
        api.get(LIST)
