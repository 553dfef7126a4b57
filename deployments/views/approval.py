"""Approve and Reject on a deployment awaiting approval (deployments/approvals.py decides)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from deployments.approvals import deployment_approve, deployment_reject
from deployments.gates import ApprovalRefused
from deployments.models import Deployment, Status
from deployments.services import DeploymentError
from tenancy.access import actor_for, audit_denied, org_object, org_view
from tenancy.roles import Cap


@org_view(Cap.APPROVE_DEPLOYS)
@require_POST
def deployment_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = org_object(Deployment, request.membership, pk=pk)
    try:
        row = deployment_approve(deployment=deployment, actor=actor_for(request),
                                 role=request.membership.role)
    except ApprovalRefused as exc:
        audit_denied(request, request.membership, Cap.APPROVE_DEPLOYS, str(exc))
        raise
    except DeploymentError as exc:
        messages.error(request, str(exc))
    else:
        held = " It is held until the freeze ends." if row.status == Status.HELD else ""
        messages.success(request, f"Approved {row.label}.{held}")
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)


@org_view(Cap.APPROVE_DEPLOYS)
@require_POST
def deployment_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = org_object(Deployment, request.membership, pk=pk)
    try:
        deployment_reject(deployment=deployment, actor=actor_for(request),
                          role=request.membership.role, reason=request.POST.get("reason", ""))
    except ApprovalRefused as exc:
        audit_denied(request, request.membership, Cap.APPROVE_DEPLOYS, str(exc))
        raise
    except DeploymentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Rejected {deployment.label}: it will not run.")
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)
