"""A deploy path on a small tmpfs that fills up mid-build (needs root to mount it)."""

from __future__ import annotations

import os
import subprocess

import pytest

from deployments.pipeline import run_deploy
from tests.deployments.pipeline.conftest import Site, run, without_build_tools

pytestmark = [
    pytest.mark.ssh,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root"),
]

SIZE_MB = 24


@pytest.fixture
def small_disk(site: Site):
    site.deploy_path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs",
                    str(site.deploy_path)], check=True)
    yield site
    subprocess.run(["umount", "-l", str(site.deploy_path)], check=False)


def test_a_full_disk_fails_the_build_leaves_current_and_frees_the_space(small_disk: Site):
    site = small_disk
    without_build_tools(site.repo)
    good = site.context(min_free_mb=1)
    assert run(run_deploy, good)[0].status == "succeeded"
    filler = site.context(min_free_mb=1, deploy_script=(
        "echo filling; dd if=/dev/zero of=big bs=1M count=64 status=none"
    ))

    result, sink = run(run_deploy, filler)

    assert (result.status, result.failed_step) == ("failed", "custom_script")
    assert "No space left on device" in result.error
    assert "filling" in sink.text()  # what was written before the fault is kept
    assert site.live() == good.release
    assert not (site.deploy_path / "releases" / filler.release).exists()
    after = site.context(min_free_mb=1)
    assert run(run_deploy, after)[0].status == "succeeded"
    assert site.live() == after.release
