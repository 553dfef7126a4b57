"""/api/v1/sites/: list, create, read, edit and delete sites, through sites.services.

The site's deployments, releases, rollback and reconcile are deployments/api.py's, its webhook
webhooks/api.py's, its schedules schedules/api.py's. Mounted by deploynix/api_urls.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from servers.models import Server
from sites.models import Site
from sites.serializers import (
    RevealInputSerializer,
    RevealSerializer,
    SiteDetailSerializer,
    SiteInputSerializer,
    SiteSerializer,
)
from sites.services import (
    NoSuchVariable,
    site_create,
    site_delete,
    site_secret_reveal,
    site_update,
)
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability
from tenancy.roles import Cap, can

NO_STORE = {"Cache-Control": "no-store"}  # responses carrying a secret


class SiteObjectMixin:
    def get_site(self) -> Site:
        """The site in the token's organization, or 404 (another org's id looks missing)."""
        site = Site.objects.for_org(self.org).filter(pk=self.kwargs["pk"]).first()
        if site is None:
            raise Http404("No such site.")
        return site

    def shown(self) -> dict:
        """Serializer context: may this token's user see (non-secret) environment values?"""
        return {"show_plain": can(self.grant.membership.role, Cap.VIEW_SECRETS)}


class SiteListView(SiteObjectMixin, OrgAPIView):
    """The organization's sites (site:read); create one (site:write, Developer+)."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_WRITE}
    serializer_class = SiteSerializer

    def get_queryset(self):
        return Site.objects.for_org(self.org).prefetch_related("servers").order_by("name")

    @extend_schema(operation_id="sites_list", responses=SiteSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            SiteSerializer(page, many=True, context=self.shown()).data
        )

    @extend_schema(request=SiteInputSerializer, responses={201: SiteSerializer})
    def post(self, request):
        fields = _site_input(request, partial=False)
        servers = _servers(self.org, fields.pop("servers", []))
        site = site_create(organization=self.org, actor=self.actor, servers=servers, **fields)
        return Response(SiteSerializer(site, context=self.shown()).data,
                        status=status.HTTP_201_CREATED)


class SiteDetailView(SiteObjectMixin, OrgAPIView):
    """One site, with its public deploy key and hook URLs; edit (site:write) or delete
    (site:write, Manager+)."""

    abilities = {"GET": Ability.SITE_READ, "PATCH": Ability.SITE_WRITE,
                 "DELETE": Ability.SITE_WRITE}
    # Deleting a site is a Manager's call (tenancy/roles.py), editing one a Developer's.
    extra_caps = {"DELETE": Cap.MANAGE_SERVERS}
    serializer_class = SiteSerializer

    @extend_schema(responses=SiteDetailSerializer)
    def get(self, request, pk: int):
        return Response(SiteDetailSerializer(self.get_site(), context=self.shown()).data)

    @extend_schema(request=SiteInputSerializer)
    def patch(self, request, pk: int):
        fields = _site_input(request, partial=True)
        servers = fields.pop("servers", None)
        if servers is not None:
            servers = _servers(self.org, servers)
        site = site_update(site=self.get_site(), actor=self.actor, servers=servers, **fields)
        return Response(SiteSerializer(site, context=self.shown()).data)

    def delete(self, request, pk: int):
        site_delete(site=self.get_site(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SiteEnvRevealView(SiteObjectMixin, OrgAPIView):
    """One environment value, read on purpose: needs the "view secrets" capability. Audited."""

    abilities = {"POST": Ability.SITE_READ}
    extra_caps = {"POST": Cap.VIEW_SECRETS}
    serializer_class = RevealSerializer

    @extend_schema(request=RevealInputSerializer, responses=RevealSerializer)
    def post(self, request, pk: int):
        form = RevealInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        name = form.validated_data["name"]
        try:
            value = site_secret_reveal(site=self.get_site(), actor=self.actor, name=name)
        except NoSuchVariable:
            raise Http404("No such variable.") from None
        return Response({"name": name, "value": value}, headers=NO_STORE)


def _site_input(request, *, partial: bool) -> dict:
    form = SiteInputSerializer(data=request.data, partial=partial)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


def _servers(org, ids: list[int]) -> list[Server]:
    """The organization's servers with these ids; any other id is refused like a missing one."""
    servers = list(Server.objects.for_org(org).filter(pk__in=set(ids)))
    if len(servers) != len(set(ids)):
        raise ValidationError({"servers": ["Choose servers of this organization."]})
    return servers


urlpatterns = [
    path("sites/", SiteListView.as_view(), name="sites"),
    path("sites/<int:pk>/", SiteDetailView.as_view(), name="site"),
    path("sites/<int:pk>/environment/reveal/", SiteEnvRevealView.as_view(),
         name="site-env-reveal"),
]
