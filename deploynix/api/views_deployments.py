"""/api/v1/deployments/<id>/: status with steps and timings, the stored log, cancel."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from deployments.models import Deployment
from deployments.selectors import log_lines_after
from deployments.services import DeploymentError, deployment_cancel
from deploynix.api.serializers_sites import (
    DeploymentDetailSerializer,
    DeploymentSerializer,
    LogLineSerializer,
)
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability

LOG_PAGE = 5000


class DeploymentObjectMixin:
    def get_deployment(self) -> Deployment:
        """The deployment in the token's organization, or 404."""
        deployment = (
            Deployment.objects.for_org(self.org).select_related("site")
            .filter(pk=self.kwargs["pk"]).first()
        )
        if deployment is None:
            raise Http404("No such deployment.")
        return deployment


class DeploymentDetailView(DeploymentObjectMixin, OrgAPIView):
    """Status, steps and timings of one deployment (site:read)."""

    abilities = {"GET": Ability.SITE_READ}
    serializer_class = DeploymentDetailSerializer

    def get(self, request, pk: int):
        return Response(DeploymentDetailSerializer(self.get_deployment()).data)


class DeploymentLogView(DeploymentObjectMixin, OrgAPIView):
    """Stored log lines with seq > `after`, up to 5000 at a time (site:read)."""

    abilities = {"GET": Ability.SITE_READ}
    serializer_class = LogLineSerializer

    @extend_schema(parameters=[OpenApiParameter("after", OpenApiTypes.INT, description=(
        "Only lines with seq greater than this (resume where you stopped)."))])
    def get(self, request, pk: int):
        try:
            after = max(0, int(request.query_params.get("after", 0)))
        except ValueError:
            raise ValidationError({"after": ["Give a line number."]}) from None
        deployment = self.get_deployment()
        lines = log_lines_after(deployment=deployment, after=after, limit=LOG_PAGE)
        return Response({
            "status": deployment.status,
            "finished": deployment.is_finished,
            "last_seq": lines[-1].seq if lines else after,
            "more": len(lines) == LOG_PAGE,
            "lines": LogLineSerializer(lines, many=True).data,
        })


class DeploymentCancelView(DeploymentObjectMixin, OrgAPIView):
    """Cancel a queued deployment, or ask a running one to stop (site:deploy)."""

    abilities = {"POST": Ability.SITE_DEPLOY}
    serializer_class = DeploymentSerializer

    @extend_schema(request=None, responses={202: DeploymentSerializer})
    def post(self, request, pk: int):
        try:
            deployment = deployment_cancel(deployment=self.get_deployment(), actor=self.actor)
        except DeploymentError as exc:
            raise ValidationError({"detail": [str(exc)]}) from None
        return Response(DeploymentSerializer(deployment).data, status=202)
