"""A fixed DeployContext for golden tests of the pure builders (no servers are contacted)."""

from __future__ import annotations

from deployments.pipeline import DeployContext, ServerSpec
from servers.ssh import SSHTarget

SHA = "0123456789abcdef0123456789abcdef01234567"
TARGET = SSHTarget(host="127.0.0.1", port=2222, username="deploy", client_keys=("KEY",))


def make_ctx(**overrides: object) -> DeployContext:
    """/srv/app, release 20260102030405, deployment 42, one server; overrides replace fields."""
    values: dict[str, object] = dict(
        deployment_id=42,
        kind="deploy",
        deploy_path="/srv/app",
        release="20260102030405",
        servers=(ServerSpec("web1", TARGET),),
        repository_url="git@github.com:acme/app.git",
    )
    values.update(overrides)
    return DeployContext(**values)  # type: ignore[arg-type]
