"""A deployment's stored log beyond the page: earlier lines on demand, the raw download."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from deployments import selectors
from deployments.ansi import frame_segments
from deployments.log_stream import LogStream, StreamingLogResponse
from deployments.models import Deployment, LogLine
from tenancy.access import org_object, org_view
from tenancy.roles import Cap

# The deployment page renders this many of the newest lines; "Show earlier" fetches pages of
# EARLIER_PAGE lines before the first one shown (static/js/livelog.js).
LOG_LINES_ON_PAGE = 500
EARLIER_PAGE = 500
MAX_SEQ = 2**31 - 1  # LogLine.seq is a PositiveIntegerField


def earlier_line(line: LogLine) -> dict:
    """A stored line as the live socket sends it (its text as coloured segments)."""
    return {"seq": line.seq, "server": line.server, "stream": line.stream,
            "segments": frame_segments(line.text), "ts": line.ts.timestamp()}


def before_param(request: HttpRequest) -> int | None:
    """The `before` query parameter: a line number from 1 to MAX_SEQ, or None if invalid."""
    value = request.GET.get("before", "")
    if not value.isdigit() or len(value) > 10 or not 1 <= int(value) <= MAX_SEQ:
        return None
    return int(value)


@org_view(Cap.VIEW)
@require_GET
def log_earlier(request: HttpRequest, pk: int) -> JsonResponse:
    """Up to EARLIER_PAGE stored lines with seq < `before`, oldest first, as JSON."""
    deployment = org_object(Deployment, request.membership, pk=pk)
    before = before_param(request)
    if before is None:
        return JsonResponse({"error": f"before must be a line number from 1 to {MAX_SEQ}."},
                            status=400)
    lines = selectors.log_lines_tail(deployment_id=deployment.pk, limit=EARLIER_PAGE,
                                     before=before)
    # `more`: a line before the first one sent exists; seq is gapless from 1.
    return JsonResponse({"lines": [earlier_line(line) for line in lines],
                         "more": bool(lines) and lines[0].seq > 1})


@org_view(Cap.VIEW)
@require_GET
def log_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored log of deployment `pk` as a text/plain attachment (already redacted),
    streamed page by page (deployments/log_stream.py)."""
    deployment = org_object(Deployment, request.membership, pk=pk)
    response = StreamingLogResponse(LogStream(deployment.pk),
                                    content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deployment-{deployment.pk}.log"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
