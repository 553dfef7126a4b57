"""ServerSession over a real sshd: uploads through stdin, guarded commands in one round trip."""

from __future__ import annotations

import pytest

from deployments.pipeline.actions import Command, Upload
from deployments.pipeline.commit import CommitResolver
from deployments.pipeline.session import ServerSession
from tests.deployments.pipeline.conftest import RecordingSink, Site

pytestmark = pytest.mark.ssh

DATA = b"A=1\r\nB='x y'\x00\xff\nno final newline"


@pytest.fixture
async def session(site: Site):
    session = ServerSession(site.context(), site.server(), RecordingSink(), CommitResolver())
    yield session
    await session.close()


async def test_it_uploads_bytes_exactly_with_the_mode_and_no_temp_file(session, tmp_path):
    target = tmp_path / "shared" / ".env"
    target.parent.mkdir()

    await session.upload(Upload(str(target), DATA, 0o600))

    assert target.read_bytes() == DATA and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == [".env"]


async def test_it_runs_a_guarded_command_only_when_its_checks_hold(session, tmp_path):
    made = tmp_path / "made"
    guarded = Command(("touch", str(made)), when=(("test", "-d", str(tmp_path)),))
    never = Command(("touch", str(made) + "-never"), when=(("test", "-e", "/nonexistent"),))

    ran = await session.perform([guarded, never])

    assert (ran, made.exists(), (tmp_path / "made-never").exists()) == (1, True, False)
    assert "skipped (test -e /nonexistent is false)" in session.sink.text()
