"""Site pages: role matrix, tenant isolation, form validation, constant query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments import lifecycle
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from sites.models import Site
from tenancy.audit import Actor

FORM = {
    "name": "blog", "repository_url": "git@github.com:acme/blog.git", "branch": "main",
    "deploy_path": "/srv/blog", "web_dir": "public", "shared_dirs": "storage",
    "shared_files": ".env", "env": "APP_NAME=Blog\nDB_PASSWORD=hunter2-secret\n",
    "preset": "laravel", "run_migrations": "on", "reload_method": "php-fpm",
    "reload_command": "sudo -n systemctl reload php8.2-fpm", "releases_to_keep": "5",
}


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(f"sites:{name}", kwargs={"org": org, **kwargs})


@pytest.mark.parametrize(
    "role,expected",
    [("owner", 200), ("developer", 200), ("viewer", 200), ("outsider", 404), ("anonymous", 302)],
)
def test_it_shows_the_site_list_to_members_only(cast, site, client_for, role, expected):
    response = client_for(cast.user(role)).get(url("list"))
    assert response.status_code == expected


@pytest.mark.parametrize("role,expected", [("developer", 302), ("viewer", 403), ("outsider", 404)])
def test_it_lets_developers_create_sites(cast, server, client_for, role, expected):
    response = client_for(cast.user(role)).post(url("create"), {**FORM, "servers": [server.pk]})
    assert response.status_code == expected
    assert Site.objects.filter(name="blog").exists() == (expected == 302)


@pytest.mark.parametrize(
    "field,value",
    [("repository_url", "-oProxyCommand=x"), ("repository_url", "file:///srv/x.git"),
     ("branch", "--upload-pack=x"), ("branch", "main;id"), ("branch", "$(id)"),
     ("deploy_path", "/etc"), ("deploy_path", "/srv/../etc"), ("web_dir", "../"),
     ("shared_dirs", "storage\nstorage/app"), ("env", "LD_PRELOAD=/tmp/x.so"),
     ("env", "PATH=/tmp"), ("env", "GIT_DIR=/x"), ("releases_to_keep", "0")],
)
def test_it_refuses_hostile_values_in_the_form(cast, server, client_for, field, value):
    data = {**FORM, "servers": [server.pk], field: value}
    response = client_for(cast.developer).post(url("create"), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Site.objects.filter(name="blog").exists()


def test_it_refuses_servers_of_another_organization(cast, other_server, client_for):
    response = client_for(cast.owner).post(url("create"), {**FORM, "servers": [other_server.pk]})
    assert "servers" in response.context["form"].errors


def test_it_hides_another_organizations_site(cast, site, client_for):
    client = client_for(cast.outsider)
    assert client.get(url("detail", org="other", pk=site.pk)).status_code == 404
    assert client.post(url("deploy", org="other", pk=site.pk)).status_code == 404


def test_it_hides_env_values_from_viewers(cast, site, client_for):
    viewer_page = client_for(cast.viewer).get(url("detail", pk=site.pk)).content.decode()
    developer_page = client_for(cast.developer).get(url("detail", pk=site.pk)).content.decode()
    assert "APP_KEY" in viewer_page and "c2VjcmV0LWtleS12YWx1ZQ" not in viewer_page
    # Secret values are revealed on purpose only (tests/sites/test_reveal.py).
    assert "c2VjcmV0LWtleS12YWx1ZQ" not in developer_page


def test_it_shows_the_deploy_key_and_instructions(cast, site, client_for):
    page = client_for(cast.viewer).get(url("detail", pk=site.pk)).content.decode()
    assert site.deploy_key_public in page and "read-only" in page
    assert "PRIVATE KEY" not in page


def test_it_hides_buttons_from_viewers(cast, site, client_for):
    page = client_for(cast.viewer).get(url("detail", pk=site.pk)).content.decode()
    assert url("deploy", pk=site.pk) not in page and url("edit", pk=site.pk) not in page


@pytest.mark.parametrize("role,expected", [("manager", 302), ("developer", 403)])
def test_it_lets_managers_delete_sites(cast, site, client_for, role, expected):
    response = client_for(cast.user(role)).post(url("delete", pk=site.pk))
    assert response.status_code == expected
    assert Site.objects.filter(pk=site.pk).exists() == (expected == 403)


def test_it_keeps_the_stored_token_when_the_field_is_left_empty(cast, site, server, client_for):
    Site.objects.filter(pk=site.pk).update(https_token="")
    site.https_token = "tok-123456"
    site.save()
    client_for(cast.developer).post(url("edit", pk=site.pk), {**FORM, "servers": [server.pk]})
    assert Site.objects.get(pk=site.pk).https_token == "tok-123456"


def _deployed(site, cast, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        deployment = deployment_request(
            site=site, actor=Actor(user=cast.owner), trigger=Trigger.MANUAL, commit=f"{n:040x}"
        )
        lifecycle.deployment_claim(deployment.pk)
        Deployment.objects.filter(pk=deployment.pk).update(release=f"2030010100{n:04d}")
        lifecycle.deployment_finish(deployment_id=deployment.pk, status=Status.SUCCEEDED)


def test_it_lists_sites_in_constant_queries(cast, make_site, client_for, django_assert_num_queries):
    client = client_for(cast.viewer)
    make_site(name="one")
    client.get(url("list"))  # warm up (session, content types)
    with django_assert_num_queries(7) as first:  # the page's COUNT among them
        client.get(url("list"))
    for n in range(4):
        _deployed(make_site(name=f"more-{n}"), cast, 2)
    with django_assert_num_queries(len(first.captured_queries)):
        assert client.get(url("list")).status_code == 200


@pytest.mark.parametrize("role,expected", [("developer", 200), ("viewer", 403)])
def test_it_shows_the_edit_form_with_current_values(cast, site, client_for, role, expected):
    response = client_for(cast.user(role)).get(url("edit", pk=site.pk))
    assert response.status_code == expected
    if expected == 200:  # the environment has its own editor (tests/sites/test_env_editor.py)
        page = response.content.decode()
        assert site.repository_url in page and 'name="env"' not in page


def test_it_round_trips_the_edit_form_unchanged(cast, site, client_for):
    client = client_for(cast.developer)
    form = client.get(url("edit", pk=site.pk)).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["servers"] = [server.pk for server in form.initial["servers"]]
    assert client.post(url("edit", pk=site.pk), data).status_code == 302
    assert Site.objects.get(pk=site.pk).env == site.env


def test_it_renders_the_create_form_for_developers(cast, server, client_for):
    page = client_for(cast.developer).get(url("create")).content.decode()
    assert "web-1" in page and 'name="env"' in page


def test_it_shows_a_duplicate_name_as_a_form_error(cast, site, server, client_for):
    data = {**FORM, "name": site.name, "servers": [server.pk]}
    response = client_for(cast.developer).post(url("create"), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert Site.objects.filter(name=site.name).count() == 1
