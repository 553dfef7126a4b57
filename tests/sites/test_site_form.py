"""The site form in groups (site, repository, paths, environment, build, release, health check,
notifications), each field in exactly one, with a new site's defaults taken from its preset."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from sites.forms import SiteForm
from sites.models import HEALTH_CHECK_FIELDS

GROUPS = ["Site", "Repository", "Paths", "Environment", "Build", "Release", "Health check",
          "Notifications"]


def _legends(html: str) -> list[str]:
    return re.findall(r"<legend>([^<]+)</legend>", html)


def _new_site_form(client, query: str = "") -> SiteForm:
    return client.get(reverse("sites:create", kwargs={"org": "acme"}) + query).context["form"]


def test_it_groups_the_fields_under_headings(cast, client_for):
    page = client_for(cast.developer).get(reverse("sites:create", kwargs={"org": "acme"}))
    assert _legends(page.content.decode()) == GROUPS


def test_it_shows_every_field_in_exactly_one_group(cast, site):
    form = SiteForm(org=cast.org, site=site)
    grouped = [f.name for s in form.sections() for f, _ in s["fields"]] + list(HEALTH_CHECK_FIELDS)
    assert sorted(grouped) == sorted(f.name for f in form.visible_fields())


@pytest.mark.parametrize("preset,expected", [
    ("laravel", {"web_dir": "public", "shared_dirs": "storage", "run_migrations": True}),
    ("php", {"web_dir": "public", "shared_dirs": "", "run_migrations": False}),
    ("none", {"web_dir": "", "shared_files": "", "reload_method": "none"}),
    ("<script>", {"preset": "laravel", "shared_dirs": "storage"}),
])
def test_a_new_site_starts_from_its_presets_defaults(cast, client_for, preset, expected):
    form = _new_site_form(client_for(cast.developer), f"?preset={preset}")
    assert {name: form.initial[name] for name in expected} == expected


def test_editing_keeps_the_sites_own_values_whatever_its_preset(cast, site, client_for):
    page = client_for(cast.developer).get(reverse("sites:edit", kwargs={"org": "acme",
                                                                        "pk": site.pk}))
    assert page.context["form"].initial["deploy_path"] == site.deploy_path
    assert f"/o/acme/notifications/sites/{site.pk}/" in page.content.decode()
