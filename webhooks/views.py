"""POST /hooks/<site uuid>/<provider>: the git hosts' door. No session, no CSRF, no cookies.

Mounted by webhooks/urls.py.
"""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sites.models import Site
from tenancy.access import client_ip
from webhooks.limits import webhook_count_bad_signature, webhook_limit
from webhooks.receive import Outcome, webhook_receive, webhook_refuse
from webhooks.verify import VERIFIERS

# Push payloads are small; GitHub caps theirs at 25 MB but a push of hundreds of commits
# stays far below this. Anything larger is refused before the body is read.
MAX_BODY_BYTES = 1024 * 1024


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, site_uuid: UUID, provider: str) -> JsonResponse:
    """Verify and act on one delivery; 401 for any signature failure, never 200."""
    site = Site.objects.filter(webhook_uuid=site_uuid).first()
    if site is None or provider not in VERIFIERS:
        raise Http404("No such webhook")
    limited = webhook_limit(request, site)
    if limited is not None:
        return JsonResponse({"decision": "refused", "reason": f"rate limited: {limited.reason}"},
                            status=429, headers={"Retry-After": str(limited.retry_after)})
    ip = client_ip(request)
    body = _read_capped(request)
    if body is None:
        outcome = webhook_refuse(site=site, provider=provider, ip=ip, status=413,
                                 reason=f"refused: body larger than {MAX_BODY_BYTES} bytes")
    else:
        outcome = webhook_receive(site=site, provider=provider, headers=request.headers,
                                  body=body, ip=ip)
    if outcome.status == 401:
        webhook_count_bad_signature(request, site)
    return _response(outcome)


def _read_capped(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it exceeds MAX_BODY_BYTES (never reading more than cap+1)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _response(outcome: Outcome) -> JsonResponse:
    payload = {"decision": outcome.decision, "reason": outcome.reason}
    if outcome.deployment_id is not None:
        payload["deployment"] = outcome.deployment_id
    return JsonResponse(payload, status=outcome.status)
