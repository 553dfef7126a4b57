"""A fresh process that deploys 50 sites at once, as one Celery worker process would.

`python -m bench.worker` reads the fleet's description (JSON, stdin), runs
bench.rolling.concurrency and prints the result (JSON). A process of its own, so its RSS is
the deployments' cost and not the bench's earlier data.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from bench.fleet import Fleet
from bench.hosts import NetnsHost
from bench.rolling import Concurrency, concurrency
from testbed.gitrepo import AppRepo

ROOT = Path(__file__).resolve().parent.parent


def describe(fleet: Fleet) -> dict:
    """What a worker process needs to deploy to the fleet: addresses, keys, the repository."""

    def host(h: NetnsHost) -> dict:
        return {
            "name": h.name,
            "address": h.address,
            "base": str(h.base),
            "host_key_line": h.host_key_line,
        }

    return {
        "hosts": [host(h) for h in fleet.hosts],
        "git": host(fleet.git),
        "repo": {
            "path": str(fleet.repo.path),
            "work_tree": str(fleet.repo.work_tree),
            "branch": fleet.repo.branch,
        },
        "client_key": fleet.client_key,
        "deploy_key": fleet.deploy_key,
        "releases": fleet._releases + 10_000,
    }  # never the name of a release made earlier


def rebuild(data: dict) -> Fleet:
    """A Fleet that can build deploy contexts (it owns no processes; nothing to close)."""

    def host(h: dict) -> NetnsHost:
        return NetnsHost(
            name=h["name"],
            address=h["address"],
            base=Path(h["base"]),
            host_key_line=h["host_key_line"],
        )

    repo = data["repo"]
    return Fleet(
        base=Path(data["hosts"][0]["base"]).parent,
        network=None,
        git=host(data["git"]),
        repo=AppRepo(Path(repo["path"]), Path(repo["work_tree"]), repo["branch"]),
        client_key=data["client_key"],
        deploy_key=data["deploy_key"],
        hosts=[host(h) for h in data["hosts"]],
        _releases=data["releases"],
    )


def concurrency_in_worker(fleet: Fleet, sites: int) -> Concurrency:
    """Run `concurrency(fleet, sites)` in a fresh Python process; return its result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", str(sites)],
        cwd=ROOT,
        input=json.dumps(describe(fleet)),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.worker failed: {done.stderr[-2000:]}")
    return Concurrency(**json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    fleet = rebuild(json.loads(sys.stdin.read()))
    result = asyncio.run(concurrency(fleet, int(sys.argv[1])))
    print(json.dumps(dataclasses.asdict(result)))


if __name__ == "__main__":
    main()
