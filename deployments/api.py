"""/api/v1/deployments/<id>/ (status with steps and timings, the stored log, cancel) and a
site's deployments: queue one, the history, releases on the servers, rollback, reconcile.
Mounted by deploynix/api_urls.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from deployments import selectors as deployment_selectors
from deployments.approvals import deployment_approve, deployment_reject
from deployments.idempotency import (
    HEADER,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    idempotency_key_clean,
    idempotent_deployment,
    request_fingerprint,
)
from deployments.models import Deployment, Trigger
from deployments.plan import destructive_to_confirm, site_plan
from deployments.provisioning import ProvisionSettings, provision_request
from deployments.reconcile import site_reconcile
from deployments.release_diff import deployment_changes
from deployments.rollback_plan import NotARollbackTarget, rollback_plan
from deployments.selectors import log_lines_after
from deployments.serializers import (
    DeployInputSerializer,
    DeploymentChangesSerializer,
    DeploymentDetailSerializer,
    DeploymentSerializer,
    LogLineSerializer,
    PlanInputSerializer,
    PlanSerializer,
    ReconcileSerializer,
    RejectInputSerializer,
    ReleasesSerializer,
    RollbackInputSerializer,
    RollbackPlanInputSerializer,
    RollbackPlanSerializer,
)
from deployments.services import (
    DeploymentError,
    deployment_cancel,
    deployment_request,
    rollback_request,
)
from servers.provision.tls import MAX_PEM_BYTES
from sites.api import SiteObjectMixin
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability
from tenancy.roles import Cap

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


class DeploymentApproveView(DeploymentObjectMixin, OrgAPIView):
    """Approve a deployment awaiting approval (site:deploy, and the site's approval role or
    higher; never the requester). Queues it (or holds it during a freeze); approving it again
    answers the same deployment and queues nothing more."""

    abilities = {"POST": Ability.SITE_DEPLOY}
    extra_caps = {"POST": Cap.APPROVE_DEPLOYS}
    serializer_class = DeploymentSerializer

    @extend_schema(request=None, responses={200: DeploymentSerializer})
    def post(self, request, pk: int):
        try:
            deployment = deployment_approve(deployment=self.get_deployment(), actor=self.actor,
                                            role=self.grant.membership.role)
        except DeploymentError as exc:
            raise ValidationError({"detail": [str(exc)]}) from None
        return Response(DeploymentSerializer(deployment).data)


class DeploymentRejectView(DeploymentObjectMixin, OrgAPIView):
    """Reject a deployment awaiting approval, with an optional reason (same rules as approving)."""

    abilities = {"POST": Ability.SITE_DEPLOY}
    extra_caps = {"POST": Cap.APPROVE_DEPLOYS}
    serializer_class = DeploymentSerializer

    @extend_schema(request=RejectInputSerializer, responses={200: DeploymentSerializer})
    def post(self, request, pk: int):
        form = RejectInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            deployment = deployment_reject(
                deployment=self.get_deployment(), actor=self.actor,
                role=self.grant.membership.role, reason=form.validated_data.get("reason", ""))
        except DeploymentError as exc:
            raise ValidationError({"detail": [str(exc)]}) from None
        return Response(DeploymentSerializer(deployment).data)


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


class IdempotencyKeyReusedError(APIException):
    status_code = 422
    default_code = "idempotency_key_reused"


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False, description=(
        "Makes a retry safe: the same key (per token, for 24 hours) returns the deployment the "
        "first request queued, with the same status, instead of queuing another. 1 to 255 "
        "printable ASCII characters without spaces (e.g. a UUID). The same key with a "
        "different request body is refused with 422."))
QUEUED_RESPONSES = {
    202: DeploymentSerializer,
    400: OpenApiResponse(description="Invalid input or Idempotency-Key header."),
    422: OpenApiResponse(
        response=inline_serializer("IdempotencyKeyReused", {"detail": serializers.CharField()}),
        description="The Idempotency-Key was already used with a different request."),
}

DESTRUCTIVE_RESPONSE = OpenApiResponse(
    response=inline_serializer("DestructiveMigrations", {
        "detail": serializers.CharField(),
        "destructive": serializers.ListField(child=serializers.DictField())}),
    description="The plan finds destructive migrations and confirm_destructive was not sent.")


class QueueingMixin:
    """Queue a deployment once per Idempotency-Key (deployments/idempotency.py)."""

    def queued(self, data: dict, request_it) -> Response:
        try:
            key = idempotency_key_clean(self.request.headers.get(HEADER))
        except IdempotencyKeyInvalid as exc:
            raise ValidationError({HEADER: [str(exc)]}) from None
        if key is None:
            deployment, replayed = _deployment_or_400(request_it), False
        else:
            fingerprint = request_fingerprint(self.request.method, self.request.path, data)
            try:
                deployment, replayed = idempotent_deployment(
                    organization=self.org, token=self.grant.token, key=key,
                    fingerprint=fingerprint, create=lambda: _deployment_or_400(request_it))
            except IdempotencyKeyReused as exc:
                raise IdempotencyKeyReusedError(str(exc)) from None
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED,
                        headers=headers)


class SiteDeploymentsView(QueueingMixin, SiteObjectMixin, OrgAPIView):
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

    @extend_schema(request=DeployInputSerializer, parameters=[IDEMPOTENCY_KEY],
                   responses={**QUEUED_RESPONSES, 409: DESTRUCTIVE_RESPONSE})
    def post(self, request, pk: int):
        form = DeployInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        site = self.get_site()
        commit = form.validated_data.get("commit") or None
        if not form.validated_data["confirm_destructive"]:
            destructive = destructive_to_confirm(site=site, commit=commit)
            if destructive:
                return Response({"detail": "This deploy runs destructive migrations: send "
                                           "confirm_destructive=true to deploy.",
                                 "destructive": destructive}, status=status.HTTP_409_CONFLICT)
        return self.queued(form.validated_data, lambda: deployment_request(
            site=site, actor=self.actor, trigger=Trigger.API,
            commit=commit,
            freeze_override=form.validated_data.get("freeze_override"),
            force=form.validated_data.get("force", False)))


class SitePlanView(SiteObjectMixin, OrgAPIView):
    """The dry run of a deploy: steps and commands per server, the release diff and the
    warnings (site:deploy, Developer+). Reads the servers; changes nothing."""

    abilities = {"GET": Ability.SITE_DEPLOY}
    serializer_class = PlanSerializer

    @extend_schema(parameters=[PlanInputSerializer], responses=PlanSerializer)
    def get(self, request, pk: int):
        form = PlanInputSerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        site = self.get_site()
        try:
            plan = site_plan(site=site, commit=form.validated_data.get("commit") or None)
        except ValueError as exc:
            raise ValidationError({"commit": [str(exc)]}) from None
        return Response(PlanSerializer(plan).data)


class SiteRollbackPlanView(SiteObjectMixin, OrgAPIView):
    """Before a rollback: the release that becomes live, the commits that go away, and the
    migrations the database keeps (site:deploy, Developer+). Reads only."""

    abilities = {"GET": Ability.SITE_DEPLOY}
    serializer_class = RollbackPlanSerializer

    @extend_schema(parameters=[RollbackPlanInputSerializer], responses=RollbackPlanSerializer)
    def get(self, request, pk: int):
        form = RollbackPlanInputSerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        try:
            plan = rollback_plan(site=self.get_site(), release=form.validated_data["release"])
        except NotARollbackTarget as exc:
            raise ValidationError({"release": [str(exc)]}) from None
        return Response(RollbackPlanSerializer(plan).data)


class DeploymentChangesView(DeploymentObjectMixin, OrgAPIView):
    """What the deployment changes: its release diff, migrations, env keys (site:read)."""

    abilities = {"GET": Ability.SITE_READ}
    serializer_class = DeploymentChangesSerializer

    def get(self, request, pk: int):
        deployment = self.get_deployment()
        changes, unknown = deployment_changes(deployment)
        return Response(DeploymentChangesSerializer({
            "kind": deployment.kind, "base": deployment.base_commit,
            "commit": deployment.commit_sha, "changes": changes, "unknown": unknown,
        }).data)


class SiteRollbackView(QueueingMixin, SiteObjectMixin, OrgAPIView):
    """Queue a rollback to a retained release (site:deploy, Developer+)."""

    abilities = {"POST": Ability.SITE_DEPLOY}
    serializer_class = DeploymentSerializer

    @extend_schema(request=RollbackInputSerializer, parameters=[IDEMPOTENCY_KEY],
                   responses=QUEUED_RESPONSES)
    def post(self, request, pk: int):
        form = RollbackInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        site = self.get_site()
        return self.queued(form.validated_data, lambda: rollback_request(
            site=site, release=form.validated_data["release"], actor=self.actor,
            trigger=Trigger.API))


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


class ProvisionInputSerializer(serializers.Serializer):
    scheduler = serializers.BooleanField(required=False)
    certificate = serializers.CharField(required=False, max_length=MAX_PEM_BYTES)
    private_key = serializers.CharField(required=False, max_length=MAX_PEM_BYTES,
                                        write_only=True)
    remove_certificate = serializers.BooleanField(required=False, default=False)


class SiteProvisionView(QueueingMixin, SiteObjectMixin, OrgAPIView):
    """Queue provisioning the site on its servers: its user, PHP-FPM pool, nginx block and
    cron entry (site:deploy, Manager+). Answers with the job, a deployment of kind provision."""

    abilities = {"POST": Ability.SITE_DEPLOY}
    extra_caps = {"POST": Cap.PROVISION}
    serializer_class = DeploymentSerializer

    @extend_schema(request=ProvisionInputSerializer, parameters=[IDEMPOTENCY_KEY],
                   responses=QUEUED_RESPONSES)
    def post(self, request, pk: int):
        form = ProvisionInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data, site = form.validated_data, self.get_site()
        settings = ProvisionSettings(
            scheduler=data.get("scheduler"), certificate=data.get("certificate"),
            private_key=data.get("private_key"), remove_certificate=data["remove_certificate"])
        fingerprint_data = {k: v for k, v in data.items() if k != "private_key"}
        return self.queued(fingerprint_data, lambda: provision_request(
            site=site, actor=self.actor, trigger=Trigger.API, settings=settings))


def _deployment_or_400(request_it):
    try:
        return request_it()
    except DeploymentError as exc:
        raise ValidationError({"detail": [str(exc)]}) from None


urlpatterns = [
    path("sites/<int:pk>/releases/", SiteReleasesView.as_view(), name="site-releases"),
    path("sites/<int:pk>/deployments/", SiteDeploymentsView.as_view(), name="site-deployments"),
    path("sites/<int:pk>/rollback/", SiteRollbackView.as_view(), name="site-rollback"),
    path("sites/<int:pk>/rollback/plan/", SiteRollbackPlanView.as_view(),
         name="site-rollback-plan"),
    path("sites/<int:pk>/plan/", SitePlanView.as_view(), name="site-plan"),
    path("sites/<int:pk>/reconcile/", SiteReconcileView.as_view(), name="site-reconcile"),
    path("sites/<int:pk>/provision/", SiteProvisionView.as_view(), name="site-provision"),
    path("deployments/<int:pk>/", DeploymentDetailView.as_view(), name="deployment"),
    path("deployments/<int:pk>/log/", DeploymentLogView.as_view(), name="deployment-log"),
    path("deployments/<int:pk>/changes/", DeploymentChangesView.as_view(),
         name="deployment-changes"),
    path("deployments/<int:pk>/cancel/", DeploymentCancelView.as_view(), name="deployment-cancel"),
    path("deployments/<int:pk>/approve/", DeploymentApproveView.as_view(),
         name="deployment-approve"),
    path("deployments/<int:pk>/reject/", DeploymentRejectView.as_view(), name="deployment-reject"),
]
