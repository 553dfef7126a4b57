"""/api/v1/freeze-windows/ (the organization's windows) and /api/v1/sites/<id>/freeze-windows/
(a site's, with the freeze active now): list, add, change, remove. Mounted by deploynix/api_urls.py.
Adding or removing needs site:write and the scope's capability: `org_freezes` (Admin+) for the
organization's windows, `site_gates` (Manager+) for a site's."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from sites.api import SiteObjectMixin
from sites.freezes import (
    DAY_NAMES,
    active_freeze,
    describe,
    freeze_window_create,
    freeze_window_delete,
    freeze_window_list,
    freeze_window_update,
    windows_of_site,
)
from sites.models import FreezeWindow
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability
from tenancy.roles import Cap, can


class FreezeWindowSerializer(serializers.ModelSerializer):
    when = serializers.SerializerMethodField()

    class Meta:
        model = FreezeWindow
        fields = ["id", "name", "site", "kind", "time_zone", "starts_at", "ends_at", "days",
                  "start_time", "end_time", "when", "created_by_name", "created_at"]
        read_only_fields = fields

    def get_when(self, window: FreezeWindow) -> str:
        return describe(window)


class FreezeWindowInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=FreezeWindow.Kind.choices)
    time_zone = serializers.CharField(max_length=64, required=False, default="UTC")
    starts_at = serializers.DateTimeField(required=False, help_text="One-off: with an offset.")
    ends_at = serializers.DateTimeField(required=False)
    days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, max_length=7,
        help_text=f"Weekly: 0 = {DAY_NAMES[0]} … 6 = {DAY_NAMES[6]}.")
    start_time = serializers.TimeField(required=False, help_text="Weekly, in the time zone.")
    end_time = serializers.TimeField(required=False)


ACTIVE = inline_serializer("ActiveFreeze", {
    "window": FreezeWindowSerializer(), "ends_at": serializers.DateTimeField()})


def _created(view, site) -> Response:
    form = FreezeWindowInputSerializer(data=view.request.data)
    form.is_valid(raise_exception=True)
    window = freeze_window_create(organization=view.org, site=site, actor=view.actor,
                                  **form.validated_data)
    return Response(FreezeWindowSerializer(window).data, status=status.HTTP_201_CREATED)


class OrgFreezeWindowsView(OrgAPIView):
    """The organization's freeze windows (site:read); add one (site:write, Admin+)."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_WRITE}
    extra_caps = {"POST": Cap.ORG_FREEZES}
    serializer_class = FreezeWindowSerializer

    @extend_schema(operation_id="freeze_windows_list",
                   responses=FreezeWindowSerializer(many=True))
    def get(self, request):
        windows = freeze_window_list(organization=self.org, site=None)
        return Response(FreezeWindowSerializer(windows, many=True).data)

    @extend_schema(request=FreezeWindowInputSerializer, responses={201: FreezeWindowSerializer})
    def post(self, request):
        return _created(self, None)


class SiteFreezeWindowsView(SiteObjectMixin, OrgAPIView):
    """The windows that apply to a site (its own and the organization's) and the freeze active
    now (site:read); add one of the site's own (site:write, Manager+)."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_WRITE}
    extra_caps = {"POST": Cap.SITE_GATES}
    serializer_class = FreezeWindowSerializer

    @extend_schema(operation_id="site_freeze_windows_list", responses=inline_serializer(
        "SiteFreezeWindows", {"active": ACTIVE, "windows": FreezeWindowSerializer(many=True)}))
    def get(self, request, pk: int):
        site = self.get_site()
        freeze = active_freeze(site, timezone.now())
        active = None if freeze is None else {
            "window": FreezeWindowSerializer(freeze.window).data, "ends_at": freeze.ends_at}
        return Response({"active": active, "windows": FreezeWindowSerializer(
            windows_of_site(site).order_by("name", "id"), many=True).data})

    @extend_schema(request=FreezeWindowInputSerializer, responses={201: FreezeWindowSerializer})
    def post(self, request, pk: int):
        return _created(self, self.get_site())


class FreezeWindowDetailView(OrgAPIView):
    """One freeze window (site:read); change it in place (PUT: every field, PATCH: some; validated
    like a new one) or remove it (site:write; Admin+ for the organization's, Manager+ for a
    site's). Both audited."""

    abilities = {"GET": Ability.SITE_READ, "PUT": Ability.SITE_WRITE,
                 "PATCH": Ability.SITE_WRITE, "DELETE": Ability.SITE_WRITE}
    serializer_class = FreezeWindowSerializer

    def get_window(self, *, change: bool) -> FreezeWindow:
        """The window in the token's organization (404 otherwise); `change`: 403 unless the
        member's role holds the scope's capability."""
        window = FreezeWindow.objects.filter(organization=self.org, pk=self.kwargs["pk"]).first()
        if window is None:
            raise Http404("No such freeze window.")
        needed = Cap.ORG_FREEZES if window.site_id is None else Cap.SITE_GATES
        if change and not can(self.grant.membership.role, needed):
            raise PermissionDenied(f"Your role cannot change this window ({needed}).")
        return window

    def get(self, request, pk: int):
        return Response(FreezeWindowSerializer(self.get_window(change=False)).data)

    @extend_schema(request=FreezeWindowInputSerializer, responses=FreezeWindowSerializer)
    def put(self, request, pk: int):
        return self._edited(partial=False)

    @extend_schema(request=FreezeWindowInputSerializer, responses=FreezeWindowSerializer)
    def patch(self, request, pk: int):
        return self._edited(partial=True)

    def delete(self, request, pk: int):
        freeze_window_delete(window=self.get_window(change=True), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _edited(self, *, partial: bool) -> Response:
        window = self.get_window(change=True)
        form = FreezeWindowInputSerializer(data=self.request.data, partial=partial)
        form.is_valid(raise_exception=True)
        changes = dict(form.validated_data)
        if not partial:  # a full replacement: what the body leaves out is cleared
            changes = {**dict.fromkeys(("starts_at", "ends_at", "days", "start_time",
                                        "end_time")), **changes}
        window = freeze_window_update(window=window, actor=self.actor, **changes)
        return Response(FreezeWindowSerializer(window).data)


urlpatterns = [
    path("freeze-windows/", OrgFreezeWindowsView.as_view(), name="freeze-windows"),
    path("freeze-windows/<int:pk>/", FreezeWindowDetailView.as_view(), name="freeze-window"),
    path("sites/<int:pk>/freeze-windows/", SiteFreezeWindowsView.as_view(),
         name="site-freeze-windows"),
]
