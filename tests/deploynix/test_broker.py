"""The Celery broker: Redis by default, RabbitMQ when DEPLOYNIX_BROKER_URL says amqp://.

Settings are read in a fresh interpreter with only the production variables (plus the broker)
set; the live test sends a task through a real RabbitMQ with the panel's own Celery app.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kombu import Connection

from tests.deploynix.test_settings_production import ROOT, production_env, run_manage

AMQP_URL = os.environ.get("DEPLOYNIX_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
READ_SETTINGS = """
import json
import django
django.setup()
from deploynix.celery import app
conf = app.conf
print(json.dumps({"url": conf.broker_url, "options": conf.broker_transport_options,
                  "heartbeat": conf.broker_heartbeat, "timeout": conf.broker_connection_timeout,
                  "acks_late": conf.task_acks_late}))
"""


def celery_conf(tmp_path: Path, **env: str) -> dict:
    environment = production_env(tmp_path, DJANGO_SETTINGS_MODULE="deploynix.settings", **env)
    result = subprocess.run([sys.executable, "-c", READ_SETTINGS], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_redis_stays_the_broker_unless_another_is_named(tmp_path):
    conf = celery_conf(tmp_path)
    assert conf["url"] == "redis://127.0.0.1:6379/0"
    assert conf["options"]["visibility_timeout"] > 3600  # outlasts the longest deployment
    assert conf["heartbeat"] is None


def test_rabbitmq_gets_confirms_and_heartbeats_and_no_visibility_timeout(tmp_path):
    conf = celery_conf(tmp_path, DEPLOYNIX_BROKER_URL="amqp://dnx:secret@mq.example:5672/dnx")
    assert conf["url"] == "amqp://dnx:secret@mq.example:5672/dnx"
    assert conf["options"] == {"confirm_publish": True}
    assert conf["heartbeat"] == 30
    assert conf["timeout"] <= 5 and conf["acks_late"] is True


def test_the_broker_url_may_come_from_a_secret_file(tmp_path):
    secret = tmp_path / "broker_url"
    secret.write_text("amqps://dnx:secret@mq.example:5671/dnx\n")
    conf = celery_conf(tmp_path, DEPLOYNIX_BROKER_URL_FILE=str(secret))
    assert conf["url"] == "amqps://dnx:secret@mq.example:5671/dnx"
    assert "visibility_timeout" not in conf["options"]


def test_an_unknown_broker_scheme_stops_the_start_up(tmp_path):
    env = production_env(tmp_path, DEPLOYNIX_BROKER_URL="sqs://queue.example")
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "DEPLOYNIX_BROKER_URL must start with one of amqp://" in result.stderr


def test_a_rabbitmq_production_configuration_passes_the_deployment_checklist(tmp_path):
    env = production_env(tmp_path, DEPLOYNIX_BROKER_URL="amqp://dnx:secret@mq.example:5672/dnx")
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


def rabbitmq_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5672), 2):
            return True
    except OSError:
        return False


SEND_PROBE = """
import django
django.setup()
from deploynix.celery import app
app.send_task("deploynix.broker_probe", args=[{probe!r}], queue={queue!r})
"""


def test_the_panel_sends_a_persistent_task_that_rabbitmq_has_confirmed(tmp_path):
    if not rabbitmq_answers(AMQP_URL):
        pytest.skip(f"RabbitMQ does not answer at {urlsplit(AMQP_URL).netloc.split('@')[-1]} "
                    "(set DEPLOYNIX_TEST_AMQP_URL): the live RabbitMQ check did not run")
    queue, probe = f"dnx-probe-{uuid.uuid4().hex}", uuid.uuid4().hex
    env = {**os.environ, "DEPLOYNIX_BROKER_URL": AMQP_URL}
    code = SEND_PROBE.format(probe=probe, queue=queue)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr  # send_task returned: the broker confirmed
    with Connection(AMQP_URL) as connection:
        inbox = connection.SimpleQueue(queue)
        try:
            message = inbox.get(timeout=10)
            assert message.headers["task"] == "deploynix.broker_probe"
            assert message.delivery_info["routing_key"] == queue
            assert message.properties["delivery_mode"] == 2  # persistent: survives a restart
            assert probe in json.dumps(message.decode())
            message.ack()
        finally:
            inbox.close()
            connection.default_channel.queue_delete(queue)
