"""The raw log download: the stored lines as a text/plain attachment, for members only,
streamed page by page (deployments/log_stream.py)."""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.urls import reverse

from deployments.log_stream import PAGE_LINES
from tests.fixtures.live import make_deployment, session_cookie, store_lines, store_many

BIG = 100_000


@pytest.fixture
def logged(cast):
    deployment = make_deployment(cast.org)
    store_lines(deployment, ["== fetch_code", "\x1b[32mok\x1b[0m <done>"])
    return deployment


def url(deployment, org: str = "acme") -> str:
    return reverse("deployments:log-download", kwargs={"org": org, "pk": deployment.pk})


def test_it_sends_the_stored_log_as_a_plain_text_attachment(client_for, cast, logged):
    response = client_for(cast.viewer).get(url(logged))
    assert response.getvalue().decode() == "[web1] == fetch_code\n[web1] ok <done>\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="deployment-{logged.pk}.log"'


@pytest.mark.parametrize("who,status", [("outsider", 404), ("anonymous", 302)])
def test_it_hides_the_log_from_non_members(client_for, cast, logged, who, status):
    assert client_for(cast.user(who)).get(url(logged)).status_code == status


def test_it_hides_another_organizations_deployment(client_for, cast):
    theirs = make_deployment(cast.other_org)
    assert client_for(cast.developer).get(url(theirs)).status_code == 404


def test_it_streams_every_line_of_a_long_log_in_pages(client_for, cast):
    deployment = make_deployment(cast.org)
    store_many(deployment, PAGE_LINES * 2 + 5)
    response = client_for(cast.viewer).get(url(deployment))
    chunks = list(response.streaming_content)
    lines = b"".join(chunks).decode().splitlines()
    assert len(chunks) == 3
    assert [int(line.split()[2]) for line in lines] == list(range(1, PAGE_LINES * 2 + 6))


@pytest.mark.django_db(transaction=True)
async def test_it_streams_a_big_download_through_the_asgi_server_in_constant_memory(cast):
    deployment = await sync_to_async(make_deployment)(cast.org)
    await sync_to_async(store_many)(deployment, BIG)
    expected = hashlib.sha256(b"".join(
        b"[web1] " + f"line {seq} ".ljust(60, "x").encode() + b"\n" for seq in range(1, BIG + 1)))
    cookie = await sync_to_async(session_cookie)(cast.viewer)
    small = await sync_to_async(make_deployment)(cast.org, site_name="blog")
    await asgi_get(url(small), cookie)  # imports and first-request work, before measuring
    tracemalloc.start()
    try:
        digest, size = await asgi_get(url(deployment), cookie)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digest == expected.hexdigest()  # every line, in order
    assert peak < size / 3  # a page or two in memory at a time, never the whole log


async def asgi_get(path: str, cookie: str) -> tuple[str, int]:
    """GET `path` from the real ASGI application, reading the body as it is sent (and
    dropping it): the body's SHA-256 and its size."""
    from deploynix.asgi import application

    app = ApplicationCommunicator(application, {
        "type": "http", "method": "GET", "path": path, "query_string": b"", "scheme": "http",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "http_version": "1.1",
    })
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await app.receive_output(timeout=10)
    assert start["status"] == 200, start
    digest, size, more = hashlib.sha256(), 0, True
    while more:
        message = await app.receive_output(timeout=10)
        more = message.get("more_body", False)
        digest.update(message.get("body", b""))
        size += len(message.get("body", b""))
    return digest.hexdigest(), size
