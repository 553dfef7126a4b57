"""The site API's parts that belong to sites: finding a site of the token's organization,
reading a site's input, and the organization's servers a site may be given.

The site endpoints themselves (/api/v1/sites/) send a representation that adds what apps
above sites know about a site, so they are composed in the project shell
(deploynix/site_api.py). The site's deployments, releases, rollback and reconcile are
deployments/api.py's, its webhook webhooks/api.py's, its schedules schedules/api.py's.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from servers.models import Server
from sites.models import GATE_FIELDS, Site, Worker
from sites.selectors import worker_get, worker_list
from sites.serializers import (
    RevealInputSerializer,
    RevealSerializer,
    SiteInputSerializer,
    WorkerInputSerializer,
    WorkerSerializer,
)
from sites.services import (
    NoSuchVariable,
    site_secret_reveal,
    worker_create,
    worker_delete,
    worker_update,
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


def site_input(request, *, partial: bool, role: int) -> dict:
    """The typed fields of the request's body (400 with field errors when a type is wrong;
    403 for the approval rule from a member whose `role` may not set a site's gates)."""
    form = SiteInputSerializer(data=request.data, partial=partial)
    form.is_valid(raise_exception=True)
    if not can(role, Cap.SITE_GATES) and set(GATE_FIELDS) & set(form.validated_data):
        raise PermissionDenied("Your role cannot change a site's approval rule (Manager+).")
    return dict(form.validated_data)


def org_servers(org, ids: list[int]) -> list[Server]:
    """The organization's servers with these ids; any other id is refused like a missing one."""
    servers = list(Server.objects.for_org(org).filter(pk__in=set(ids)))
    if len(servers) != len(set(ids)):
        raise ValidationError({"servers": ["Choose servers of this organization."]})
    return servers


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


def _worker_input(request, *, partial: bool) -> dict:
    form = WorkerInputSerializer(data=request.data, partial=partial)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


class WorkerListView(SiteObjectMixin, OrgAPIView):
    """A site's workers (site:read); add one (site:write and the manage-workers capability)."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_WRITE}
    extra_caps = {"POST": Cap.MANAGE_WORKERS}
    serializer_class = WorkerSerializer
    pagination_class = None  # bounded: at most sites.validators.MAX_WORKERS

    @extend_schema(operation_id="site_workers_list", responses=WorkerSerializer(many=True))
    def get(self, request, pk: int):
        return Response(WorkerSerializer(worker_list(site=self.get_site()), many=True).data)

    @extend_schema(request=WorkerInputSerializer, responses={201: WorkerSerializer})
    def post(self, request, pk: int):
        data = _worker_input(request, partial=False)
        worker = worker_create(site=self.get_site(), actor=self.actor, **data)
        return Response(WorkerSerializer(worker).data, status=status.HTTP_201_CREATED)


class WorkerDetailView(SiteObjectMixin, OrgAPIView):
    """One worker; change it or delete it (site:write and the manage-workers capability).
    Changes reach the servers with the site's next deploy."""

    abilities = {"GET": Ability.SITE_READ, "PATCH": Ability.SITE_WRITE,
                 "DELETE": Ability.SITE_WRITE}
    extra_caps = {"PATCH": Cap.MANAGE_WORKERS, "DELETE": Cap.MANAGE_WORKERS}
    serializer_class = WorkerSerializer

    def get_worker(self) -> Worker:
        worker = worker_get(site=self.get_site(), pk=self.kwargs["worker_id"])
        if worker is None:
            raise Http404("No such worker.")
        return worker

    def get(self, request, pk: int, worker_id: int):
        return Response(WorkerSerializer(self.get_worker()).data)

    @extend_schema(request=WorkerInputSerializer, responses=WorkerSerializer)
    def patch(self, request, pk: int, worker_id: int):
        data = _worker_input(request, partial=True)
        worker = worker_update(worker=self.get_worker(), actor=self.actor, **data)
        return Response(WorkerSerializer(worker).data)

    def delete(self, request, pk: int, worker_id: int):
        worker_delete(worker=self.get_worker(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


# The site endpoints themselves are the shell's (deploynix/site_api.py); these are sites' own.
urlpatterns = [
    path("sites/<int:pk>/environment/reveal/", SiteEnvRevealView.as_view(),
         name="site-env-reveal"),
    path("sites/<int:pk>/workers/", WorkerListView.as_view(), name="site-workers"),
    path("sites/<int:pk>/workers/<int:worker_id>/", WorkerDetailView.as_view(),
         name="site-worker"),
]
