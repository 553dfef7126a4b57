"""Shared fixtures: the cast (one member per role in one organization, plus an outsider).

Service-backed fixtures (sshd, nginx + php-fpm, …) live in tests/fixtures/*.py as plugins.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections

from tenancy.audit import Actor
from tenancy.models import Membership, Organization, User
from tenancy.roles import Role
from tenancy.services.orgs import organization_create
from tests.fixtures import matrix

pytest_plugins = [
    "tests.fixtures.records",
    "tests.fixtures.api",
    "tests.fixtures.stage",
    "tests.fixtures.sshd",
    "tests.fixtures.web",
    "tests.fixtures.live",
    "tests.fixtures.supervisor",
    "tests.fixtures.bare",
]

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and at the end no connection of ours left to it.

    Async tests run their thread-sensitive sync code (`sync_to_async`) on asgiref's one
    executor thread, whose connection outlived them: the test database then could not be
    dropped ("is being accessed by other users") and stayed on the server after every run."""
    yield
    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()

# `make test` runs these modules a second time on SQLite, the embedded default of `make run`
# (scripts/test.sh: `-m sqlite`): everything that really deploys, rolls back, cancels or
# queues, through real workers where the module has them. Modules may also mark themselves.
SQLITE_PASS = (
    "tests/deployments/test_concurrency.py",
    "tests/deployments/test_end_to_end.py",
    "tests/deployments/test_queueing.py",
    "tests/deployments/test_rollback.py",
    "tests/deployments/test_task.py",
    "tests/deployments/test_watchdog_and_cancel.py",
    "tests/webhooks/test_end_to_end.py",
    "tests/browser/test_deploy_flow.py",
)


# `make test` runs these modules a third time with RabbitMQ as the Celery broker (scripts/test.sh:
# `-m rabbitmq`, DEPLOYNIX_BROKER_URL=amqp://...): real workers, end to end.
RABBITMQ_PASS = (
    "tests/deployments/test_end_to_end.py",
    "tests/webhooks/test_end_to_end.py",
    "tests/fixtures/test_processes.py",
    "tests/faults/test_worker_paused.py",
    "tests/deploynix/test_broker_live.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if module in SQLITE_PASS:
            item.add_marker(pytest.mark.sqlite)
        if module in RABBITMQ_PASS:
            item.add_marker(pytest.mark.rabbitmq)


@dataclass
class Cast:
    org: Organization
    owner: User
    admin: User
    manager: User
    developer: User
    viewer: User
    outsider: User  # owns another organization
    other_org: Organization

    def user(self, role_name: str) -> User | None:
        """'owner'…'viewer', 'outsider', or 'anonymous' (None)."""
        return None if role_name == "anonymous" else getattr(self, role_name)

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(user=user, organization=self.org)


def make_user(email: str) -> User:
    name = email.split("@")[0].title()
    return User.objects.create_user(email=email, password=PASSWORD, name=name)


@pytest.fixture
def cast(db) -> Cast:
    owner = make_user("owner@acme.test")
    org = organization_create(name="Acme", owner=owner, actor=Actor(user=owner), slug="acme")
    users = {}
    for role in (Role.ADMIN, Role.MANAGER, Role.DEVELOPER, Role.VIEWER):
        user = make_user(f"{role.label.lower()}@acme.test")
        Membership.objects.create(user=user, organization=org, role=role)
        users[role.label.lower()] = user
    outsider = make_user("outsider@other.test")
    other = organization_create(
        name="Other", owner=outsider, actor=Actor(user=outsider), slug="other"
    )
    return Cast(org=org, owner=owner, outsider=outsider, other_org=other, **users)


# The role names of a matrix, for tests that import them from here; new tests take them, and
# what each may do, from tests/fixtures/matrix.py.
ROLES, EVERYONE = matrix.ROLES, matrix.EVERYONE


@pytest.fixture
def client_for(client):
    """Log the Django test client in as `user` (None = anonymous) and return it."""

    def _login(user: User | None):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return _login


@pytest.fixture
def eager_celery():
    """Run `.delay()` in-process (no broker, no worker), so on_commit enqueues really execute
    and retries run at once, in-process."""
    from deploynix.celery import app

    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = False
