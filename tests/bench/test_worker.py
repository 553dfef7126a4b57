"""The worker process gets the fleet as JSON and deploys to the very same hosts."""

from __future__ import annotations

from bench.worker import rebuild

HOST = {"name": "dnx1h1", "address": "10.213.20.11", "base": "/tmp/f/host1", "host_key_line": "k"}
FLEET = {
    "hosts": [HOST, {**HOST, "name": "dnx1h2", "address": "10.213.20.12"}],
    "git": {**HOST, "name": "dnx1h0", "address": "10.213.20.10"},
    "repo": {"path": "/tmp/f/git/demo.git", "work_tree": "/tmp/f/git/demo-work", "branch": "main"},
    "client_key": "client",
    "deploy_key": "deploy",
    "releases": 10_000,
}


def test_it_rebuilds_contexts_for_the_same_hosts_and_repository():
    ctx = rebuild(FLEET).context(rebuild(FLEET).hosts, site="c01")
    assert [server.target.host for server in ctx.servers] == ["10.213.20.11", "10.213.20.12"]
    assert ctx.repository_url == "ssh://root@10.213.20.10:22/tmp/f/git/demo.git"
    assert ctx.repository_host_keys == ("10.213.20.10 k",)


def test_it_names_releases_after_the_ones_the_bench_made():
    assert rebuild(FLEET).context(rebuild(FLEET).hosts).release == "20270101024641"
