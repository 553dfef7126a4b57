"""A Django test client that logged in through the real form, with its own browser and address."""

from __future__ import annotations

from django.test import Client

from tests.conftest import PASSWORD


def logged_in(user, *, agent: str, address: str, password: str = PASSWORD) -> Client:
    """A browser that logged in through /login/ (so its session is recorded)."""
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post("/login/", {"username": user.email, "password": password})
    assert response.status_code == 302
    return client
