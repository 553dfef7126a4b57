"""A real deploy over SSH goes live: nginx + php-fpm serve it, shared files and caches are right.

One module-scoped site is deployed twice (the second deploy reuses vendor/ and is
watched by a client polling the site); each test checks one outcome.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from deployments.pipeline import run_deploy
from testbed.web import SiteRoot, WebStack
from tests.deployments.pipeline.conftest import LOCK_FILES, RecordingSink, Site, make_site, run

pytestmark = [pytest.mark.ssh, pytest.mark.web]

ENV = "APP_NAME=Pipeline\nSECRET_KEY=s3cr3t-value\nAPP_KEY=base64:a2V5a2V5=\n"
MARKER = "deploynix-reuse-marker"


@dataclass
class Deployed:
    site: Site
    stack: WebStack
    first: object
    first_sink: RecordingSink
    second: object
    second_sink: RecordingSink
    bodies_during_second: list
    sha: str


def poll(stack: WebStack, stop: threading.Event, bodies: list) -> None:
    while not stop.wait(0.005):  # a pause leaves the 2 cores to the deploy itself
        bodies.append(stack.get("/"))


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, sshd_host, ssh_client_key, deploy_key):
    site = make_site(tmp_path_factory.mktemp("deploy"), sshd_host, ssh_client_key[0], deploy_key)
    stack = WebStack.start(site.deploy_path.parent / "web", sites=[SiteRoot(site.deploy_path)])
    options = dict(env_file=ENV, secrets=("s3cr3t-value",), reload_method="php-fpm")
    options["reload_command"] = tuple(stack.reload_command)
    options["deploy_script"] = 'grep SECRET_KEY "$RELEASE_PATH/.env"; echo "at $RELEASE in $(pwd)"'
    sha = site.repo.commit({"VERSION": "1.0.1\n"}, "Release 1.0.1")
    first, first_sink = run(run_deploy, site.context(**options))
    (site.deploy_path / "current/vendor" / MARKER).write_text("from the first release")
    site.repo.commit({"VERSION": "2.0.0\n"}, "Release 2.0.0")
    stop, bodies = threading.Event(), []
    poller = threading.Thread(target=poll, args=(stack, stop, bodies))
    poller.start()
    try:
        second, second_sink = run(run_deploy, site.context(**options))
    finally:
        stop.set()
        poller.join()
    yield Deployed(site, stack, first, first_sink, second, second_sink, bodies, sha)
    stack.stop()


def test_it_deploys_and_nginx_serves_the_new_release(deployed):
    status, body = deployed.stack.get("/")

    assert deployed.first.status == deployed.second.status == "succeeded"
    assert status == 200
    assert body.decode() == f"release={deployed.site.live()} version=2.0.0 env=Pipeline\n"


def test_it_writes_the_env_into_the_release_byte_exact_with_mode_0600(deployed):
    release_env = deployed.site.deploy_path / "current/.env"

    assert not release_env.is_symlink()
    assert release_env.read_bytes() == ENV.encode()
    assert release_env.stat().st_mode & 0o777 == 0o600
    assert not (deployed.site.deploy_path / "shared/.env").exists()


def test_it_installs_vendor_and_runs_migrate_caches_and_queue_restart(deployed):
    current = deployed.site.deploy_path / "current"
    log = (current / "storage/artisan.log").read_text().splitlines()

    assert (current / "vendor/autoload.php").is_file()
    assert log[:6] == [
        "migrate --force",
        "config:cache",
        "route:cache",
        "view:cache",
        "event:cache",
        "queue:restart",
    ]
    assert len(log) == 12  # the second deploy ran the same six


def test_it_writes_revision_and_reports_the_resolved_commit(deployed):
    first_release = (
        deployed.site.deploy_path
        / "releases"
        / min(p.name for p in (deployed.site.deploy_path / "releases").iterdir())
    )

    assert (first_release / "REVISION").read_text() == deployed.sha == deployed.first.commit
    assert deployed.first_sink.commits == [
        (deployed.sha, "Release 1.0.1", "Ada <ada@example.test>")
    ]


def test_it_reuses_vendor_when_composer_lock_is_unchanged(deployed):
    vendor = deployed.site.deploy_path / "current/vendor"

    assert (vendor / MARKER).read_text() == "from the first release"
    assert "(composer.lock unchanged)" in deployed.second_sink.text()


def test_it_switches_atomically_while_a_client_keeps_requesting(deployed):
    statuses = {status for status, _body in deployed.bodies_during_second}
    versions = {body.split(b" ")[1] for _status, body in deployed.bodies_during_second}

    assert statuses == {200}
    assert versions <= {b"version=1.0.1", b"version=2.0.0"}


def test_it_passes_script_output_with_secrets_to_the_sink_which_redacts(deployed):
    # Redaction is the Django sink's job (ctx.secrets); the pipeline delivers lines as printed.
    out = [text for _server, stream, text in deployed.first_sink.lines if stream == "out"]

    assert "SECRET_KEY=s3cr3t-value" in out
    assert deployed.site.deploy_key.splitlines()[1] not in deployed.first_sink.text()


def test_it_runs_the_deploy_script_in_the_release_with_its_environment(deployed):
    out = [text for _server, stream, text in deployed.second_sink.lines if stream == "out"]

    live = deployed.site.live()

    assert f"at {live} in {deployed.site.deploy_path}/releases/{live}" in out


def test_it_removes_the_temporary_deploy_key(deployed):
    state = deployed.site.deploy_path / ".deploynix"

    assert sorted(p.name for p in state.iterdir()) == sorted(
        LOCK_FILES + ["created", "releases.log", "site"]
    )
    assert state.stat().st_mode & 0o777 == 0o700


def test_it_reports_every_step_on_the_server(deployed):
    steps = [(step, status) for step, _server, status in deployed.first_sink.steps]

    assert [step for step, _ in steps] == [
        "prepare", "fetch_code", "link_shared", "write_env", "install", "migrate", "build_assets",
        "optimize", "custom_script", "stack_check", "health_check", "activate", "reload",
        "health_check_live", "restart_workers", "cleanup",
    ]  # fmt: skip
    gated = {status for step, status in steps if step.startswith("health_check")}
    assert {status for _, status in steps} - gated == {"succeeded"} and gated == {"skipped"}
