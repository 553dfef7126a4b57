"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

Each service's command must point at something that exists here: the ASGI application imports,
`-A deploynix` finds the Celery app, the worker consumes every queue a task is routed to, the
management commands exist. Every variable is documented in .env.example, and the compose
environment itself passes `check --deploy`.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from celery.app.utils import find_app
from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management import get_commands

from deploynix.celery import app as celery_app
from tests.deploynix.test_settings_production import run_manage

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "control", "beat")
CELERY_WORKERS = ("worker", "control")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")
SETTING_READ = re.compile(r"\b(?:env_\w+|require)\(\s*\"([A-Z][A-Z0-9_]*)\"")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def _bin(name: str) -> str:
    """A console script of this virtualenv."""
    return str(Path(sys.executable).parent / name)


def _documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def _read_by_code() -> set[str]:
    sources = [*ROOT.glob("deploynix/**/*.py"), *ROOT.glob("*/settings*.py")]
    return {name for path in sources for name in SETTING_READ.findall(path.read_text())}


def _interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, with `given` as the .env file."""

    def substitute(match: re.Match) -> str:
        name, kind, rest = match.groups()
        return given.get(name) or (rest if kind == "-" else "")

    return INTERPOLATION.sub(substitute, str(value))


def test_it_defines_the_production_services(services):
    assert set(services) == {"postgres", "redis", "rabbitmq", *APP_SERVICES}


@pytest.mark.parametrize("name,probe", [("postgres", "pg_isready"), ("redis", "redis-cli ping"),
                                        ("rabbitmq", "rabbitmq-diagnostics -q ping")])
def test_it_checks_the_health_of_the_data_stores_and_keeps_their_data(services, name, probe):
    service = services[name]
    assert probe in " ".join(service["healthcheck"]["test"])
    assert service["volumes"]


@pytest.mark.parametrize("name", ["web", "worker", "control", "beat"])
def test_it_starts_app_services_after_a_successful_migration(services, name):
    depends = {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}
    assert depends == {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "rabbitmq": "service_healthy",
    }


def test_it_migrates_once_the_database_is_healthy(services):
    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["command"][:3] == ["python", "manage.py", "migrate"]
    assert migrate["restart"] == "no"


def test_it_serves_an_asgi_application_that_imports(services):
    command = services["web"]["command"]
    assert command[:5] == ["daphne", "-b", "0.0.0.0", "-p", "8000"]
    module, attribute = command[-1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_it_takes_client_addresses_from_the_header_the_proxy_overwrites(services):
    options = CommandLineInterface().parser.parse_args(services["web"]["command"][1:])
    assert (options.proxy_headers, options.proxy_headers_host) == (True, "X-Real-IP")


@contextmanager
def _running(command: list[str]) -> Iterator[subprocess.Popen]:
    """Run `command` (with this test run's environment) and stop it afterwards."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_when_up(url: str, seconds: float = 30) -> tuple[int, str]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_it_serves_pages_with_the_web_command(services):
    port = _free_port()
    command = [_bin("daphne"), *services["web"]["command"][1:]]
    command[command.index("-b") + 1], command[command.index("-p") + 1] = "127.0.0.1", str(port)
    with _running(command):
        status, body = _get_when_up(f"http://127.0.0.1:{port}/login/")
    assert status == 200 and "Log in" in body


def _queues_of(worker: str, seconds: float = 40) -> set[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        replies = celery_app.control.inspect(destination=[worker], timeout=1).active_queues()
        if replies:
            return {queue["name"] for queue in replies[worker]}
    raise AssertionError(f"worker {worker} did not answer within {seconds}s")


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.parametrize("name,expected", [("worker", {"default", "deploy"}),
                                           ("control", {"control"})])
def test_it_starts_a_worker_consuming_the_queues_of_the_command(services, name, expected):
    worker = f"compose-test-{name}-{os.getpid()}@localhost"
    command = [_bin("celery"), *services[name]["command"][1:], "--hostname", worker]
    with _running(command):
        queues = _queues_of(worker)
    assert queues == expected


@pytest.mark.parametrize("name,program", [("worker", "worker"), ("control", "worker"),
                                          ("beat", "beat")])
def test_it_runs_the_deploynix_celery_app(services, name, program):
    command = services[name]["command"]
    assert command[:4] == ["celery", "-A", "deploynix", program]
    assert find_app(command[2]).main == "deploynix"


@pytest.mark.parametrize("name", ["worker", "control", "beat"])
def test_it_gives_celery_only_options_it_accepts(services, name):
    # Click parses every option before acting on --help, so a misspelt option fails here.
    command = [_bin("celery"), *services[name]["command"][1:], "--help"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def _queues_in(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


def test_it_consumes_every_queue_tasks_are_routed_to(services):
    queues = set().union(*(_queues_in(services[name]["command"]) for name in CELERY_WORKERS))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert queues == {settings.CELERY_TASK_DEFAULT_QUEUE, *routed}


def test_it_serves_the_watchdog_and_schedules_apart_from_the_deploys(services):
    control = _queues_in(services["control"]["command"])
    assert control == {settings.CONTROL_QUEUE}
    assert settings.CONTROL_QUEUE not in _queues_in(services["worker"]["command"])
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["options"]["queue"] in control


def test_it_runs_deployments_on_threads_because_they_wait_on_ssh(services):
    command = " ".join(services["worker"]["command"])
    assert "--pool threads --concurrency 32" in command


def test_it_runs_only_management_commands_that_exist(services):
    used = [
        s["command"][2]
        for s in services.values()
        if s.get("command", [""])[:2] == ["python", "manage.py"]
    ]
    assert used and set(used) <= set(get_commands())


def test_it_documents_every_variable_it_uses(services):
    used = set()
    for service in services.values():
        environment = service.get("environment", {})
        used |= set(environment) | {
            m[0] for v in environment.values() for m in INTERPOLATION.findall(str(v))
        }
    # The postgres and rabbitmq images' own settings, not ours.
    images_own = {"POSTGRES_DB", "POSTGRES_USER", "RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS",
                  "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"}
    assert used - images_own <= _documented()


def test_it_passes_only_variables_deploynix_reads(services):
    ours = {name for name in services["web"]["environment"] if name.startswith("DEPLOYNIX_")}
    assert ours - _read_by_code() == set()  # a typo here would be silently ignored


def test_it_documents_every_variable_the_code_reads():
    assert _read_by_code() - _documented() == set()


def test_it_takes_every_secret_from_the_operator(services):
    environment = services["web"]["environment"]
    for name in ("DEPLOYNIX_SECRET_KEY", "DEPLOYNIX_ENCRYPTION_KEYS"):
        assert environment[name] == f"${{{name}:?set {name} in .env}}"
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]


def test_its_environment_passes_the_deployment_checklist(services, tmp_path):
    dotenv = {
        "DEPLOYNIX_SECRET_KEY": "compose-secret-" + "z" * 50,
        "DEPLOYNIX_ENCRYPTION_KEYS": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "DEPLOYNIX_ALLOWED_HOSTS": "deploy.example.com",
        "DEPLOYNIX_PUBLIC_URL": "https://deploy.example.com",
        "POSTGRES_PASSWORD": "pw",
        "RABBITMQ_PASSWORD": "pw",
    }
    env = {k: _interpolate(v, dotenv) for k, v in services["web"]["environment"].items()}
    env.update(PATH="/usr/bin:/bin", HOME=str(tmp_path), DEPLOYNIX_VAR_DIR=str(tmp_path))
    result = run_manage(env, "check", "--deploy")
    assert "System check identified no issues" in result.stdout, result.stderr


def _dockerfile() -> str:
    """The Dockerfile without its comment lines."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("#"))


def test_it_builds_a_non_root_image_from_hash_locked_requirements():
    dockerfile = _dockerfile()
    assert dockerfile.startswith("FROM python:3.11-slim\n")
    assert "pip install --require-hashes --no-deps -r requirements/app.txt" in dockerfile
    assert re.search(r"^USER (?!root)\w+$", dockerfile, re.M)


def test_it_collects_static_files_the_way_the_image_build_does(tmp_path):
    run_line = next(r for r in re.split(r"\n(?=[A-Z]+ )", _dockerfile()) if "collectstatic" in r)
    words = shlex.split(run_line.replace("\\\n", " "))
    env = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
    env.update(PATH="/usr/bin:/bin", HOME=str(tmp_path), DEPLOYNIX_VAR_DIR=str(tmp_path))
    result = run_manage(env, "collectstatic", "--noinput")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
