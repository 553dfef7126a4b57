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
from deployments.pipeline.steps import DEPLOY, ROLLBACK

# Step names in order, e.g. to show the steps of a queued deployment. A failed run
# may also report the undo steps: switch_back, reload, discard_release.
DEPLOY_STEPS: tuple[str, ...] = tuple(step.__name__ for step in DEPLOY)
ROLLBACK_STEPS: tuple[str, ...] = tuple(step.__name__ for step in ROLLBACK)

__all__ = [
    "DEPLOY_STEPS",
    "ROLLBACK_STEPS",
    "DeployContext",
    "PipelineResult",
    "ServerSpec",
    "Sink",
    "run_deploy",
    "run_rollback",
]
