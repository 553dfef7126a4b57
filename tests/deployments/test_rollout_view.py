"""The deployment page's servers panel: each server's phase and the balancer's state."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from deployments.models import Deployment, DeploymentStep
from deployments.phases import server_phases

ROLLING = [  # (step, server, status) as a rolling deploy reports them, web-2 mid-switch
    ("prepare", "web-1", "succeeded"), ("prepare", "web-2", "succeeded"),
    ("drain", "web-1", "succeeded"), ("activate", "web-1", "succeeded"),
    ("reload", "web-1", "succeeded"), ("health_check_live", "web-1", "succeeded"),
    ("enable", "web-1", "succeeded"), ("drain", "web-2", "succeeded"),
    ("activate", "web-2", "running"),
]


def _steps(rows):
    return [SimpleNamespace(name=n, server=s, status=st) for n, s, st in rows]


def test_phases_follow_the_rolling_steps():
    phases = {p.server: p for p in server_phases(_steps(ROLLING), ["web-1", "web-2", "web-3"])}

    assert (phases["web-1"].phase, phases["web-1"].balancer_state) == ("live", "enabled")
    assert (phases["web-2"].phase, phases["web-2"].balancer_state) == ("switching", "drained")
    assert phases["web-3"].phase == "preparing"


def test_a_failure_after_the_switch_shows_rolled_back():
    rows = [*ROLLING[:-1], ("activate", "web-2", "succeeded"),
            ("health_check_live", "web-2", "failed"), ("switch_back", "web-2", "succeeded"),
            ("reload", "web-2", "succeeded"), ("switch_back", "web-1", "succeeded"),
            ("reload", "web-1", "succeeded")]
    phases = {p.server: p.phase for p in server_phases(_steps(rows), ["web-1", "web-2"])}
    assert phases == {"web-1": "rolled back", "web-2": "rolled back"}


def test_without_a_balancer_a_probed_server_is_live():
    rows = [("activate", "web-1", "succeeded"), ("health_check_live", "web-1", "skipped")]
    assert server_phases(_steps(rows), ["web-1"])[0].phase == "live"


@pytest.mark.django_db
@pytest.mark.parametrize("role,expected", [("viewer", 200), ("outsider", 404), ("anonymous", 302)])
def test_the_page_shows_each_servers_phase_to_members_only(cast, site, client_for, role,
                                                           expected):
    deployment = Deployment.objects.create(site=site, organization=cast.org, branch="main",
                                           status="running", release="20300101000000")
    server = site.servers.get().name
    for order, (name, status) in enumerate([("drain", "succeeded"), ("activate", "running")]):
        DeploymentStep.objects.create(deployment=deployment, name=name, server=server,
                                      status=status, order=order)
    client = client_for(cast.user(role))
    kwargs = {"org": "acme", "pk": deployment.pk}

    panel = client.get(reverse("deployments:rollout", kwargs=kwargs))
    page = client.get(reverse("deployments:detail", kwargs=kwargs))

    assert panel.status_code == expected
    if expected == 200:
        assert f'data-server-phase="{server}"' in panel.content.decode()
        assert "Switching" in panel.content.decode()
        assert "Switching" in page.content.decode()
