"""The servers are the truth: reconcile reads real sshd hosts, rollbacks follow what it found.

Deployments run in-process (run_deployment, as in test_task.py); the reconcile task that a
worker would run after each one is called in-process too, except in the last test, where
real Celery workers run both on their own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

from deployments import selectors
from deployments.models import Deployment, ServerReleaseFacts, Status, Trigger
from deployments.pipeline.context import ServerSpec
from deployments.pipeline.inventory import Inventory, ReleaseOnDisk
from deployments.reconcile import drift_of, observe, site_reconcile
from deployments.services import DeploymentError, rollback_request
from deployments.tasks import reconcile_site, run_deployment
from servers.models import Server
from servers.services import server_ssh_target
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tests.browser.conftest import browser, chromium  # noqa: F401  (fixtures)
from tests.conftest import PASSWORD
from tests.deployments.workers import Worker, purge_queues
from tests.fixtures.api import mint
from tests.fixtures.stage import Stage, make_stage, wait_until

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path) -> Stage:
    return make_stage(cast, sshd_host, tmp_path, releases_to_keep=2)


def deployed(stage: Stage, version: str) -> Deployment:
    """Deploy a new commit in-process, then reconcile as the status receiver would."""
    deployment = stage.deploy(stage.release(version))
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == Status.SUCCEEDED, deployment.error
    reconcile_site(stage.site.pk)
    return deployment


def rolled_back(stage: Stage, release: str) -> Deployment:
    rollback = rollback_request(site=stage.site, release=release, actor=Actor.system(),
                                trigger=Trigger.MANUAL)
    run_deployment(rollback.pk)
    rollback.refresh_from_db()
    assert rollback.status == Status.SUCCEEDED, rollback.error
    reconcile_site(stage.site.pk)
    return rollback


def current_of(stage: Stage) -> str:
    return (stage.deploy_path / "current").readlink().name


def point_current_by_hand(stage: Stage, release: str) -> None:
    temp = stage.deploy_path / "current.by-hand"
    os.symlink(f"releases/{release}", temp)
    os.replace(temp, stage.deploy_path / "current")


def targets(stage: Stage) -> list[str]:
    return [target.release for target in selectors.rollback_targets(site=stage.site)]


def facts(stage: Stage) -> ServerReleaseFacts:
    return ServerReleaseFacts.objects.get(site=stage.site)


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org": "acme", **kwargs})


@pytest.mark.sqlite
def test_it_offers_the_release_live_before_after_deploy_rollback_deploy(stage):
    first, second = deployed(stage, "1.0.0"), deployed(stage, "2.0.0")
    rolled_back(stage, first.release)
    third = deployed(stage, "3.0.0")
    # Two releases kept: the rows alone would offer only `second`; the server still has
    # `first` (cleanup never prunes the release it replaced).
    assert targets(stage) == [second.release, first.release]
    [previous] = [t for t in selectors.rollback_targets(site=stage.site) if t.previously_live]
    assert (previous.release, previous.commit) == (first.release, first.commit_sha)
    rollback = rolled_back(stage, first.release)
    assert current_of(stage) == first.release
    assert rollback.commit_sha == first.commit_sha and rollback.previous_release == third.release


@pytest.mark.sqlite
def test_a_current_changed_by_hand_shows_drift_and_the_rollback_list_follows(
    stage, cast, client_for
):
    first, second = deployed(stage, "1.0.0"), deployed(stage, "2.0.0")
    assert facts(stage).drift == [] and targets(stage) == [first.release]
    point_current_by_hand(stage, first.release)

    reconcile_site(stage.site.pk)

    observed = facts(stage)
    assert (observed.current_release, observed.current) == (first.release, "release")
    assert observed.drift == [f"serves {first.release}; the panel believes {second.release} live"]
    page = client_for(cast.viewer).get(url("sites:detail", pk=stage.site.pk)).content.decode()
    assert 'data-drift="web-1"' in page and observed.drift[0] in page
    dashboard = client_for(cast.viewer).get(url("dashboard")).content.decode()
    assert f'data-drift-site="{stage.site.pk}"' in dashboard
    assert targets(stage) == [second.release]
    with pytest.raises(DeploymentError, match="already live"):
        rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                         trigger=Trigger.MANUAL)

    rolled_back(stage, second.release)

    assert current_of(stage) == second.release and facts(stage).drift == []
    dashboard = client_for(cast.viewer).get(url("dashboard")).content.decode()
    assert "data-drift-site" not in dashboard


def test_a_release_deleted_by_hand_is_no_longer_offered(stage):
    stage.site.releases_to_keep = 5
    stage.site.save()
    first, second, third = (deployed(stage, v) for v in ("1.0.0", "2.0.0", "3.0.0"))
    assert targets(stage) == [second.release, first.release]
    shutil.rmtree(stage.deploy_path / "releases" / first.release)

    reconcile_site(stage.site.pk)

    assert targets(stage) == [second.release]
    assert facts(stage).drift == [f"release {first.release} is gone (the panel counts on it)"]
    with pytest.raises(DeploymentError, match="not a retained release"):
        rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                         trigger=Trigger.MANUAL)
    assert current_of(stage) == third.release


def test_a_rollback_reads_the_servers_again_when_the_facts_predate_the_last_deploy(stage):
    first = deployed(stage, "1.0.0")
    as_after_first = facts(stage)
    second = stage.deploy(stage.release("2.0.0"))
    run_deployment(second.pk)
    # Its worker died between the finish and the reconcile from the pipeline's last look:
    # the facts still show only `first`.
    as_after_first.save()
    assert targets(stage) == []
    reconciled = AuditEvent.objects.filter(verb="site.reconciled").count()

    rollback = rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                                trigger=Trigger.MANUAL)

    assert rollback.release == first.release
    assert facts(stage).current_release == Deployment.objects.get(pk=second.pk).release
    assert AuditEvent.objects.filter(verb="site.reconciled").count() == reconciled + 1


def test_it_keeps_the_last_truth_and_says_why_when_a_server_cannot_be_read(
    stage, cast, client_for
):
    first = deployed(stage, "1.0.0")
    Server.objects.update(port=1)  # nothing listens on 127.0.0.1:1

    report = site_reconcile(site=stage.site, actor=Actor.system())

    [seen] = report.servers
    assert seen.inventory is None and seen.error
    stored = facts(stage)
    assert (stored.current_release, stored.error) == (first.release, seen.error)
    page = client_for(cast.viewer).get(url("sites:detail", pk=stage.site.pk)).content.decode()
    assert "unreadable" in page


def test_the_inventory_tells_releases_from_leftovers_and_current_from_a_directory(stage):
    releases = stage.deploy_path / "releases"
    (releases / "20300101000000").mkdir(parents=True)  # half-built: no REVISION
    (releases / "20300101000001").mkdir()
    (releases / "20300101000001" / "REVISION").write_text("a" * 40)
    (releases / "not-a-release").mkdir()
    (stage.deploy_path / "current").mkdir()
    spec = ServerSpec("web-1", server_ssh_target(stage.site.servers.get()))

    found = asyncio.run(observe(spec, str(stage.deploy_path)))

    assert found.releases == (ReleaseOnDisk("20300101000000", None),
                              ReleaseOnDisk("20300101000001", "a" * 40))
    assert (found.current_exists, found.current_is_link, found.current_release) == (
        True, False, None)
    (stage.deploy_path / "current").rmdir()
    os.symlink("releases/20300101000009", stage.deploy_path / "current")
    dangling = asyncio.run(observe(spec, str(stage.deploy_path)))
    assert (dangling.current_dangling, dangling.current_release) == (True, None)


def test_drift_between_servers_is_reported_on_each():
    def on(release: str) -> Inventory:
        return Inventory(current_target=f"releases/{release}", current_is_link=True,
                         current_exists=True, releases=(ReleaseOnDisk(release, "a" * 40),))

    a, b = "20300101000001", "20300101000002"
    drift = drift_of({"web-1": on(a), "web-2": on(b)}, believed_live=a, must_exist={})
    assert drift == {"web-2": [f"serves {b}; the panel believes {a} live",
                               f"serves {b}, unlike web-1 {a}"],
                     "web-1": [f"serves {a}, unlike web-2 {b}"]}
    assert drift_of({"web-1": on(a), "web-2": on(a)}, believed_live=a, must_exist={}) == {}


@pytest.mark.parametrize("role,expected", [("developer", 302), ("viewer", 403),
                                           ("outsider", 404)])
def test_the_reconcile_button_is_for_developers(stage, cast, client_for, role, expected):
    deployed(stage, "1.0.0")
    before = AuditEvent.objects.filter(verb="site.reconciled").count()
    response = client_for(cast.user(role)).post(url("sites:reconcile", pk=stage.site.pk))
    assert response.status_code == expected
    after = AuditEvent.objects.filter(verb="site.reconciled")
    assert after.count() == before + (expected == 302)
    if expected == 302:
        assert after.order_by("-id").first().actor_id == cast.developer.pk


def test_viewers_see_the_reconcile_button_hidden(stage, cast, client_for):
    button, page = url("sites:reconcile", pk=stage.site.pk), url("sites:detail", pk=stage.site.pk)
    assert button in client_for(cast.developer).get(page).content.decode()
    assert button not in client_for(cast.viewer).get(page).content.decode()


@pytest.mark.parametrize("role,expected", [("developer", 200), ("viewer", 403),
                                           ("outsider", 404)])
def test_the_reconcile_api_is_for_developers(stage, cast, client, role, expected):
    first = deployed(stage, "1.0.0")
    org = cast.other_org if role == "outsider" else cast.org
    token = mint(cast.user(role), org)
    response = client.post(f"/api/v1/sites/{stage.site.pk}/reconcile/",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == expected
    if expected == 200:
        [server] = response.json()["servers"]
        assert (server["live"], server["drift"]) == (first.release, [])
        assert response.json()["live_everywhere"] == first.release
        detail = client.get(f"/api/v1/sites/{stage.site.pk}/",
                            HTTP_AUTHORIZATION=f"Bearer {token}").json()
        assert detail["truth"]["servers"][0]["releases"][0]["name"] == first.release


def test_the_history_page_shows_targets_in_constant_queries(
    stage, cast, client_for, django_assert_num_queries
):
    deployed(stage, "1.0.0"), deployed(stage, "2.0.0")
    client = client_for(cast.viewer)
    # 15: one of them reads the kept release diffs (migrations a rollback would leave applied).
    with django_assert_num_queries(15) as few:
        client.get(url("sites:history", pk=stage.site.pk))
    deployed(stage, "3.0.0")
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url("sites:history", pk=stage.site.pk)).content.decode()
    assert 'data-target="' in page


SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.browser
@pytest.mark.parametrize("width", [1366, 390])
def test_the_site_page_shows_drift_at_desktop_and_phone_widths(
    stage, cast, browser, width  # noqa: F811  (the fixture imported above)
):
    first, _second = deployed(stage, "1.0.0"), deployed(stage, "2.0.0")
    point_current_by_hand(stage, first.release)
    reconcile_site(stage.site.pk)
    browser.login(cast.developer.email, PASSWORD)
    browser.driver.set_window_size(width, 900)
    browser.get(url("sites:detail", pk=stage.site.pk))
    drift = browser.wait_for(lambda: browser.text('[data-drift="web-1"]'), message="drift")
    assert first.release in drift
    height = browser.driver.execute_script("return document.documentElement.scrollHeight")
    browser.driver.set_window_size(width, min(height + 120, 4000))
    overflow = browser.driver.execute_script(
        "var p = document.getElementById('servers-truth'); return p.scrollWidth - p.clientWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.driver.save_screenshot(str(SCREENSHOTS / f"site-drift-{width}.png"))
    panel = browser.driver.find_element(By.ID, "servers-truth")
    panel.screenshot(str(SCREENSHOTS / f"site-drift-{width}-servers.png"))
    browser.driver.set_window_size(1280, 900)
    assert overflow <= 0, f"the servers panel is wider than the screen at {width} px"
    assert browser.console_errors() == []


@pytest.fixture
def workers(transactional_db, tmp_path: Path):
    purge_queues()
    started = [Worker.start("w1", tmp_path)]
    yield started
    for worker in started:
        worker.stop()


@pytest.mark.slow
def test_a_worker_records_the_truth_after_every_deployment(stage, workers):
    deployment = stage.deploy(stage.release("1.0.0"))

    def observed_after_it():
        row = Deployment.objects.get(pk=deployment.pk)
        seen = ServerReleaseFacts.objects.filter(site=stage.site, observed_at__isnull=False)
        return row.is_finished and seen.filter(observed_at__gte=row.finished_at).first()

    seen = wait_until(observed_after_it, timeout=90, what="the reconcile after the deploy")
    assert seen.current_release == Deployment.objects.get(pk=deployment.pk).release
