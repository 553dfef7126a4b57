"""`manage.py create_api_token --email … --org … --abilities a,b [--name] [--expires-days]`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.audit import Actor
from tenancy.models import AuditEvent, Organization, User
from tenancy.services.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a member of an organization and print it (shown once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--abilities", required=True,
                            help="Comma-separated, e.g. site:read,site:deploy")
        parser.add_argument("--name", default="command line")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args, **opts) -> None:
        user = User.objects.filter(email__iexact=opts["email"]).first()
        org = Organization.objects.filter(slug=opts["org"]).first()
        if user is None or org is None:
            raise CommandError("No such user or organization.")
        try:
            _token, plaintext = api_token_create(
                # The audit row names the user the token is for, marked as a system action.
                actor=Actor(user=user, source=AuditEvent.Source.SYSTEM), user=user,
                organization=org, name=opts["name"], abilities=opts["abilities"].split(","),
                expires_in_days=opts["expires_days"],
            )
        except (PermissionDenied, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from None
        self.stdout.write(plaintext)
