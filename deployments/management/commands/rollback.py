"""`manage.py rollback <site> <release> [--org SLUG]`: roll back and follow the log."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from deployments.follow import finish_cli, follow, site_for_cli
from deployments.models import Trigger
from deployments.services import DeploymentError, rollback_request
from tenancy.audit import Actor


class Command(BaseCommand):
    help = "Roll a site back to a retained release and print the log; exit 1 unless it succeeds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("site", help="site name")
        parser.add_argument("release", help="release to go back to (YYYYMMDDHHMMSS)")
        parser.add_argument("--org", help="organization slug, when the name is ambiguous")
        parser.add_argument("--no-follow", action="store_true", help="queue it and return")

    def handle(self, *args, site: str, release: str, org: str | None, **options) -> None:
        target = site_for_cli(site, org)
        try:
            deployment = rollback_request(
                site=target, release=release, actor=Actor.system(), trigger=Trigger.CLI
            )
        except DeploymentError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Rollback {deployment.label} of {target.name} to {release} queued.")
        if not options["no_follow"]:
            finish_cli(follow(deployment.pk, self.stdout), self.stdout)
