"""Malformed and oversized site settings are refused with a clear error, never a crash or a trim."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sites import validators as v
from tests.fixtures.api import api_as  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "ssh://git@[::1/x.git", "git@[bad", "ssh://git@[bad]/x.git", "ssh://git@[::1]:0/x.git",
    "ssh://git@[::1]:99999999/x.git", "ssh://git@host:70000/x.git", "https://[::1/x.git",
    "ssh://git@[::1]x/x.git", "ssh://git@host:22:22/x.git", "ssh://git@" + "a" * 600 + "/x.git",
])
def test_it_refuses_malformed_hosts_and_ports(url):
    with pytest.raises(ValidationError):
        v.clean_repository_url(url)


def test_it_accepts_a_bracketed_ipv6_host():
    assert v.clean_repository_url("ssh://git@[::1]:22/x.git") == "ssh://git@[::1]:22/x.git"


@pytest.mark.parametrize(
    "dirs", [[" storage"], ["storage "], ["x" * 256], [f"d{n}" for n in range(51)]]
)
def test_it_refuses_padded_overlong_or_too_many_shared_paths(dirs):
    with pytest.raises(ValidationError):
        v.clean_shared_paths(dirs, [])


@pytest.mark.parametrize(("clean", "value"), [
    (v.clean_environment, {f"V{n}": "x" for n in range(201)}),
    (v.clean_environment, {"V": "x" * 8193}),
    (v.clean_environment, {"V" * 101: "x"}),
    (v.clean_build_commands, ["make"] * 51),
    (v.clean_build_commands, ["x" * 2001]),
    (v.clean_reload_command, ["kill"] + ["-USR2"] * 20),
    (v.clean_deploy_script, "x" * 65_537),
    (v.clean_known_hosts, "# comment\n" * 51),
    (v.clean_secret_env_names, ["1BAD"]),
])
def test_it_bounds_every_field(clean, value):
    with pytest.raises(ValidationError):
        clean(value)


def test_the_api_refuses_a_bracketed_url_with_a_400(api_as, server):  # noqa: F811
    response = api_as("developer").post("/api/v1/sites/", {
        "name": "x", "repository_url": "ssh://git@[::1/x.git", "deploy_path": "/var/www/x",
        "servers": [server.pk],
    })
    assert response.status_code == 400
    assert "repository_url" in response.json()
