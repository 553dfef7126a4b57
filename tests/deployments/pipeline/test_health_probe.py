"""The health probe's pieces without servers: its answer parsed and judged (pure), and its
shell run locally, with curl and with the PHP CLI fallback of a server that has no curl."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deployments.pipeline import health
from deployments.pipeline.context import HealthCheck
from tests.deployments.pipeline.contexts import make_ctx

CHECK = HealthCheck(path="/", expected_status=200, body_text="ready", timeout=2)
# Answers 200 only to the site's Host header: the probe must send it.
APP = """<?php
http_response_code($_SERVER["HTTP_HOST"] === "shop.test" ? 200 : 421);
echo "ready\n";
"""


def test_it_parses_an_answer():
    answer = health.parse(["status 503", "elapsed 0.0123", "body", "down for", "maintenance"])
    assert answer == health.ProbeAnswer(503, 12, "down for\nmaintenance")


def test_it_parses_no_answer():
    answer = health.parse(["error curl: (28) Operation timed out", "elapsed 2.001", "body"])
    assert (answer.status, answer.summary()) == (
        None, "no answer in 2001 ms: curl: (28) Operation timed out")


@pytest.mark.parametrize("lines,reason", [
    (["status 200", "elapsed 0", "body", "ready"], ""),
    (["status 500", "elapsed 0", "body", "ready"], "HTTP 500 in 0 ms, expected 200"),
    (["status 200", "elapsed 0", "body", "busy"], "does not contain 'ready'"),
])
def test_it_judges_status_and_body(lines, reason):
    found = health.verdict(CHECK, health.parse(lines))
    assert (reason in found) if reason else found == ""


def test_it_refuses_a_host_header_that_could_inject_a_line():
    with pytest.raises(ValueError):
        HealthCheck(host="shop.test\r\nX-Evil: 1")


def probe_locally(tmp_path: Path, path_env: str) -> health.ProbeAnswer:
    web = tmp_path / "public"
    web.mkdir(exist_ok=True)
    (web / "index.php").write_text(APP)
    argv = list(health.probe_release(
        make_ctx(), HealthCheck(host="shop.test", timeout=5)).argv)
    argv[-1] = str(web)  # the docroot: here, not on a server
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": path_env})
    assert done.returncode == 0, done.stderr
    return health.parse(done.stdout.splitlines())


def test_it_probes_a_release_with_curl(tmp_path):
    answer = probe_locally(tmp_path, os.environ["PATH"])
    assert (answer.status, answer.body) == (200, "ready")


def test_it_probes_a_release_with_php_when_there_is_no_curl(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "php", "mktemp", "head", "rm", "kill", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    answer = probe_locally(tmp_path, str(bin_dir))
    assert (answer.status, answer.body) == (200, "ready")
