"""`manage.py deploy <site> [--commit SHA] [--org SLUG] [--freeze-override REASON]`: queue a
deploy and follow its log (one waiting for approval or held by a freeze is not followed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from deployments.follow import finish_cli, follow, site_for_cli
from deployments.models import Status, Trigger
from deployments.services import DeploymentError, deployment_request
from tenancy.audit import Actor


class Command(BaseCommand):
    help = "Deploy a site (branch head, or --commit) and print its log; exit 1 unless it succeeds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("site", help="site name")
        parser.add_argument("--commit", help="exact 40-character SHA (default: branch head)")
        parser.add_argument("--org", help="organization slug, when the name is ambiguous")
        parser.add_argument("--no-follow", action="store_true", help="queue it and return")
        parser.add_argument("--freeze-override", metavar="REASON",
                            help="deploy during an active freeze window, for this reason (audited)")

    def handle(self, *args, site: str, commit: str | None, org: str | None, **options) -> None:
        target = site_for_cli(site, org)
        try:
            deployment = deployment_request(
                site=target, actor=Actor.system(), trigger=Trigger.CLI, commit=commit,
                freeze_override=options.get("freeze_override"),
            )
        except DeploymentError as exc:
            raise CommandError(str(exc)) from None
        if deployment.status in (Status.AWAITING_APPROVAL, Status.HELD):
            self.stdout.write(f"Deployment {deployment.label} of {target.name}: "
                              f"{deployment.get_status_display().lower()}.")
            return
        self.stdout.write(f"Deployment {deployment.label} of {target.name} queued.")
        if not options["no_follow"]:
            finish_cli(follow(deployment.pk, self.stdout), self.stdout)
