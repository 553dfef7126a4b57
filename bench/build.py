"""Real build steps (issue 17 item 6): the `built` app (Vite + npm, composer path repositories).

On one host: a first (cold) deploy that runs composer install, npm ci and the Vite build; then
deploys with unchanged lock files (vendor/ and node_modules reused, the app's own build still
runs), taking turns with the plain demo deploy and a shell floor doing the same work as the
pipeline over one OpenSSH connection. The app's build alone is timed on the host itself.
"""

from __future__ import annotations

import re
import shlex
import statistics
import subprocess
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field

from bench.scenarios import deploy
from bench.testbed import Bed, Site, site_context
from bench.timing import Run, timed
from testbed.gitrepo import AppRepo

TEMPLATE = "built"
# The margin the issue allows over the plain deploy, on top of the app's own build.
MARGIN = 0.5


@dataclass
class BuildSpeed:
    cold: Run | None = None
    reused: list[Run] = field(default_factory=list)
    plain: list[Run] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    build_alone: list[float] = field(default_factory=list)
    page: str = ""  # what the built site answered after the runs (release and asset names)

    @staticmethod
    def median(values) -> float:
        seconds = [v.seconds if isinstance(v, Run) else v for v in values]
        return statistics.median(seconds) if seconds else float("nan")

    def target(self) -> float:
        """The unchanged-lock deploy's budget: plain deploy + MARGIN + the build alone."""
        return self.median(self.plain) + MARGIN + self.median(self.build_alone)

    def step_medians(self, runs: list[Run]) -> dict[str, float]:
        steps: dict[str, list[float]] = defaultdict(list)
        for run in runs:
            for step, seconds in run.sink.durations.items():
                steps[step].append(seconds)
        return {step: statistics.median(values) for step, values in steps.items()}


async def build_speed(bed: Bed, plain: Site, built: Site, floor: Site, *, runs: int) -> BuildSpeed:
    """The cold deploy, then `runs` turns of unchanged-lock deploy, plain deploy, floor and
    the build alone, so that all four see the same machine load."""
    repo = AppRepo.create(bed.base / "git-built", TEMPLATE)
    result = BuildSpeed()
    result.cold = await timed(_context(bed, built, repo))
    _check(result.cold)
    await deploy(bed, plain)  # clones the demo's mirror, untimed
    _check(await timed(_context(bed, floor, repo)))  # the floor's layout, mirror and first build
    for _ in range(runs):
        result.reused.append(_check(await timed(_context(bed, built, repo))))
        result.plain.append(_check((await deploy(bed, plain))[1]))
        result.floor.append(_floor_deploy(bed, floor))
        result.build_alone.append(_build_alone(bed, built))  # in turn: the same machine load
    result.page = _fetch(built)
    return result


def _context(bed: Bed, site: Site, repo: AppRepo):
    return site_context(
        deployment_id=bed.next_id(),
        kind="deploy",
        deploy_path=str(site.deploy_path),
        release=bed.next_release(),
        servers=bed.context(site).servers,
        git=bed.host,
        repo=repo,
        deploy_key=bed.deploy_key,
        reload_command=tuple(site.stack.reload_command),
    )


def _check(run: Run) -> Run:
    if run.status != "succeeded":
        raise RuntimeError(f"deploy of the built app {run.status}: {run.error[:300]}")
    return run


FLOOR_BUILD = r"""set -eo pipefail
deploy=$1; release=$2; export GIT_SSH_COMMAND=$3; reload_pid=$4
git --git-dir "$deploy/repo" remote update --prune >/dev/null 2>&1
sha=$(git --git-dir "$deploy/repo" rev-parse main)
old=$(readlink -f "$deploy/current"); new="$deploy/releases/$release"
mkdir "$new"
git --git-dir "$deploy/repo" archive "$sha" | tar -x -C "$new"
echo "$sha" > "$new/REVISION"
cd "$new"
if cmp -s "$old/composer.lock" composer.lock; then
  cp -al "$old/vendor" vendor && rm -rf vendor/composer && cp -a "$old/vendor/composer" vendor/
fi
composer install --no-dev --optimize-autoloader --no-interaction -q
if cmp -s "$old/package-lock.json" package-lock.json; then
  cp -al "$old/node_modules" node_modules
else
  npm ci --no-audit --no-fund >/dev/null
fi
npm run build >/dev/null
ln -s "releases/$release" "$deploy/current.tmp" && mv -T "$deploy/current.tmp" "$deploy/current"
kill -USR2 "$(cat "$reload_pid")"
"""

# The build alone, timed on the host (no ssh in the figure): Vite in the live release.
BUILD_ALONE = r"""set -eo pipefail
cd "$1/current"
start=$(date +%s%N)
npm run build >/dev/null
echo $(( $(date +%s%N) - start ))
"""


def _floor_deploy(bed: Bed, site: Site) -> float:
    seconds, _ = _over_ssh(bed, FLOOR_BUILD, str(site.deploy_path), bed.next_release(),
                           _git_ssh(bed), str(site.stack.fpm_pid_file))
    return seconds


def _build_alone(bed: Bed, site: Site) -> float:
    _, printed = _over_ssh(bed, BUILD_ALONE, str(site.deploy_path))
    return int(printed.split()[-1]) / 1e9


def _over_ssh(bed: Bed, script: str, *args: str) -> tuple[float, str]:
    """Run `script` with `args` over ONE OpenSSH connection; its seconds and its stdout."""
    key, known = bed.base / "build_key", bed.base / "build_known_hosts"
    if not key.exists():
        key.write_text(bed.client_key)
        key.chmod(0o600)
        known.write_text(f"[{bed.host.host}]:{bed.host.port} {bed.host.host_key_line}\n")
    argv = ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={known}", "-p", str(bed.host.port),
            f"{bed.host.user}@{bed.host.host}",
            # sshd joins the remote argv with spaces: one quoted command line.
            shlex.join(["bash", "-s", "--", *args])]
    started = time.monotonic()
    done = subprocess.run(argv, input=script.encode(), check=True, capture_output=True)
    return time.monotonic() - started, done.stdout.decode()


def _git_ssh(bed: Bed) -> str:
    """GIT_SSH_COMMAND with the deploy key and the pinned git host key, as the pipeline has."""
    key, known = bed.base / "build_deploy_key", bed.base / "build_git_known_hosts"
    key.write_text(bed.deploy_key)
    key.chmod(0o600)
    known.write_text(f"[{bed.host.host}]:{bed.host.port} {bed.host.host_key_line}\n")
    return shlex.join(["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes",
                       "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes"])


_SUMMARY = re.compile(r'<p id="summary">([^<]*)</p>')


def _fetch(site: Site) -> str:
    """The summary line the built site serves: its release, version and hashed asset."""
    url = f"http://127.0.0.1:{site.stack.http_port}/"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our loopback site
        body = answer.read().decode()
    found = _SUMMARY.search(body)
    return found.group(1) if found else f"unexpected page: {body[:200]!r}"
