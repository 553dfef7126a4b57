"""Fault tests reuse the pipeline's real-site fixtures (a repository on the session's sshd)."""

from __future__ import annotations

from tests.deployments.pipeline.conftest import deploy_key, site  # noqa: F401
