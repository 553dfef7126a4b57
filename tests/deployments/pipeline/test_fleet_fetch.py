"""A fleet fetches once: the first server (the seed) fetches, the others get the release streamed
from its mirror (deployments/pipeline/seed.py). Real sshd hosts, each with its own filesystem
(PrivateSshd), and the suite's sshd as the git host, whose log shows each fetch's login."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployments.pipeline import run_deploy
from deployments.pipeline.commit import CommitResolver
from deployments.pipeline.facts import ServerFacts
from deployments.pipeline.preview import preview
from deployments.pipeline.seed import stream_release
from deployments.pipeline.session import ServerSession, StepFailed
from servers.ssh import fingerprint, generate_keypair
from tests.deployments.pipeline.conftest import RecordingSink, Site, run, without_build_tools
from tests.deployments.pipeline.private_sshd import PrivateSshd

pytestmark = [pytest.mark.ssh, pytest.mark.slow]

# Incompressible, bigger than SMALL_DISK: tar (or git) runs out of space half-way through it.
BIG_FILE = os.urandom(3 * 1024 * 1024)
SMALL_DISK = "2m"


@dataclass
class Fleet:
    site: Site
    dirs: dict[str, Path]  # each server's deploy path, seen from outside its namespace
    deploy_public: str
    specs: tuple = ()
    live: str = ""

    def context(self, **overrides):
        return self.site.context(servers=self.specs, preset="none", **overrides)

    def git_host_logins(self) -> int:
        """Logins with the site's deploy key on the git host: one per `git fetch`."""
        key = fingerprint(self.deploy_public)
        return self.site.host.log_path.read_text(errors="replace").count(f"ssh2: ED25519 {key}")


@pytest.fixture
def make_fleet(tmp_path, site: Site, make_sshd_host):
    """`make_fleet(servers, small=names)`: web1 (the seed), web2, … deployed once; the servers
    named in `small` get a 2 MB disk (tmpfs). `composer`: keep the app's composer files."""
    daemons, mounts = [], []

    def make(count: int, small: tuple[str, ...] = (), composer: bool = False) -> Fleet:
        private, public = generate_keypair("fleet-deploy-key")  # this test's fetches only
        site.host.add_authorized_key(public)
        site.deploy_key = private
        mount_point = tmp_path / "mnt"
        mount_point.mkdir()
        site.deploy_path = mount_point / "site"
        fleet = Fleet(site, {}, public)
        for name in (f"web{i}" for i in range(1, count + 1)):
            own = tmp_path / name
            own.mkdir()
            if name in small:
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK}", "tmpfs",
                                str(own)], check=True)
                mounts.append(own)
            host = make_sshd_host()
            daemons.append(PrivateSshd.start(host, own, mount_point))
            fleet.specs += (site.server(host, name),)
            fleet.dirs[name] = own / "site"
        if composer:
            site.repo.commit(dict.fromkeys(("package.json", "package-lock.json")), "No npm")
        else:
            without_build_tools(site.repo)
        first = fleet.context()
        assert run(run_deploy, first)[0].status == "succeeded"
        fleet.live = first.release
        return fleet

    yield make
    for daemon in daemons:
        daemon.stop()
    for mount in mounts:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def tree_digest(release: Path) -> str:
    """One hash of every path, link target and file content under `release`."""
    digest = hashlib.sha256()
    for path in sorted(release.rglob("*")):
        digest.update(str(path.relative_to(release)).encode() + b"\0")
        if path.is_symlink():
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_it_gives_every_server_the_same_release(make_fleet):
    fleet = make_fleet(3)
    sha = fleet.site.repo.commit({"app/Fleet.php": "<?php // once\n"}, "Fleet file")
    ctx = fleet.context()

    result, sink = run(run_deploy, ctx)

    releases = [d / "releases" / ctx.release for d in fleet.dirs.values()]
    assert result.status == "succeeded"
    assert {(r / "REVISION").read_text() for r in releases} == {sha}
    assert len({tree_digest(r) for r in releases}) == 1
    assert f"< git archive {sha} on web1" in sink.text()  # web2 and web3 got it from the seed


