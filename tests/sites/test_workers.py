"""A site's workers: bounded, audited services; pages and API under the manage-workers
capability (every role, outsiders 404); the deploy context they become."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deployments.context_builder import _workers, worker_group
from sites.models import Site, Worker
from sites.services import worker_create
from sites.validators import MAX_WORKERS
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, ROLES, allowed, api_status, assert_page_access

QUEUE = {"name": "queue", "command": "php artisan queue:work --sleep=3", "processes": 2}


@pytest.fixture
def worker(site, cast) -> Worker:
    return worker_create(site=site, actor=Actor(user=cast.manager), **QUEUE)


def page(name: str, site, **kwargs) -> str:
    return reverse(f"sites:{name}", kwargs={"org": "acme", "pk": site.pk, **kwargs})


def test_it_creates_an_audited_worker_and_marks_the_site_managed(worker, site):
    event = AuditEvent.objects.get(verb="worker.created")
    assert event.after["command"] == QUEUE["command"] and event.after["processes"] == 2
    assert Site.objects.get(pk=site.pk).workers_managed


@pytest.mark.parametrize("field,value", [
    ("name", "Queue!"), ("name", "x" * 41), ("command", "php 'unclosed"),
    ("command", "a\nb"), ("command", "x" * 501), ("command", "--help"), ("processes", 0),
    ("processes", 33), ("stop_wait_seconds", 601),
])
def test_it_refuses_unbounded_or_unsplittable_values(site, cast, field, value):
    with pytest.raises(ValidationError) as refused:
        worker_create(site=site, actor=Actor(user=cast.manager), **{**QUEUE, field: value})
    assert field in refused.value.message_dict
    assert not Worker.objects.exists()


def test_an_octane_server_is_one_process_and_may_omit_its_command(site, cast):
    octane = worker_create(site=site, actor=Actor(user=cast.manager), name="web", kind="octane",
                           octane_server="swoole", command="")
    with pytest.raises(ValidationError):
        worker_create(site=site, actor=Actor(user=cast.manager), name="web2", kind="octane",
                      processes=2)
    [spec] = _workers(site)
    assert (spec.command, spec.octane) == (
        "php artisan octane:start --server=swoole --host=127.0.0.1 --port=8000", "swoole")
    assert octane.is_octane


def test_a_site_has_a_bounded_number_of_workers(site, cast):
    for n in range(MAX_WORKERS):
        worker_create(site=site, actor=Actor(user=cast.manager), name=f"w{n}", command="sleep 9")
    with pytest.raises(ValidationError, match="at most"):
        worker_create(site=site, actor=Actor(user=cast.manager), name="one-more", command="sleep 9")


def test_the_context_names_programs_by_site_and_keeps_the_order(worker, site):
    [spec] = _workers(site)
    assert spec.program == f"{worker_group(site)}-queue" == f"deploynix-site{site.pk}-queue"
    assert (spec.processes, spec.stop_wait) == (2, 10)


# (name, method, url name, needs a worker)
PAGES = [
    ("create form", "get", "worker-create", False),
    ("create", "post", "worker-create", False),
    ("edit form", "get", "worker-edit", True),
    ("edit", "post", "worker-edit", True),
    ("delete", "post", "worker-delete", True),
]


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("name,method,url_name,needs", PAGES, ids=[p[0] for p in PAGES])
def test_the_pages_apply_the_role_matrix(cast, site, worker, client_for, role, name, method,
                                         url_name, needs):
    url = page(url_name, site, **({"worker_id": worker.pk} if needs else {}))
    body = {**QUEUE, "name": "other", "kind": "command", "stop_wait_seconds": 5}
    response = getattr(client_for(cast.user(role)), method)(url, body if method == "post" else None)
    assert_page_access(response, Cap.MANAGE_WORKERS, role, ok=200 if method == "get" else 302)


def test_the_site_page_lists_workers_and_offers_edits_to_managers_only(cast, site, worker,
                                                                      client_for):
    as_manager = client_for(cast.manager).get(page("detail", site)).content.decode()
    as_developer = client_for(cast.developer).get(page("detail", site)).content.decode()
    assert QUEUE["command"] in as_manager and QUEUE["command"] in as_developer
    assert page("worker-create", site) in as_manager
    assert page("worker-create", site) not in as_developer


def test_the_form_shows_errors_and_saves_nothing(cast, site, client_for):
    response = client_for(cast.manager).post(page("worker-create", site), {
        **QUEUE, "command": "php 'unclosed", "kind": "command", "stop_wait_seconds": 5})
    assert response.status_code == 200 and b"Cannot split the command" in response.content
    assert not Worker.objects.exists()


def test_a_worker_is_found_only_under_its_own_site(cast, site, worker, client_for, make_site):
    other = make_site(name="other", deploy_path="/var/www/other")
    url = page("worker-edit", other, worker_id=worker.pk)
    assert client_for(cast.manager).get(url).status_code == 404


API_CASES = [
    ("get", "", None, Cap.VIEW, 200),
    ("post", "", {"name": "other", "command": "sleep 9"}, Cap.MANAGE_WORKERS, 201),
    ("get", "{worker}/", None, Cap.VIEW, 200),
    ("patch", "{worker}/", {"processes": 3}, Cap.MANAGE_WORKERS, 200),
    ("delete", "{worker}/", None, Cap.MANAGE_WORKERS, 204),
]


@pytest.mark.parametrize("who", [*ROLES, "outsider", "anonymous"])
@pytest.mark.parametrize("method,suffix,body,cap,ok", API_CASES,
                         ids=[f"{c[0]} {c[1] or 'list'}" for c in API_CASES])
def test_the_api_applies_the_role_matrix(api_as, site, worker, who, method, suffix, body, cap,
                                         ok):
    url = f"/api/v1/sites/{site.pk}/workers/" + suffix.format(worker=worker.pk)
    api = api_as(who)
    response = getattr(api, method)(url, body) if body is not None else getattr(api, method)(url)
    assert response.status_code == api_status(cap, who, ok), response.content
    if method != "get" and not allowed(cap, who):
        assert Worker.objects.get(pk=worker.pk).processes == 2  # unchanged, not deleted


def test_the_api_refuses_bad_values_with_field_errors(api_as, site):
    response = api_as("manager").post(f"/api/v1/sites/{site.pk}/workers/",
                                      {"name": "queue", "command": "php 'unclosed"})
    assert response.status_code == 400 and "command" in response.json()


def test_the_site_page_and_the_api_list_workers_in_constant_queries(
        cast, site, client_for, api_as, django_assert_max_num_queries):
    client, api = client_for(cast.manager), api_as("manager")
    worker_create(site=site, actor=Actor(user=cast.manager), name="one", command="sleep 9")
    page_queries = _count(lambda: client.get(page("detail", site)))
    api_queries = _count(lambda: api.get(f"/api/v1/sites/{site.pk}/workers/"))
    for n in range(5):
        worker_create(site=site, actor=Actor(user=cast.manager), name=f"w{n}", command="sleep 9")
    with django_assert_max_num_queries(page_queries):
        client.get(page("detail", site))
    with django_assert_max_num_queries(api_queries):
        api.get(f"/api/v1/sites/{site.pk}/workers/")


def _count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries.captured_queries)


def test_the_site_delete_page_warns_that_workers_keep_running(cast, site, worker, client_for):
    response = client_for(cast.manager).get(page("delete", site))
    assert b"Its workers keep running on the servers" in response.content


def test_an_octane_server_listens_on_its_own_port(site, cast):
    worker_create(site=site, actor=Actor(user=cast.manager), name="web", kind="octane",
                  octane_server="roadrunner", octane_port=8043)
    [spec] = _workers(site)
    assert spec.command == (
        "php artisan octane:start --server=roadrunner --host=127.0.0.1 --port=8043")


@pytest.mark.parametrize("port", [80, 1023, 65536])
def test_an_octane_port_is_an_unprivileged_port(site, cast, port):
    with pytest.raises(ValidationError) as refused:
        worker_create(site=site, actor=Actor(user=cast.manager), name="web", kind="octane",
                      octane_port=port)
    assert "octane_port" in refused.value.message_dict
