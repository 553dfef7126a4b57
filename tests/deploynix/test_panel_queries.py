"""The panel's busiest pages at two data sizes: the same queries, never an encrypted column
per row (deployments/selectors.py, sites/selectors.py, issue 17 item 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import Deployment, Status
from sites.models import Site

STATUSES = (Status.SUCCEEDED, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
ENCRYPTED = ('"sites_site"."environment"', '"sites_site"."deploy_key_private"',
             '"sites_site"."https_token"')


def grow(cast, make_site, sites: int, per_site: int) -> Site:
    """`sites` more sites with `per_site` finished deployments each; returns the first site."""
    made = [make_site(name=f"s{Site.objects.count()}") for _ in range(sites)]
    now = timezone.now()
    Deployment.objects.bulk_create(
        Deployment(site=site, organization=cast.org, branch="main", triggered_by_name="t",
                   status=STATUSES[n % 4], number=n + 1, commit_sha=f"{n:040x}",
                   release=f"2030{i:04d}{n:06d}", created_at=now - timedelta(minutes=n),
                   started_at=now, finished_at=now + timedelta(seconds=n))
        for i, site in enumerate(made) for n in range(per_site))
    return made[0]


def pages(site) -> list[str]:
    org = {"org": "acme"}
    return [reverse("dashboard", kwargs=org), reverse("deployments:list", kwargs=org),
            reverse("sites:detail", kwargs={**org, "pk": site.pk}),
            reverse("sites:history", kwargs={**org, "pk": site.pk})]


@pytest.mark.parametrize("page", range(4), ids=["dashboard", "deployments", "site", "history"])
def test_it_reads_a_page_in_the_same_queries_at_ten_times_the_data(
    cast, make_site, client_for, django_assert_max_num_queries, page
):
    client, site = client_for(cast.viewer), grow(cast, make_site, 2, 6)
    # The site page reads one fixed query per panel (workers, freezes, environment version,
    # provisioning, hooks …): 21 today. What this test pins is that 10x the data adds none.
    with django_assert_max_num_queries(24) as small:
        assert client.get(pages(site)[page]).status_code == 200
    grow(cast, make_site, 18, 60)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(pages(site)[page]).status_code == 200


def test_it_decrypts_no_site_column_on_the_dashboard_or_the_deployments_list(
    cast, make_site, client_for, django_assert_max_num_queries
):
    client, site = client_for(cast.viewer), grow(cast, make_site, 3, 4)
    for url in pages(site)[:2] + [reverse("sites:list", kwargs={"org": "acme"})]:
        with django_assert_max_num_queries(20) as read:
            assert client.get(url).status_code == 200
        sql = " ".join(query["sql"] for query in read.captured_queries)
        assert not [column for column in ENCRYPTED if column in sql], url


def test_it_shows_a_bounded_number_of_sites_on_the_dashboard_and_pages_the_rest(
    cast, make_site, client_for
):
    from deploynix.dashboard import DASHBOARD_SITES
    from deploynix.site_pages import SITES_PAGE_SIZE

    grow(cast, make_site, SITES_PAGE_SIZE + 1, 0)
    client = client_for(cast.viewer)
    dashboard = client.get(reverse("dashboard", kwargs={"org": "acme"})).content.decode()
    sites = reverse("sites:list", kwargs={"org": "acme"})
    first, last = (client.get(sites, {"page": n}).content.decode() for n in (1, 2))
    assert dashboard.count("data-deploy-site=") == 0  # a viewer: no Deploy buttons
    assert dashboard.count('<tr><td><a href="/o/acme/sites/') == DASHBOARD_SITES
    assert f"The first {DASHBOARD_SITES} sites by name." in dashboard
    assert "Page 1 of 2" in first and "Page 2 of 2" in last
