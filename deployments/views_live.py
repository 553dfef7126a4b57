"""The raw log of a deployment as a text file (mounted by deployments/urls.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from deployments.ansi import strip_ansi
from deployments.models import Deployment, LogLine
from tenancy.access import org_object, org_view
from tenancy.roles import Cap


def log_text(deployment: Deployment) -> str:
    """Every stored line in seq order, `[server] ` tagged, colour codes removed."""
    rows = (
        LogLine.objects.filter(deployment=deployment)
        .order_by("seq")
        .values_list("server", "text")
        .iterator(chunk_size=2000)
    )
    return "".join(
        f"[{server}] {strip_ansi(text)}\n" if server else f"{strip_ansi(text)}\n"
        for server, text in rows
    )


@org_view(Cap.VIEW)
def log_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored log of deployment `pk` as a text/plain attachment (already redacted)."""
    deployment = org_object(Deployment, request.membership, pk=pk)
    response = HttpResponse(log_text(deployment), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deployment-{deployment.pk}.log"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
