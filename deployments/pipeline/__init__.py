"""The release pipeline: pure builders, steps as data, and an async runner over SSH.

Imports only the standard library, asyncssh and servers.ssh / servers.shell (no
Django). The Celery task builds a DeployContext and a Sink and awaits
`run_deploy` or `run_rollback`; see /work/briefs/pipeline-contract.md.
"""

from __future__ import annotations

from deployments.pipeline.context import (
    DeployContext,
    PipelineResult,
    ServerSpec,
    Sink,
)
from deployments.pipeline.runner import run_deploy, run_rollback

__all__ = [
    "DeployContext",
    "PipelineResult",
    "ServerSpec",
    "Sink",
    "run_deploy",
    "run_rollback",
]
