"""`python manage.py seed_demo`: the newcomer's demo, idempotent.

Creates the organization `demo` with the Owner `owner@demo.test` (prints `password: …`), and —
given `--demo-dir` and `--ssh-port` (as `make run` does) — the "Demo server" (a private sshd on
127.0.0.1 that `make run` starts and that authorizes the demo organization's key) and the "demo"
site: a small PHP app shipped in testbed/apps/demo, served as a git repository over that sshd.
"""

from __future__ import annotations

import getpass
import secrets
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from tenancy.audit import Actor
from tenancy.models import Organization, User
from tenancy.services.orgs import organization_create

DEMO_EMAIL = "owner@demo.test"


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization, owner, server and site."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="set the demo owner's password")
        parser.add_argument("--demo-dir", type=Path, help="state directory of the demo (var/demo)")
        parser.add_argument("--ssh-port", type=int, help="port of the demo sshd")
        parser.add_argument("--web-port", type=int, help="port serving the demo site")

    def handle(self, *args, password=None, demo_dir=None, ssh_port=None, web_port=None, **options):
        password = self._password(password, demo_dir)
        with transaction.atomic():
            owner, org = self._owner_and_org(password)
            if demo_dir and ssh_port:
                from deploynix.demo import seed_server_and_site

                server, site = seed_server_and_site(
                    org=org, owner=owner, demo_dir=demo_dir.resolve(), ssh_port=ssh_port
                )
                self.stdout.write(f"server: {server.name} (127.0.0.1:{ssh_port})")
                self.stdout.write(f"site: {site.name} -> {site.deploy_path}")
        self.stdout.write(f"organization: {org.slug}")
        self.stdout.write(f"email: {DEMO_EMAIL}")
        self.stdout.write(f"password: {password}")
        if web_port:
            self.stdout.write(f"demo site: http://127.0.0.1:{web_port}/")

    def _password(self, password: str | None, demo_dir: Path | None) -> str:
        """The given password, else the one this demo generated before (kept in var/), else new."""
        stored = (demo_dir / "owner-password") if demo_dir else None
        if password is None and stored and stored.exists():
            password = stored.read_text().strip()
        password = password or secrets.token_urlsafe(12)
        if stored:
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_text(password + "\n")
            stored.chmod(0o600)
        return password

    def _owner_and_org(self, password: str) -> tuple[User, Organization]:
        owner = User.objects.filter(email=DEMO_EMAIL).first()
        if owner is None:
            owner = User.objects.create_user(email=DEMO_EMAIL, password=password, name="Demo Owner")
        else:
            owner.set_password(password)
            owner.save(update_fields=["password"])
        org = Organization.objects.filter(slug="demo").first()
        if org is None:
            org = organization_create(
                name="Demo", owner=owner, actor=Actor.system(), slug="demo"
            )
        return owner, org


def current_user() -> str:
    return getpass.getuser()
