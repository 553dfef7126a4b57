"""Scheduled deploys over the API: list, create, cancel; role matrix, field errors, 409s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from schedules.models import ScheduledDeploy
from schedules.services import schedule_cancel, schedule_create, schedule_fire
from sites.services import site_create
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import ROLES, allowed

SHA = "c" * 40
# (method, path, body, the capability it needs)
ENDPOINTS = [
    ("get", "/api/v1/sites/{site}/schedules/", None, Cap.VIEW),
    ("post", "/api/v1/sites/{site}/schedules/", "future", Cap.DEPLOY),
    ("post", "/api/v1/schedules/{schedule}/cancel/", None, Cap.DEPLOY),
]


def later(**delta) -> str:
    """An ISO 8601 time with a +02:00 offset, `delta` from now (default: one hour ahead)."""
    moment = timezone.now() + (timedelta(**delta) if delta else timedelta(hours=1))
    return moment.astimezone(timezone.get_fixed_timezone(120)).isoformat()


def scheduled(cast, site, hours: float = 1.0) -> ScheduledDeploy:
    return schedule_create(
        site=site, actor=Actor(user=cast.developer), run_at=timezone.now() + timedelta(hours=hours)
    )


def call(api, cast, site, method: str, path: str, body):
    url = path.format(site=site.pk, schedule=scheduled(cast, site).pk)
    if body == "future":
        return api.post(url, {"run_at": later()})
    return getattr(api, method)(url)


@pytest.mark.parametrize("method,path,body,cap", ENDPOINTS)
@pytest.mark.parametrize("who", sorted(ROLES))
def test_it_applies_the_role_matrix(api_as, cast, site, method, path, body, cap, who):
    response = call(api_as(who), cast, site, method, path, body)
    if allowed(cap, who):
        assert response.status_code < 300, response.content
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("method,path,body", [e[:3] for e in ENDPOINTS])
def test_it_answers_404_to_another_organizations_token(api_as, cast, site, method, path, body):
    assert call(api_as("outsider"), cast, site, method, path, body).status_code == 404


@pytest.mark.parametrize("method,path,body", [e[:3] for e in ENDPOINTS])
def test_it_answers_401_without_a_token(api_as, cast, site, method, path, body):
    assert call(api_as("anonymous"), cast, site, method, path, body).status_code == 401


def test_it_schedules_a_commit_in_utc_and_audits_it_as_the_token_user(api_as, cast, site):
    run_at = later(days=2)
    response = api_as("developer").post(
        f"/api/v1/sites/{site.pk}/schedules/", {"run_at": run_at, "commit": SHA.upper()}
    )
    schedule = ScheduledDeploy.objects.get(pk=response.json()["id"])
    assert (response.status_code, schedule.commit, schedule.created_by) == (
        201,
        SHA,
        cast.developer,
    )
    assert response.json()["run_at"] == datetime.fromisoformat(run_at).astimezone(UTC).isoformat()
    assert AuditEvent.objects.filter(
        verb="schedule.created", source="api", actor=cast.developer
    ).exists()


@pytest.mark.parametrize(
    "body,field,words",
    [
        ({"run_at": "2030-01-01T10:00:00"}, "run_at", "UTC offset"),
        ({"run_at": later(hours=-1)}, "run_at", "future"),
        ({"run_at": "next tuesday"}, "run_at", "like"),
        ({"run_at": 1893456000}, "run_at", "text"),
        ({"run_at": "9999-12-31T23:59:00-05:00"}, "run_at", "range"),
        ({}, "run_at", "required"),
        ({"run_at": later(days=30), "commit": "abc123"}, "commit", "40-character"),
    ],
)
def test_it_refuses_bad_input_with_a_field_error(api_as, site, body, field, words):
    response = api_as("developer").post(f"/api/v1/sites/{site.pk}/schedules/", body)
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not ScheduledDeploy.objects.exists()


def test_it_cancels_a_pending_schedule_and_audits_it(api_as, cast, site):
    schedule = scheduled(cast, site)
    response = api_as("manager").post(f"/api/v1/schedules/{schedule.pk}/cancel/")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert AuditEvent.objects.filter(
        verb="schedule.cancelled", source="api", actor=cast.manager
    ).exists()


def test_it_answers_409_when_the_schedule_was_already_cancelled(api_as, cast, site):
    schedule = scheduled(cast, site)
    schedule_cancel(schedule=schedule, actor=Actor(user=cast.owner))
    response = api_as("developer").post(f"/api/v1/schedules/{schedule.pk}/cancel/")
    assert response.status_code == 409
    assert response.json()["detail"] == "This scheduled deploy already ran or was cancelled."


def test_it_answers_409_when_the_schedule_already_fired(api_as, cast, site):
    schedule = scheduled(cast, site)
    schedule_fire(schedule_id=schedule.pk, now=schedule.run_at + timedelta(seconds=1))
    response = api_as("developer").post(f"/api/v1/schedules/{schedule.pk}/cancel/")
    assert response.status_code == 409
    assert ScheduledDeploy.objects.get(pk=schedule.pk).status == "fired"


def test_it_lists_pending_soonest_first_then_closed_newest_first(api_as, cast, site):
    late, soon, old, older = (scheduled(cast, site, h) for h in (5, 1, 3, 2))
    for closed in (old, older):
        schedule_cancel(schedule=closed, actor=Actor(user=cast.owner))
    body = api_as("viewer").get(f"/api/v1/sites/{site.pk}/schedules/").json()
    assert [row["id"] for row in body["results"]] == [soon.pk, late.pk, old.pk, older.pk]
    assert body["count"] == 4


def test_it_lists_another_sites_schedules_nowhere(api_as, cast, site):
    other = site_create(
        organization=cast.org,
        actor=Actor(user=cast.owner),
        servers=list(site.servers.all()),
        name="blog",
        repository_url="git@github.com:acme/blog.git",
        deploy_path="/srv/blog",
    )
    scheduled(cast, other)
    body = api_as("viewer").get(f"/api/v1/sites/{site.pk}/schedules/").json()
    assert body["count"] == 0


def test_it_lists_schedules_in_constant_queries(api_as, cast, site, django_assert_max_num_queries):
    for hours in range(1, 8):
        scheduled(cast, site, hours)
    api = api_as("viewer")
    # token, membership, last_used_at, site, count, page: none per schedule
    with django_assert_max_num_queries(6):
        response = api.get(f"/api/v1/sites/{site.pk}/schedules/")
    assert len(response.json()["results"]) == 7


def test_it_schedules_a_recurring_deploy_from_a_cron_expression(api_as, cast, site):
    response = api_as("developer").post(f"/api/v1/sites/{site.pk}/schedules/",
                                        {"cron": "0 6 * * 1-5"})
    assert response.status_code == 201 and response.json()["cron"] == "0 6 * * 1-5"
    assert ScheduledDeploy.objects.get().run_at > timezone.now()


def test_it_refuses_a_too_frequent_cron_expression_by_field(api_as, site):
    response = api_as("developer").post(f"/api/v1/sites/{site.pk}/schedules/",
                                        {"cron": "*/5 * * * *"})
    assert response.status_code == 400 and "10 minutes" in " ".join(response.json()["cron"])
