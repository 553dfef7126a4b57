"""Notification tests: a real local HTTP receiver (stands in for Slack, Discord and webhook
endpoints, which are third-party HTTP), a finished deployment, and a channel factory."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from deployments.models import Deployment, Kind, Status, Trigger
from notifications.models import Channel
from notifications.services import channel_create
from tenancy.audit import Actor


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers with the next of `statuses` (the last one repeats)."""

    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [204])
    requests: list[Received] = field(default_factory=list)

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An http.server on 127.0.0.1 (random port) in a thread, stopped after the test."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(Received(self.path, headers, body))
            status = state.next_status()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

    http_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{http_server.server_port}/hook/s3cr3t-path"
    yield state
    http_server.shutdown()
    http_server.server_close()


@pytest.fixture
def deployment(site, cast) -> Deployment:  # noqa: F811
    """A succeeded deploy of `site` by the developer."""
    now = timezone.now()
    return Deployment.objects.create(
        site=site, organization=cast.org, kind=Kind.DEPLOY, trigger=Trigger.MANUAL,
        triggered_by=cast.developer, triggered_by_name=cast.developer.email, branch="main",
        commit_sha="1a2b3c4d" * 5, commit_message="Fix <checkout> & @everyone",
        release="20261127080000",
        status=Status.SUCCEEDED, started_at=now, finished_at=now, commit_author="Dev",
    )


@pytest.fixture
def add_channel(cast, receiver):
    """Create a channel of the cast organization through the service (as the admin)."""

    def add(kind: str = "webhook", *, site=None, target: str | None = None,  # noqa: F811
            events=("started", "succeeded", "failed", "rolled_back", "cancelled"),
            **fields) -> Channel:
        return channel_create(
            organization=fields.pop("organization", cast.org), actor=Actor(user=cast.admin),
            kind=kind, name=fields.pop("name", f"{kind} channel"), site=site,
            target=target or receiver.url, events=list(events), **fields,
        )

    return add
