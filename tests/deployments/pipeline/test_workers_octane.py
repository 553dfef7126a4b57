"""An Octane daemon after a deploy: the test's own supervisord runs the test app's stand-in
`php artisan octane:start` (testbed/apps/laravelish/artisan), which answers HTTP with the
REVISION it serves and, like Octane, keeps the base path it started in; `octane:reload` asks it
to re-read that REVISION. The deploy reloads it gracefully, sees it left in the old release,
restarts it from `current`, and it then serves the new REVISION."""

from __future__ import annotations

import dataclasses
import socket
import time
import urllib.request

import pytest

from deployments.pipeline import run_deploy, workers
from deployments.pipeline.context import WorkerSpec
from tests.deployments.pipeline.conftest import Site, run, without_build_tools
from tests.fixtures.supervisor import kill_tagged

pytestmark = pytest.mark.ssh

GROUP = "deploynix-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served(port: int, not_this: str = "") -> str:
    """The REVISION the daemon answers with, once it answers with another than `not_this`."""
    deadline, answer = time.monotonic() + 15, ""
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{port}/"
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                answer = response.read().decode().strip()
        except OSError:
            answer = ""
        if answer and answer != not_this:
            return answer
        time.sleep(0.1)
    return answer


@pytest.fixture
def octane_site(site: Site, supervisor):
    without_build_tools(site.repo)
    port = free_port()
    spec = dataclasses.replace(site.server(), supervisor_config=str(supervisor.config))
    daemon = WorkerSpec("web", f"{GROUP}-web", workers.octane_command("swoole", port),
                        octane="swoole")
    site.octane_context = lambda: site.context(servers=(spec,), preset="php",
                                               worker_group=GROUP, workers=(daemon,))
    site.octane_port = port
    yield site
    kill_tagged(f"@{site.deploy_path}")


def test_the_octane_daemon_serves_the_new_revision_after_a_deploy(octane_site):
    first, _ = run(run_deploy, ctx := octane_site.octane_context())
    old = served(octane_site.octane_port)
    octane_site.repo.commit({"VERSION": "2\n"}, "Release 2")
    result, sink = run(run_deploy, ctx2 := octane_site.octane_context())
    assert (first.status, result.status) == ("succeeded", "succeeded"), sink.errors
    assert old == (octane_site.release_dir(ctx) / "REVISION").read_text().strip()
    new = (octane_site.release_dir(ctx2) / "REVISION").read_text().strip()
    assert served(octane_site.octane_port, not_this=old) == new


def test_it_reloads_gracefully_first_and_says_why_it_restarts(octane_site):
    run(run_deploy, octane_site.octane_context())
    octane_site.repo.commit({"VERSION": "2\n"}, "Release 2")
    result, sink = run(run_deploy, octane_site.octane_context())
    assert result.status == "succeeded", sink.errors
    log = (octane_site.deploy_path / "shared/storage/artisan.log").read_text()
    assert "octane:reload --server=swoole" in log
    assert "octane:reload left web in the previous release" in sink.text()
