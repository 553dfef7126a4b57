"""/api/v1/load-balancers/: balancers, the sites they front (with backends), and apply.

Reading needs server:read; every write needs server:write (Manager+, Cap.MANAGE_SERVERS):
a balancer is infrastructure like the servers it runs on. Mounted by deploynix/api_urls.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from loadbalancers import selectors, services
from loadbalancers.models import LoadBalancer
from loadbalancers.nginx import ConfigError
from loadbalancers.serializers import (
    BalancedSiteInputSerializer,
    BalancedSiteSerializer,
    LoadBalancerInputSerializer,
    LoadBalancerSerializer,
)
from loadbalancers.validators import ROLLING_FIELDS
from servers.selectors import server_get
from sites.selectors import site_get
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability

READ, WRITE = Ability.SERVER_READ, Ability.SERVER_WRITE


class BalancerObjectMixin:
    def get_balancer(self) -> LoadBalancer:
        """The balancer in the token's organization, or 404 (another org's id looks missing)."""
        lb = selectors.load_balancer_get(org=self.org, pk=self.kwargs["pk"])
        if lb is None:
            raise Http404("No such load balancer.")
        return lb

    def fresh(self, lb: LoadBalancer) -> dict:
        return LoadBalancerSerializer(selectors.load_balancer_get(org=self.org, pk=lb.pk)).data


class BalancerListView(BalancerObjectMixin, OrgAPIView):
    """The organization's load balancers (server:read); add one (server:write, Manager+)."""

    abilities = {"GET": READ, "POST": WRITE}
    serializer_class = LoadBalancerSerializer

    def get_queryset(self):
        return selectors.load_balancer_list(org=self.org)

    @extend_schema(operation_id="load_balancers_list", responses=LoadBalancerSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LoadBalancerSerializer(page, many=True).data)

    @extend_schema(request=LoadBalancerInputSerializer, responses={201: LoadBalancerSerializer})
    def post(self, request):
        data = _valid(LoadBalancerInputSerializer, request.data)
        server = server_get(org=self.org, pk=data.pop("server"))
        if server is None:
            raise ValidationError({"server": ["No such server in this organization."]})
        lb = services.load_balancer_create(org=self.org, actor=self.actor, server=server, **data)
        return Response(self.fresh(lb), status=status.HTTP_201_CREATED)


class BalancerDetailView(BalancerObjectMixin, OrgAPIView):
    """One balancer; change its settings or delete it (server:write)."""

    abilities = {"GET": READ, "PATCH": WRITE, "DELETE": WRITE}
    serializer_class = LoadBalancerSerializer

    def get(self, request, pk: int):
        return Response(LoadBalancerSerializer(self.get_balancer()).data)

    @extend_schema(request=LoadBalancerInputSerializer)
    def patch(self, request, pk: int):
        data = _valid(LoadBalancerInputSerializer, request.data, partial=True)
        data.pop("server", None)  # fixed at creation
        lb = services.load_balancer_update(load_balancer=self.get_balancer(), actor=self.actor,
                                           **data)
        return Response(self.fresh(lb))

    def delete(self, request, pk: int):
        services.load_balancer_delete(load_balancer=self.get_balancer(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BalancedSiteView(BalancerObjectMixin, OrgAPIView):
    """PUT: put a site behind the balancer (or replace its method and backends); DELETE it."""

    abilities = {"GET": READ, "PUT": WRITE, "DELETE": WRITE}
    serializer_class = BalancedSiteSerializer

    def _site(self, site_id: int):
        site = site_get(org=self.org, pk=site_id)
        if site is None:
            raise Http404("No such site.")
        return site

    def get(self, request, pk: int, site_id: int):
        entry = selectors.balanced_site_get(load_balancer=self.get_balancer(), site_id=site_id)
        if entry is None:
            raise Http404("This site is not behind this load balancer.")
        return Response(BalancedSiteSerializer(entry).data)

    @extend_schema(request=BalancedSiteInputSerializer, responses=BalancedSiteSerializer)
    def put(self, request, pk: int, site_id: int):
        lb, site = self.get_balancer(), self._site(site_id)
        data = _valid(BalancedSiteInputSerializer, request.data)
        data["backends"] = [dict(row) for row in data["backends"]]
        data["rolling"] = {name: data.pop(name) for name in ROLLING_FIELDS if name in data}
        entry = services.balanced_site_set(load_balancer=lb, actor=self.actor, site=site, **data)
        return Response(BalancedSiteSerializer(entry).data)

    def delete(self, request, pk: int, site_id: int):
        entry = selectors.balanced_site_get(load_balancer=self.get_balancer(), site_id=site_id)
        if entry is None:
            raise Http404("This site is not behind this load balancer.")
        services.balanced_site_remove(entry=entry, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BalancerApplyView(BalancerObjectMixin, OrgAPIView):
    """Generate the config, upload it, `nginx -t`, reload; the answer carries the outcome."""

    abilities = {"POST": WRITE}
    serializer_class = LoadBalancerSerializer

    @extend_schema(request=None, responses=LoadBalancerSerializer)
    def post(self, request, pk: int):
        try:
            lb = services.load_balancer_apply(load_balancer=self.get_balancer(), actor=self.actor)
        except ConfigError as exc:
            raise ValidationError(f"The config cannot be generated: {exc}") from None
        return Response(self.fresh(lb))


class BalancerCheckView(BalancerObjectMixin, OrgAPIView):
    """Read the balancer's live nginx: our file included, `nginx -T` ok, as last applied."""

    abilities = {"POST": WRITE}
    serializer_class = LoadBalancerSerializer

    @extend_schema(request=None, responses=LoadBalancerSerializer)
    def post(self, request, pk: int):
        lb = services.load_balancer_check(load_balancer=self.get_balancer(), actor=self.actor)
        return Response(self.fresh(lb))


def _valid(serializer_class, data, *, partial: bool = False) -> dict:
    """The submitted writable fields only (unknown keys are ignored, never passed through)."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


urlpatterns = [
    path("load-balancers/", BalancerListView.as_view(), name="load-balancers"),
    path("load-balancers/<int:pk>/", BalancerDetailView.as_view(), name="load-balancer"),
    path("load-balancers/<int:pk>/apply/", BalancerApplyView.as_view(),
         name="load-balancer-apply"),
    path("load-balancers/<int:pk>/check/", BalancerCheckView.as_view(),
         name="load-balancer-check"),
    path("load-balancers/<int:pk>/sites/<int:site_id>/", BalancedSiteView.as_view(),
         name="load-balancer-site"),
]
