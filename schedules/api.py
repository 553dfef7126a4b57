"""/api/v1/sites/<id>/schedules/ and /api/v1/schedules/<id>/cancel/: deploys at a set time.
Mounted by deploynix/api_urls.py.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from schedules.models import ScheduledDeploy, ScheduleStatus
from schedules.serializers import ScheduleInputSerializer, ScheduleSerializer
from schedules.services import ScheduleError, schedule_cancel, schedule_create
from sites.api import SiteObjectMixin
from sites.models import Site
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability

PENDING = Q(status=ScheduleStatus.PENDING)
CONFLICT_BODY = inline_serializer("ConflictError", {"detail": serializers.CharField()})


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the object's current state."
    default_code = "conflict"


def schedules_for_listing(site: Site) -> QuerySet[ScheduledDeploy]:
    """Pending first (soonest first), then fired and cancelled ones (newest first).

    One ordered queryset rather than two lists, so a page boundary never reorders rows.
    """
    return (
        ScheduledDeploy.objects.filter(site=site)
        .annotate(
            closed=Case(
                When(PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            pending_at=Case(When(PENDING, then="run_at")),
            closed_at=Case(When(~PENDING, then="run_at")),
        )
        .order_by("closed", "pending_at", "-closed_at", "-id")
    )


class SiteSchedulesView(SiteObjectMixin, OrgAPIView):
    """The site's scheduled deploys (site:read); schedule one (site:deploy, Developer+)."""

    abilities = {"GET": Ability.SITE_READ, "POST": Ability.SITE_DEPLOY}
    serializer_class = ScheduleSerializer

    @extend_schema(
        operation_id="sites_schedules_list",
        summary="Scheduled deploys of a site",
        responses=ScheduleSerializer(many=True),
    )
    def get(self, request, pk: int):
        page = self.paginate_queryset(schedules_for_listing(self.get_site()))
        return self.get_paginated_response(ScheduleSerializer(page, many=True).data)

    @extend_schema(
        summary="Schedule a deploy",
        request=ScheduleInputSerializer,
        responses={201: ScheduleSerializer},
    )
    def post(self, request, pk: int):
        form = ScheduleInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        site = self.get_site()
        # The service re-checks run_at (future) and the commit, raising field errors (400).
        schedule = schedule_create(site=site, actor=self.actor, **form.validated_data)
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleCancelView(OrgAPIView):
    """Cancel a pending scheduled deploy (site:deploy, Developer+); 409 once it fired."""

    abilities = {"POST": Ability.SITE_DEPLOY}
    serializer_class = ScheduleSerializer

    def get_schedule(self) -> ScheduledDeploy:
        """The schedule in the token's organization, or 404."""
        schedule = (
            ScheduledDeploy.objects.for_org(self.org)
            .select_related("site__organization")
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if schedule is None:
            raise Http404("No such scheduled deploy.")
        return schedule

    @extend_schema(
        summary="Cancel a scheduled deploy",
        request=None,
        responses={
            200: ScheduleSerializer,
            409: OpenApiResponse(CONFLICT_BODY, description="It already ran or was cancelled."),
        },
    )
    def post(self, request, pk: int):
        try:
            schedule = schedule_cancel(schedule=self.get_schedule(), actor=self.actor)
        except ScheduleError as exc:
            raise Conflict(str(exc)) from None
        return Response(ScheduleSerializer(schedule).data)


urlpatterns = [
    path("sites/<int:pk>/schedules/", SiteSchedulesView.as_view(), name="site-schedules"),
    path("schedules/<int:pk>/cancel/", ScheduleCancelView.as_view(), name="schedule-cancel"),
]
