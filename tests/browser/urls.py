"""The app's URLs plus `/_test/o/<org>/live/<pk>/`, a page holding one deployment's live log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path

from deployments.models import Deployment
from deployments.selectors import log_lines_after
from deploynix.access import org_object, org_view
from deploynix.roles import Cap


@org_view(Cap.VIEW)
def live_log_page(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = org_object(Deployment, request.membership, pk=pk)
    lines = log_lines_after(deployment=deployment, after=0)
    context = {"org": request.org, "deployment": deployment, "lines": lines}
    return render(request, "browser/live_log_page.html", context)


urlpatterns = [
    path("_test/o/<slug:org>/live/<int:pk>/", live_log_page, name="test-live-log"),
    path("", include("deploynix.urls")),
]
