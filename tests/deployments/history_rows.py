"""A site's history as rows only (no server contacted): deploys, a failure, then a rollback."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from deployments.models import Deployment, Kind, Status

SHA = {n: f"{n}" * 40 for n in "abcd"}
LONG_ERROR = ("composer install failed: " + "Your requirements could not be resolved " * 12
              + "/srv/shop/releases/20260102000000/vendor/" + "x" * 180)


def build_history(site) -> dict[str, Deployment]:
    """#1 built A, #2 failed at install, #3 built C, #4 rolled back to A (live now)."""
    start = timezone.now() - timedelta(hours=2)

    def row(number: int, **fields) -> Deployment:
        at = start + timedelta(minutes=10 * number)
        values = {
            "site": site, "organization_id": site.organization_id, "number": number,
            "branch": "main", "triggered_by_name": "dev@acme.test", "status": Status.SUCCEEDED,
            "created_at": at, "started_at": at, "finished_at": at + timedelta(seconds=42),
            "commit_message": "Ship the checkout page with a rather long commit message",
            "commit_author": "Dev Eloper <dev@acme.test>",
        }
        return Deployment.objects.create(**{**values, **fields})

    return {
        "first": row(1, release="20260101000000", commit_sha=SHA["a"]),
        "failed": row(2, release="20260102000000", commit_sha=SHA["b"], status=Status.FAILED,
                      failed_step="install", error=LONG_ERROR),
        "third": row(3, release="20260103000000", commit_sha=SHA["c"]),
        "rollback": row(4, kind=Kind.ROLLBACK, release="20260101000000", commit_sha=SHA["a"]),
    }
