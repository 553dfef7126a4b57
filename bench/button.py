"""The Deploy and Rollback buttons end to end, and the worker's cost per deployment.

Run as `python -m bench.button PORT RUNS TOGETHER` by bench (bench/__main__.py) with the
private database and Redis prefix of bench/django_env.py and a real daphne on PORT.

Button path: a user logs in through the real login form (requests, over daphne), the site
page's Deploy form is POSTed (CSRF token included) and a real Celery worker
(`celery -A bench.worker_probe worker --pool threads`, the project's app) runs the
deployment on a real sshd host; a WebSocket client (websocket-client) on
ws/deployments/<id>/ stops the clock at the "succeeded" status frame. Rollback: the same
with the history page's Rollback form. Split by the row's started_at and its steps'
finished_at (bench/button_figures.py).

Worker cost: the worker's own getrusage (bench/worker_probe.py) before each deployment and
once it is quiet again (its after-finish reconcile included); then `TOGETHER` sites deployed
at once. Prints one JSON object.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import django

django.setup()

import requests  # noqa: E402
import websocket  # noqa: E402
from django.conf import settings  # noqa: E402

from bench import button_figures as figures  # noqa: E402
from bench import testbed  # noqa: E402
from bench.worker_probe import app  # noqa: E402
from deployments.models import FINISHED, Deployment, DeploymentStep, Trigger  # noqa: E402
from deployments.services import deployment_request  # noqa: E402
from servers.models import OrganizationKey, Server  # noqa: E402
from sites.models import Site  # noqa: E402
from sites.services import site_create  # noqa: E402
from tenancy.audit import Actor  # noqa: E402
from tenancy.models import Organization, User  # noqa: E402
from tenancy.services.orgs import organization_create  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway user of a throwaway database
# The production deploy worker's pool (scripts/run.sh): threads, 32 at a time.
WORKER_CONCURRENCY = 32
QUIET_CPU = 0.004  # s of worker CPU per QUIET_STEP below which the worker counts as idle
QUIET_STEP = 0.25
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Worker:
    """A real Celery worker process on the deploy and default queues, with the rusage probe."""

    def __init__(self, log: Path) -> None:
        self.name = f"bench-{time.monotonic_ns()}@localhost"
        argv = [str(BIN / "celery"), "-A", "bench.worker_probe", "worker", "-Q", "deploy,default",
                "--pool", "threads", "-c", str(WORKER_CONCURRENCY), "-n", self.name,
                "--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "warning"]
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.name], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"celery worker did not start: {log.read_text()[-3000:]}")
        self.probes = 0
        self.probe_cost = figures.probe_cost([self.rusage() for _ in range(6)])

    def rusage(self) -> dict:
        self.probes += 1
        replies = app.control.broadcast("bench_rusage", destination=[self.name], reply=True,
                                        timeout=5)
        if not replies:
            raise RuntimeError("the worker did not answer bench_rusage")
        return replies[0][self.name]

    def quiet(self, limit: float = 20.0) -> dict:
        """The rusage once the worker spent (almost) no CPU for QUIET_STEP."""
        last, deadline = self.rusage(), time.monotonic() + limit
        while time.monotonic() < deadline:
            time.sleep(QUIET_STEP)
            now = self.rusage()
            if figures.cpu_seconds(now) - figures.cpu_seconds(last) < QUIET_CPU:
                return now
            last = now
        return last

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Bench:
    """The organization, its server (the bed's sshd), its sites and a logged-in browser."""

    def __init__(self, bed: testbed.Bed, base_url: str) -> None:
        self.bed, self.base_url = bed, base_url
        self.owner = User.objects.create_user(email="button@example.test", password=PASSWORD)
        self.org: Organization = organization_create(
            name="Button", owner=self.owner, actor=Actor(user=self.owner), slug="button"
        )
        for key in OrganizationKey.objects.filter(organization=self.org):
            bed.host.add_authorized_key(key.public_key)
        host = bed.host
        self.server = Server.objects.create(
            organization=self.org, name="web-1", host=host.host, port=host.port, user=host.user,
            host_key=host.host_key_line, deploy_roots=[str(host.root)],
        )
        self.http = requests.Session()

    def site(self, name: str) -> Site:
        host, repo = self.bed.host, self.bed.repo
        site = site_create(
            organization=self.org, actor=Actor(user=self.owner), servers=[self.server],
            name=name, preset="php", reload_method="none",
            repository_url=repo.ssh_url(host.user, host.host, host.port),
            deploy_path=str(host.root / name),
            repository_host_keys=f"{testbed.known_host(host.host, host.port)} "
                                 f"{host.host_key_line}",
        )
        host.add_authorized_key(site.deploy_key_public)
        return site

    def log_in(self) -> None:
        """Through the real login form, as a browser would."""
        page = self.http.get(f"{self.base_url}/login/", timeout=30)
        answer = self.http.post(
            f"{self.base_url}/login/", timeout=30, allow_redirects=False,
            data={"username": self.owner.email, "password": PASSWORD,
                  "csrfmiddlewaretoken": TOKEN.search(page.text).group(1)},
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login refused: {answer.status_code}")

    def form(self, page_path: str, action: re.Pattern) -> tuple[str, str]:
        """The action and CSRF token of the first form on the page whose action matches."""
        page = self.http.get(f"{self.base_url}{page_path}", timeout=30)
        found = action.search(page.text)
        if found is None:
            raise RuntimeError(f"no such form on {page_path}")
        return found.group(1), TOKEN.search(page.text).group(1)

    def click(self, action: str, token: str) -> dict[str, float]:
        """POST the form, follow the deployment on its socket; the moments of the run."""
        sent = time.time()
        answer = self.http.post(f"{self.base_url}{action}", data={"csrfmiddlewaretoken": token},
                                allow_redirects=False, timeout=30)
        returned = time.time()
        found = re.search(r"/deployments/(\d+)/", answer.headers.get("Location", ""))
        if answer.status_code != 302 or found is None:
            raise RuntimeError(f"{action}: {answer.status_code} {answer.headers.get('Location')}")
        deployment_id = int(found.group(1))
        status, frame = self.wait_status(deployment_id)
        if status != "succeeded":
            row = Deployment.objects.get(pk=deployment_id)
            raise RuntimeError(f"deployment {deployment_id} {status}: {row.error[:300]}")
        row = Deployment.objects.get(pk=deployment_id)
        last = DeploymentStep.objects.filter(deployment=row).order_by("-finished_at").first()
        return {"sent": sent, "returned": returned, "started": row.started_at.timestamp(),
                "pipeline_done": last.finished_at.timestamp(), "frame": frame}

    def wait_status(self, deployment_id: int) -> tuple[str, float]:
        """The first finished status frame on the deployment's socket, and when it came."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        port = self.base_url.rsplit(":", 1)[1]
        socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}/ws/deployments/{deployment_id}/",
            header=[f"Cookie: {cookie}"], origin=self.base_url, timeout=60,
        )
        try:
            while True:
                frame = json.loads(socket.recv())
                if frame.get("type") == "deployment.status" and frame["status"] in FINISHED:
                    return frame["status"], time.time()
        finally:
            socket.close()


def deploy_action(site: Site) -> re.Pattern:
    return re.compile(rf'action="(/o/[^"]+/sites/{site.pk}/deploy/)"')


def rollback_action(site: Site) -> re.Pattern:
    return re.compile(rf'action="(/o/[^"]+/sites/{site.pk}/rollback/\d+/)"')


def button_runs(bench: Bench, worker: Worker, runs: int) -> dict:
    """Warm-up, then `runs` deploys and rollbacks through the buttons, alternating."""
    site = bench.site("button")
    site_page = f"/o/{bench.org.slug}/sites/{site.pk}/"
    history = f"{site_page}history/"
    deploys, rollbacks, cpu = [], [], []
    for index in range(runs + 2):  # the first two: warm-up (and a release to roll back to)
        bench.bed.repo.commit({"VERSION": f"button {index}\n"}, f"Button {index}")
        before = worker.quiet()
        deploy = figures.split(bench.click(*bench.form(site_page, deploy_action(site))))
        probes = worker.probes
        after = worker.quiet()
        spent = figures.cpu_between(before, after, probes=worker.probes - probes,
                                    probe_cost=worker.probe_cost)
        if index == 0:
            continue
        rollback = figures.split(bench.click(*bench.form(history, rollback_action(site))))
        if index == 1:
            continue
        deploys.append(deploy)
        rollbacks.append(rollback)
        cpu.append({"cpu_ms": spent * 1000, "maxrss_kib": after["maxrss_kib"],
                    "rss_kib": after["rss_kib"]})
    return {"deploy": deploys, "rollback": rollbacks, "solo": cpu,
            "deploy_medians": figures.medians(deploys),
            "rollback_medians": figures.medians(rollbacks)}


def together(bench: Bench, worker: Worker, count: int) -> dict:
    """`count` sites deployed at once (a warm-up round first: their first clone)."""
    sites = [bench.site(f"c{index:02d}") for index in range(count)]
    actor = Actor(user=bench.owner)
    for label in ("warm-up", "measured"):
        bench.bed.repo.commit({"VERSION": f"together {label}\n"}, f"Together {label}")
        before = worker.quiet()
        started = time.monotonic()
        rows = [deployment_request(site=site, actor=actor, trigger=Trigger.MANUAL)
                for site in sites]
        statuses = _finished([row.pk for row in rows])
        wall = time.monotonic() - started
        probes = worker.probes
        after = worker.quiet(limit=60)
    spent = figures.cpu_between(before, after, probes=worker.probes - probes,
                                probe_cost=worker.probe_cost)
    return {"deploys": count, "concurrency": WORKER_CONCURRENCY, "wall_s": wall,
            "cpu_ms_total": spent * 1000, "cpu_ms_per_deploy": spent * 1000 / count,
            "rss_before_kib": before["rss_kib"], "maxrss_kib": after["maxrss_kib"],
            "failed": sum(status != "succeeded" for status in statuses)}


def _finished(ids: list[int], limit: float = 300) -> list[str]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        statuses = list(Deployment.objects.filter(pk__in=ids).values_list("status", flat=True))
        if all(status in FINISHED for status in statuses):
            return statuses
        time.sleep(0.1)
    raise RuntimeError(f"{len(ids)} deployments did not finish in {limit:.0f} s")


def main() -> None:
    port, runs, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    bed = testbed.build()
    worker = Worker(Path(settings.VAR_DIR) / "button-worker.log")
    try:
        bench = Bench(bed, f"http://127.0.0.1:{port}")
        bench.log_in()
        idle_before = worker.quiet()
        result = {"button": button_runs(bench, worker, runs),
                  "probe_cost_ms": worker.probe_cost * 1000,
                  "rss_idle_kib": idle_before["rss_kib"]}
        if count:
            result["together"] = together(bench, worker, count)
    finally:
        worker.stop()
        bed.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
