"""The site API's parts that belong to sites: finding a site of the token's organization,
reading a site's input, and the organization's servers a site may be given.

The site endpoints themselves (/api/v1/sites/) send a representation that adds what apps
above sites know about a site, so they are composed in the project shell
(deploynix/site_api.py). The site's deployments, releases, rollback and reconcile are
deployments/api.py's, its webhook webhooks/api.py's, its schedules schedules/api.py's. Its
workers and hooks are here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from servers.models import Server
from sites.models import GATE_FIELDS, Site, SiteHook, Worker
from sites.selectors import worker_get, worker_list
from sites.serializers import (
    RevealInputSerializer,
    RevealSerializer,
    SiteHookInputSerializer,
    SiteHookSerializer,
    SiteInputSerializer,
    WorkerInputSerializer,
    WorkerSerializer,
)
from sites.services import (
    NoSuchVariable,
    site_hooks_update,
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


def _hook_input(request, *, partial: bool, point: str | None = None) -> dict:
    """The typed body; `point`: the URL's, taken when the body does not name one."""
    data = request.data
    if point is not None and isinstance(data, Mapping):
        data = {"point": point, **data}
    form = SiteHookInputSerializer(data=data, partial=partial)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


def _hooks_of(site: Site) -> list[SiteHook]:
    """The site's hooks in pipeline order (at most one per point)."""
    order = SiteHook.Point.values
    return sorted(site.hooks.all(), key=lambda hook: order.index(hook.point))


class SiteHookListView(SiteObjectMixin, OrgAPIView):
    """A site's hooks, in pipeline order (site:read); add one at a free point (site:write and
    the edit-hooks capability, Manager+). Audited; runs from the next deploy."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_WRITE}
    extra_caps = {"POST": Cap.EDIT_HOOKS}
    serializer_class = SiteHookSerializer
    pagination_class = None  # bounded: one hook per point

    @extend_schema(operation_id="site_hooks_list", responses=SiteHookSerializer(many=True))
    def get(self, request, pk: int):
        return Response(SiteHookSerializer(_hooks_of(self.get_site()), many=True).data)

    @extend_schema(request=SiteHookInputSerializer, responses={201: SiteHookSerializer})
    def post(self, request, pk: int):
        site = self.get_site()
        data = _hook_input(request, partial=False)
        if site.hooks.filter(point=data["point"]).exists():
            raise ValidationError({"point": ["This point has a hook already: change it with "
                                             "PATCH or PUT on its URL."]})
        site_hooks_update(site=site, actor=self.actor,
                          hooks={data["point"]: (data["script"], data["timeout"])})
        hook = site.hooks.get(point=data["point"])
        return Response(SiteHookSerializer(hook).data, status=status.HTTP_201_CREATED)


class SiteHookDetailView(SiteObjectMixin, OrgAPIView):
    """The hook at one point (`after_fetch`, `before_switch`, `after_switch`, `after_cleanup`,
    `on_failure`); change it (PUT: script and timeout, PATCH: either) or delete it (site:write
    and the edit-hooks capability, Manager+). Audited."""

    abilities = {"GET": Ability.SITE_READ, "PUT": Ability.SITE_WRITE,
                 "PATCH": Ability.SITE_WRITE, "DELETE": Ability.SITE_WRITE}
    extra_caps = {"PUT": Cap.EDIT_HOOKS, "PATCH": Cap.EDIT_HOOKS, "DELETE": Cap.EDIT_HOOKS}
    serializer_class = SiteHookSerializer

    def get_hook(self) -> SiteHook:
        hook = self.get_site().hooks.filter(point=self.kwargs["point"]).first()
        if hook is None:
            raise Http404("No hook at that point.")
        return hook

    def get(self, request, pk: int, point: str):
        return Response(SiteHookSerializer(self.get_hook()).data)

    @extend_schema(request=SiteHookInputSerializer, responses=SiteHookSerializer)
    def put(self, request, pk: int, point: str):
        return self._changed(partial=False)

    @extend_schema(request=SiteHookInputSerializer, responses=SiteHookSerializer)
    def patch(self, request, pk: int, point: str):
        return self._changed(partial=True)

    def delete(self, request, pk: int, point: str):
        hook = self.get_hook()
        site_hooks_update(site=hook.site, actor=self.actor, hooks={hook.point: ("", 0)})
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _changed(self, *, partial: bool) -> Response:
        hook = self.get_hook()
        data = _hook_input(self.request, partial=partial, point=hook.point)
        if data.get("point", hook.point) != hook.point:
            raise ValidationError({"point": ["A hook keeps its point: delete it and add one."]})
        script, timeout = data.get("script", hook.script), data.get("timeout", hook.timeout)
        site_hooks_update(site=hook.site, actor=self.actor, hooks={hook.point: (script, timeout)})
        return Response(SiteHookSerializer(hook.site.hooks.get(point=hook.point)).data)


# The site endpoints themselves are the shell's (deploynix/site_api.py); these are sites' own.
urlpatterns = [
    path("sites/<int:pk>/environment/reveal/", SiteEnvRevealView.as_view(),
         name="site-env-reveal"),
    path("sites/<int:pk>/workers/", WorkerListView.as_view(), name="site-workers"),
    path("sites/<int:pk>/workers/<int:worker_id>/", WorkerDetailView.as_view(),
         name="site-worker"),
    path("sites/<int:pk>/hooks/", SiteHookListView.as_view(), name="site-hooks"),
    path("sites/<int:pk>/hooks/<str:point>/", SiteHookDetailView.as_view(), name="site-hook"),
]
