"""Reads for load balancers, scoped to one organization; the model-to-config translation."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from loadbalancers import nginx
from loadbalancers.models import Backend, BalancedSite, LoadBalancer
from sites.models import Site
from tenancy.models import Organization


def _with_sites(queryset: QuerySet[LoadBalancer]) -> QuerySet[LoadBalancer]:
    backends = Backend.objects.select_related("server")
    sites = BalancedSite.objects.select_related("site").prefetch_related(
        Prefetch("backends", queryset=backends), "site__servers"
    )
    return queryset.select_related("server", "organization").prefetch_related(
        Prefetch("sites", queryset=sites)
    )


def load_balancer_list(*, org: Organization) -> QuerySet[LoadBalancer]:
    """The organization's balancers with their sites and backends (a fixed number of queries)."""
    return _with_sites(LoadBalancer.objects.for_org(org)).order_by("name", "id")


def load_balancer_get(*, org: Organization, pk: int) -> LoadBalancer | None:
    """One balancer of `org`, or None (another organization's id looks missing)."""
    return _with_sites(LoadBalancer.objects.for_org(org)).filter(pk=pk).first()


def balanced_site_get(*, load_balancer: LoadBalancer, site_id: int) -> BalancedSite | None:
    return (
        BalancedSite.objects.filter(load_balancer=load_balancer, site_id=site_id)
        .select_related("site")
        .first()
    )


def balanced_sites_of_site(*, site: Site) -> QuerySet[BalancedSite]:
    """The balancers in front of `site` (for the site page), backends included."""
    backends = Backend.objects.select_related("server")
    return (
        BalancedSite.objects.filter(site=site, load_balancer__organization_id=site.organization_id)
        .select_related("load_balancer", "load_balancer__server")
        .prefetch_related(Prefetch("backends", queryset=backends), "site__servers")
        .order_by("load_balancer__name")
    )


def balancer_config(load_balancer: LoadBalancer) -> nginx.BalancerConfig:
    """The model as the generator's plain data (reads the prefetched sites and backends)."""
    sites = tuple(_balanced(entry) for entry in load_balancer.sites.all())
    return nginx.BalancerConfig(
        name=load_balancer.config_name, access_log=load_balancer.access_log, sites=sites
    )


def _current_backends(entry: BalancedSite) -> list[Backend]:
    """The backends whose server still runs the site (prefetched `site__servers`)."""
    running = {server.pk for server in entry.site.servers.all()}
    return [backend for backend in entry.backends.all() if backend.server_id in running]


def stale_backends(load_balancer: LoadBalancer) -> list[Backend]:
    """Backends whose server was removed from the site since: left out of the config."""
    return [
        backend for entry in load_balancer.sites.all() for backend in entry.backends.all()
        if backend not in _current_backends(entry)
    ]


def _balanced(entry: BalancedSite) -> nginx.BalancedSite:
    return nginx.BalancedSite(
        key=f"site{entry.site_id}",
        server_name=entry.server_name or entry.site.domain or "_",
        listen=str(entry.listen_port),
        method=entry.method,
        backends=tuple(
            nginx.Backend(
                host=backend.server.host,
                port=entry.backend_port,
                weight=backend.weight,
                backup=backend.backup,
                drained=backend.drained,
            )
            # A server taken off the site must not keep getting its traffic.
            for backend in _current_backends(entry)
        ),
    )


def rendered_config(load_balancer: LoadBalancer) -> str:
    """The file the balancer should have now (only the log format while it fronts no site)."""
    return nginx.render(balancer_config(load_balancer))
