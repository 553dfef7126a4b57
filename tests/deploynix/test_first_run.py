"""First run (`make run`): the log-in block comes last, once the panel answers, and README shows
it exactly; the demo site's address says "not deployed yet — click Deploy" before its first deploy.
"""

from __future__ import annotations

import http.server
import re
import sys
import threading
from pathlib import Path

import pytest

from deploynix.demo import write_placeholder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import greet  # noqa: E402  (scripts/ is no package: it runs before the virtualenv exists)

README_EXAMPLE = {
    "panel_url": "http://127.0.0.1:8000/",
    "email": "owner@demo.test",
    "password": "<generated, kept in var/demo/owner-password>",
    "demo_url": "http://127.0.0.1:<port>/",
}


def _readme_block() -> str:
    readme = (ROOT / "README.md").read_text()
    return re.search(r"```text\n(==> Deploynix is ready\n.*?)```", readme, re.S).group(1)


def test_readme_shows_the_block_exactly_as_make_run_prints_it():
    assert "\n" + _readme_block() == greet.login_block(**README_EXAMPLE)


def test_run_sh_prints_the_block_through_the_watcher_after_everything_else():
    script = (ROOT / "scripts" / "run.sh").read_text()
    seed = script[script.index("manage.py seed_demo"):]
    assert seed.index('> "$DEMO/seed.log"') < seed.index("\n\n")  # the seed prints nothing
    assert script.index('"$ROOT/scripts/greet.py"') < script.index('exec "$VENV/bin/honcho"')


@pytest.fixture
def panel_port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_the_watcher_prints_the_block_once_the_panel_answers(panel_port, tmp_path, capsys):
    (tmp_path / "pw").write_text("s3cret\n")
    argv = ["--port", str(panel_port), "--panel-url", "http://127.0.0.1/", "--email", "o@d.test",
            "--password-file", str(tmp_path / "pw")]
    assert greet.main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "    Password:  s3cret", "    Ctrl-C stops everything."]


def test_the_watcher_stays_silent_when_make_run_ended_first(tmp_path, capsys):
    (tmp_path / "pw").write_text("s3cret\n")
    gone = 2**22 + 1  # above pid_max's default range: no such process
    assert not greet.wait_for_panel(1, parent=gone)
    assert capsys.readouterr().out == ""


def test_the_demo_placeholder_links_to_the_sites_page(site, tmp_path, settings):
    settings.PUBLIC_URL = "http://127.0.0.1:8123"
    page = write_placeholder(tmp_path / "placeholder", site).read_text()
    assert "not deployed yet — click Deploy" in page
    assert f'href="http://127.0.0.1:8123/o/acme/sites/{site.pk}/"' in page
