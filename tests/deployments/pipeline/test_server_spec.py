"""A server's allowed deploy roots belong to its ServerSpec (prepare checks them there)."""

from __future__ import annotations

import dataclasses

from deployments.pipeline.context import HealthCheck, ServerSpec
from tests.deployments.pipeline.contexts import TARGET


def test_deploy_roots_are_a_field_of_the_server_spec_not_of_the_health_check():
    spec = ServerSpec("web1", TARGET, deploy_roots=("/srv",))

    assert spec.deploy_roots == ("/srv",)
    assert "deploy_roots" not in {f.name for f in dataclasses.fields(HealthCheck)}
