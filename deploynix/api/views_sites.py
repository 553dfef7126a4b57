"""/api/v1/sites/: CRUD, releases, deploy, roll back, reconcile, webhook URLs and secret."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from deployments import selectors as deployment_selectors
from deployments.models import Trigger
from deployments.reconcile import site_reconcile
from deployments.services import DeploymentError, deployment_request, rollback_request
from deploynix.api.serializers_sites import (
    DeployInputSerializer,
    DeploymentSerializer,
    ReconcileSerializer,
    ReleasesSerializer,
    RollbackInputSerializer,
    SiteDetailSerializer,
    SiteInputSerializer,
    SiteSerializer,
    WebhookInfoSerializer,
)
from servers.models import Server
from sites.models import Site
from sites.services import site_create, site_delete, site_update
from sites.webhooks.links import webhook_urls
from sites.webhooks.secrets import webhook_secret_ensure, webhook_secret_rotate
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability
from tenancy.roles import Cap

NO_STORE = {"Cache-Control": "no-store"}  # responses carrying a secret


class SiteObjectMixin:
    def get_site(self) -> Site:
        """The site in the token's organization, or 404 (another org's id looks missing)."""
        site = Site.objects.for_org(self.org).filter(pk=self.kwargs["pk"]).first()
        if site is None:
            raise Http404("No such site.")
        return site


class SiteListView(OrgAPIView):
    """The organization's sites (site:read); create one (site:write, Developer+)."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_WRITE}
    serializer_class = SiteSerializer

    def get_queryset(self):
        return Site.objects.for_org(self.org).prefetch_related("servers").order_by("name")

    @extend_schema(operation_id="sites_list", responses=SiteSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SiteSerializer(page, many=True).data)

    @extend_schema(request=SiteInputSerializer, responses={201: SiteSerializer})
    def post(self, request):
        fields = _site_input(request, partial=False)
        servers = _servers(self.org, fields.pop("servers", []))
        site = site_create(organization=self.org, actor=self.actor, servers=servers, **fields)
        return Response(SiteSerializer(site).data, status=status.HTTP_201_CREATED)


class SiteDetailView(SiteObjectMixin, OrgAPIView):
    """One site, with its public deploy key and hook URLs; edit (site:write) or delete
    (site:write, Manager+)."""

    abilities = {"GET": Ability.SITE_READ, "PATCH": Ability.SITE_WRITE,
                 "DELETE": Ability.SITE_WRITE}
    # Deleting a site is a Manager's call (ARCHITECTURE.md), editing one a Developer's.
    extra_caps = {"DELETE": Cap.MANAGE_SERVERS}
    serializer_class = SiteSerializer

    @extend_schema(responses=SiteDetailSerializer)
    def get(self, request, pk: int):
        return Response(SiteDetailSerializer(self.get_site()).data)

    @extend_schema(request=SiteInputSerializer)
    def patch(self, request, pk: int):
        fields = _site_input(request, partial=True)
        servers = fields.pop("servers", None)
        if servers is not None:
            servers = _servers(self.org, servers)
        site = site_update(site=self.get_site(), actor=self.actor, servers=servers, **fields)
        return Response(SiteSerializer(site).data)

    def delete(self, request, pk: int):
        site_delete(site=self.get_site(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SiteReleasesView(SiteObjectMixin, OrgAPIView):
    """Releases still on the servers, newest first, and the live one (site:read)."""

    abilities = {"GET": Ability.SITE_READ}
    serializer_class = ReleasesSerializer

    def get(self, request, pk: int):
        site = self.get_site()
        truth = deployment_selectors.site_truth(site=site)
        live = truth.live_everywhere if truth.observed else (
            truth.believed_live.release if truth.believed_live else None)
        return Response({"live": live or None,
                         "releases": deployment_selectors.retained_releases(site=site)})


class SiteDeploymentsView(SiteObjectMixin, OrgAPIView):
    """The site's deployments (site:read); queue one, optionally of an exact commit
    (site:deploy, Developer+)."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_DEPLOY}
    serializer_class = DeploymentSerializer

    @extend_schema(operation_id="sites_deployments_list",
                   responses=DeploymentSerializer(many=True))
    def get(self, request, pk: int):
        history = deployment_selectors.deployment_history(site=self.get_site())
        page = self.paginate_queryset(history)
        return self.get_paginated_response(DeploymentSerializer(page, many=True).data)

    @extend_schema(request=DeployInputSerializer, responses={202: DeploymentSerializer})
    def post(self, request, pk: int):
        form = DeployInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        deployment = _deployment_or_400(lambda: deployment_request(
            site=self.get_site(), actor=self.actor, trigger=Trigger.API,
            commit=form.validated_data.get("commit") or None))
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)


class SiteRollbackView(SiteObjectMixin, OrgAPIView):
    """Queue a rollback to a retained release (site:deploy, Developer+)."""

    abilities = {"POST": Ability.SITE_DEPLOY}
    serializer_class = DeploymentSerializer

    @extend_schema(request=RollbackInputSerializer, responses={202: DeploymentSerializer})
    def post(self, request, pk: int):
        form = RollbackInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        deployment = _deployment_or_400(lambda: rollback_request(
            site=self.get_site(), release=form.validated_data["release"], actor=self.actor,
            trigger=Trigger.API))
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)


class SiteReconcileView(SiteObjectMixin, OrgAPIView):
    """Read every server of the site now and record what is live (site:deploy, Developer+).

    Read-only on the servers; audited. Answers with what each server said and the drift.
    """

    abilities = {"POST": Ability.SITE_DEPLOY}
    serializer_class = ReconcileSerializer

    @extend_schema(request=None, responses=ReconcileSerializer)
    def post(self, request, pk: int):
        site = self.get_site()
        report = site_reconcile(site=site, actor=self.actor)
        truth = deployment_selectors.site_truth(site=site)
        return Response(ReconcileSerializer(truth, context={"judged": report.judged}).data)


class SiteWebhookView(SiteObjectMixin, OrgAPIView):
    """The hook URLs and the signing secret: Developer+ (the secret is a secret)."""

    abilities = {"GET": Ability.SITE_WRITE, "POST": Ability.SITE_WRITE}
    extra_caps = {"GET": Cap.VIEW_SECRETS, "POST": Cap.VIEW_SECRETS}
    serializer_class = WebhookInfoSerializer

    @extend_schema(summary="Webhook URLs and secret", request=None)
    def get(self, request, pk: int):
        site = self.get_site()
        body = {"urls": webhook_urls(site), "secret": webhook_secret_ensure(site=site)}
        return Response(body, headers=NO_STORE)

    @extend_schema(summary="Rotate the webhook secret (the old one stops working)", request=None)
    def post(self, request, pk: int):
        site = self.get_site()
        secret = webhook_secret_rotate(site=site, actor=self.actor)
        return Response({"urls": webhook_urls(site), "secret": secret}, headers=NO_STORE)


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


def _deployment_or_400(request_it):
    try:
        return request_it()
    except DeploymentError as exc:
        raise ValidationError({"detail": [str(exc)]}) from None
