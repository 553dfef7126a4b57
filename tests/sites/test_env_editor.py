"""The environment editor (rows, paste a .env, secret toggle) and the hooks page: who may use
them, what they save, and what the site page shows beside them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments.models import Deployment, Status
from sites.models import SiteHook
from sites.selectors import env_version_latest
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, allowed, assert_page_access


def url(name: str, site, org: str = "acme") -> str:
    return reverse(f"sites:{name}", kwargs={"org": org, "pk": site.pk})


def rows(*pairs: tuple[str, str], secret: tuple[str, ...] = ()) -> dict[str, str]:
    """POST data of the editor's rows."""
    data = {"env-TOTAL_FORMS": str(len(pairs)), "env-INITIAL_FORMS": "0"}
    for i, (name, value) in enumerate(pairs):
        data |= {f"env-{i}-name": name, f"env-{i}-value": value}
        if name in secret:
            data[f"env-{i}-secret"] = "on"
    return data


@pytest.mark.parametrize("who", EVERYONE)
def test_the_editor_is_for_those_who_edit_sites(cast, site, client_for, who):
    client = client_for(cast.user(who))
    assert_page_access(client.get(url("environment", site)), Cap.EDIT_SITES, who)


@pytest.mark.parametrize("who", ["manager", "developer", "viewer", "outsider"])
def test_saving_the_hooks_needs_the_hooks_capability(cast, site, client_for, who):
    data = {"before_switch_script": "echo hi", **{f"{p}_timeout": "60" for p in SiteHook.Point}}
    client_for(cast.user(who)).post(url("hooks", site), data)
    assert SiteHook.objects.filter(site=site).exists() == allowed(Cap.EDIT_HOOKS, who)


def test_it_saves_rows_as_a_new_version_with_the_secret_toggle(cast, site, client_for):
    data = rows(("APP_KEY", "********"), ("MAIL_HOST", "smtp.test"), secret=("MAIL_HOST",))
    response = client_for(cast.developer).post(url("environment", site), data)
    version = env_version_latest(site=site)
    assert response.status_code == 302 and version.number == 2
    assert (version.added, version.removed, version.secret_env_names) == (
        ["MAIL_HOST"], ["APP_DEBUG"], ["MAIL_HOST"])


def test_it_refuses_a_bad_name_and_writes_nothing(cast, site, client_for):
    response = client_for(cast.developer).post(url("environment", site),
                                               rows(("LD_PRELOAD", "/tmp/x.so")))
    assert response.status_code == 400 and "is not allowed" in response.content.decode()
    assert site.env_versions.count() == 1


def test_it_refuses_more_rows_than_the_bound(cast, site, client_for):
    data = rows(*[(f"V{i}", "x") for i in range(204)])
    response = client_for(cast.developer).post(url("environment", site), data)
    assert response.status_code == 400 and site.env_versions.count() == 1


def test_a_pasted_env_fills_the_rows_without_saving(cast, site, client_for):
    pasted = "export MAIL_HOST='smtp x'\nAPP_DEBUG=true\n"
    response = client_for(cast.developer).post(url("environment-import", site), {"dotenv": pasted})
    initial = {row["name"]: row["value"] for row in response.context["rows"].initial}
    assert initial == {"APP_KEY": "********", "APP_DEBUG": "true", "MAIL_HOST": "smtp x"}
    assert site.env_versions.count() == 1


def test_a_bad_paste_says_which_line(cast, site, client_for):
    response = client_for(cast.developer).post(url("environment-import", site),
                                               {"dotenv": "A=1\nnot a variable\n"})
    assert response.status_code == 400
    assert "Line 2: expected NAME=value" in response.content.decode()


def test_it_saves_hooks_and_audits_them_without_scripts(cast, site, client_for):
    data = {f"{p}_timeout": "60" for p in SiteHook.Point}
    data |= {"after_fetch_script": "echo secret-looking-script", "after_fetch_timeout": "5"}
    client_for(cast.manager).post(url("hooks", site), data)
    event = AuditEvent.objects.get(verb="site.hooks_updated")
    assert list(site.hooks.values_list("point", "timeout")) == [("after_fetch", 5)]
    assert event.after == {"hooks": {"after_fetch": 5}}


def test_it_refuses_a_hook_timeout_out_of_bounds(cast, site, client_for):
    data = {f"{p}_timeout": "60" for p in SiteHook.Point}
    data |= {"after_fetch_script": "echo hi", "after_fetch_timeout": "3601"}
    response = client_for(cast.manager).post(url("hooks", site), data)
    assert response.status_code == 400 and not site.hooks.exists()


def _live(site, cast):
    return Deployment.objects.create(
        site=site, organization=cast.org, status=Status.SUCCEEDED, branch="main",
        triggered_by_name="test", release="20260101000000", number=1,
        env_version=env_version_latest(site=site),
    )


def test_the_site_page_says_what_changed_since_the_live_release(cast, site, client_for):
    _live(site, cast)
    client = client_for(cast.developer)
    client.post(url("environment", site), rows(("APP_KEY", "********"), ("APP_DEBUG", "true"),
                                               ("NEW", "1")))
    page = client.get(url("detail", site)).content.decode()
    assert "changed since the live release: 2 keys" in page
    assert "added NEW; changed APP_DEBUG" in page and "applies at the next deploy" in page


def test_the_site_page_shows_the_deploy_script_and_hooks_to_viewers(cast, site, client_for):
    site.deploy_script = "php artisan about"
    site.save()
    SiteHook.objects.create(site=site, point="after_switch", script="curl -fsS ping.test",
                            timeout=9)
    viewer = client_for(cast.viewer).get(url("detail", site)).content.decode()
    manager = client_for(cast.manager).get(url("detail", site)).content.decode()
    assert "php artisan about" in viewer and "curl -fsS ping.test" in viewer
    assert "Edit hooks" not in viewer and "Edit hooks" in manager
