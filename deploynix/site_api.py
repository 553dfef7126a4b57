"""/api/v1/sites/: list, create, read, edit and delete sites, through sites.services.

A site's representation shows what several apps know about it: its own fields (sites), its
hook URLs (webhooks) and, in the detail, what its servers serve (deployments). It is composed
here, in the project shell, for the same reason as the site page (deploynix/site_pages.py):
only the shell may import them all, and `sites` stays below the apps that deploy it.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from deployments.selectors import site_truth
from deployments.serializers import SiteTruthSerializer
from sites.api import SiteObjectMixin, org_servers, site_input
from sites.models import Site
from sites.serializers import OWN_FIELDS, SiteBaseSerializer, SiteInputSerializer
from sites.services import site_create, site_delete, site_update
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability
from tenancy.roles import Cap
from webhooks.links import webhook_urls

# The hook URLs go just before `created_at`.
_AT = OWN_FIELDS.index("created_at")


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class WebhookUrlsField(serializers.Field):
    """The public hook URL per provider."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, site: Site) -> dict[str, str]:
        return webhook_urls(site)


@extend_schema_field(SiteTruthSerializer)
class TruthField(serializers.Field):
    """What the site's servers serve, next to what the panel believes live."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, site: Site) -> dict:
        return SiteTruthSerializer(site_truth(site=site)).data


class SiteSerializer(SiteBaseSerializer):
    webhook_urls = WebhookUrlsField()

    class Meta(SiteBaseSerializer.Meta):
        fields = [*OWN_FIELDS[:_AT], "webhook_urls", *OWN_FIELDS[_AT:]]
        read_only_fields = fields


class SiteDetailSerializer(SiteSerializer):
    truth = TruthField()

    class Meta(SiteSerializer.Meta):
        fields = [*SiteSerializer.Meta.fields, "truth"]
        read_only_fields = fields


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
        fields = site_input(request, partial=False, role=self.grant.membership.role)
        servers = org_servers(self.org, fields.pop("servers", []))
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
        fields = site_input(request, partial=True, role=self.grant.membership.role)
        servers = fields.pop("servers", None)
        if servers is not None:
            servers = org_servers(self.org, servers)
        site = site_update(site=self.get_site(), actor=self.actor, servers=servers, **fields)
        return Response(SiteSerializer(site, context=self.shown()).data)

    def delete(self, request, pk: int):
        site_delete(site=self.get_site(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("sites/", SiteListView.as_view(), name="sites"),
    path("sites/<int:pk>/", SiteDetailView.as_view(), name="site"),
]
