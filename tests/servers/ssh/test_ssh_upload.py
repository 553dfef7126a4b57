"""SFTP uploads: byte-exact, with the asked mode, atomic for concurrent readers."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from servers.ssh import SSHError

pytestmark = pytest.mark.ssh

HOSTILE_CONTENT = b"APP_KEY='x\"y'\nCMD=$(rm -rf /)\nTICK=`id`\r\n\x00\xff" + os.urandom(64 * 1024)


async def test_it_uploads_hostile_content_byte_exact_with_the_asked_mode(ssh_connection, tmp_path):
    target = tmp_path / "it's a $(file) `name`.env"
    await ssh_connection.upload(str(target), HOSTILE_CONTENT, mode=0o640)
    assert target.read_bytes() == HOSTILE_CONTENT
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


async def test_it_replaces_an_existing_file_and_its_mode(ssh_connection, tmp_path):
    target = tmp_path / "script.sh"
    target.write_text("old")
    target.chmod(0o600)
    await ssh_connection.upload(str(target), b"#!/bin/sh\n", mode=0o755)
    assert (target.read_bytes(), stat.S_IMODE(target.stat().st_mode)) == (b"#!/bin/sh\n", 0o755)


async def test_it_reads_a_file_back_byte_exact(ssh_connection, tmp_path):
    (tmp_path / "data.bin").write_bytes(HOSTILE_CONTENT)
    assert await ssh_connection.read_file(str(tmp_path / "data.bin")) == HOSTILE_CONTENT


async def test_it_reports_a_missing_file_as_an_ssh_error(ssh_connection, tmp_path):
    with pytest.raises(SSHError):
        await ssh_connection.read_file(str(tmp_path / "missing"))


async def test_it_removes_the_temp_file_when_the_rename_fails(ssh_connection, tmp_path):
    (tmp_path / "taken" / "inside").mkdir(parents=True)  # a non-empty directory cannot be replaced
    with pytest.raises(SSHError):
        await ssh_connection.upload(str(tmp_path / "taken"), b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


async def test_it_never_lets_a_concurrent_reader_see_a_partial_file(ssh_connection, tmp_path):
    target, size = tmp_path / "config.json", 256 * 1024
    target.write_bytes(b"\0" * size)
    torn_reads, stop = [], threading.Event()

    def read_in_a_loop():
        while not stop.is_set():
            data = target.read_bytes()
            if len(data) != size or data.count(data[:1]) != size:
                torn_reads.append(len(data))

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        for version in range(1, 31):
            await ssh_connection.upload(str(target), bytes([version]) * size)
    finally:
        stop.set()
        reader.join()
    assert torn_reads == []
    assert target.read_bytes() == bytes([30]) * size