def test_it_fetches_from_the_git_host_on_the_seed_only(make_fleet):
    fleet = make_fleet(3)
    fleet.site.repo.commit({"VERSION": "2\n"}, "Two")
    before = fleet.git_host_logins()

    result, sink = run(run_deploy, fleet.context())
    once = fleet.git_host_logins() - before
    mirrors = [name for name, d in fleet.dirs.items() if (d / "repo").exists()]
    run(run_deploy, fleet.context(fleet_fetch="each"))  # the old way, to show the count counts

    assert result.status == "succeeded"
    assert (once, fleet.git_host_logins() - before - once) == (1, 3)
    assert mirrors == ["web1"]  # the release diff reads the first server by name: the seed


def test_it_fails_cleanly_when_the_stream_to_one_server_breaks(make_fleet):
    fleet = make_fleet(3, small=("web3",))
    fleet.site.repo.commit({"public/big.bin": BIG_FILE}, "Too big for web3")
    ctx = fleet.context()

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "fetch_code")
    assert result.error.startswith(f"web3: command exited with 2: tar -x -C {ctx.deploy_path}")
    assert {(d / "current").readlink().name for d in fleet.dirs.values()} == {fleet.live}
    assert not any((d / "releases" / ctx.release).exists() for d in fleet.dirs.values())


def test_it_names_the_seed_when_the_seed_fails(make_fleet):
    fleet = make_fleet(2, small=("web1",))
    fleet.site.repo.commit({"public/big.bin": BIG_FILE}, "Too big for the seed")
    ctx, before = fleet.context(), fleet.git_host_logins()

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "fetch_code")
    assert result.error.startswith("web1: ")
    assert fleet.git_host_logins() - before == 1  # web2 waited for the seed, fetched nothing
    assert not (fleet.dirs["web2"] / "releases" / ctx.release).exists()
    assert (fleet.dirs["web2"] / "current").readlink().name == fleet.live


def test_it_still_reuses_vendor_on_a_server_that_receives(make_fleet):
    fleet = make_fleet(2, composer=True)
    (fleet.dirs["web2"] / "current/vendor/kept-marker").write_text("from the first release")
    fleet.site.repo.commit({"VERSION": "3\n"}, "Three")

    result, sink = run(run_deploy, fleet.context())

    assert result.status == "succeeded"
    assert (fleet.dirs["web2"] / "current/vendor/kept-marker").exists()
    assert any(server == "web2" and "(composer.lock unchanged)" in text
               for server, _, text in sink.lines)


def test_it_names_the_seed_and_stops_the_receiver_when_the_seed_side_breaks(make_fleet):
    fleet = make_fleet(2)
    ctx = fleet.context(commit="0" * 40)  # not in the seed's mirror: its git archive fails
    release = fleet.dirs["web2"] / "releases" / ctx.release
    release.mkdir()  # as prepare leaves it: tar waits there for the stream

    failure = asyncio.run(_stream_between(ctx))

    assert failure.startswith("the release stream from the seed web1 failed")
    assert list(release.iterdir()) == []


async def _stream_between(ctx) -> str:
    """Stream ctx.commit from the first server to the second; the failure's message."""
    seed, receiver = (ServerSession(ctx, spec, RecordingSink(), CommitResolver(2))
                      for spec in ctx.servers)
    receiver.commit = ctx.commit
    try:
        await stream_release(receiver, seed)
    except StepFailed as exc:
        return exc.message
    finally:
        await asyncio.gather(seed.close(), receiver.close())
    return ""


def test_the_dry_run_shows_the_stream_on_the_other_servers(make_fleet):
    fleet = make_fleet(2)
    ctx, sha = fleet.context(), fleet.site.repo.head()

    shown = {spec.name: dict(preview(ctx, spec, ServerFacts(), sha))["fetch_code"]
             for spec in ctx.servers}

    assert "git fetch" in shown["web1"][0]
    assert shown["web2"] == [f"tar -x -C {ctx.deploy_path}/releases/{ctx.release} < git archive "
                             f"{sha} on web1"]
