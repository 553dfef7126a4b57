"""Running commands: streaming lines, exit status, cwd/env, hostile arguments, reuse."""

from __future__ import annotations

import asyncio
import json

import pytest

pytestmark = pytest.mark.ssh

HOSTILE = ["$(id)", "`id`", "'single'", '"double"', "new\nline", "a; touch /tmp/pwned", "*", ""]


async def collect(conn, argv, **options):
    lines = []
    result = await conn.run(argv, on_line=lines.append, **options)
    return result.exit_status, [(line.stream, line.text) for line in lines]


async def test_it_returns_the_exit_status(ssh_connection):
    status, _lines = await collect(ssh_connection, ["sh", "-c", "exit 7"])
    assert status == 7


async def test_it_reports_death_by_signal_like_a_shell(ssh_connection):
    status, _lines = await collect(ssh_connection, ["sh", "-c", "kill -KILL $$"])
    assert status == 128 + 9


async def test_it_streams_a_line_before_the_command_finishes(ssh_connection, tmp_path):
    # The command cannot finish before the test creates `go`, which it does only
    # after receiving the first line: no timing assumptions.
    go, first_line = tmp_path / "go", asyncio.Event()
    script = 'echo one; while [ ! -e "$1" ]; do sleep 0.05; done; echo two'
    lines = []

    def on_line(line):
        lines.append(line.text)
        first_line.set()

    argv = ["sh", "-c", script, "sh", str(go)]
    run = asyncio.create_task(ssh_connection.run(argv, on_line=on_line))
    await asyncio.wait_for(first_line.wait(), timeout=30)
    go.touch()
    assert (await asyncio.wait_for(run, timeout=30)).exit_status == 0
    assert lines == ["one", "two"]


async def test_it_keeps_order_per_stream_and_tags_stderr(ssh_connection):
    script = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done"
    _status, lines = await collect(ssh_connection, ["sh", "-c", script])
    assert [text for stream, text in lines if stream == "out"] == [f"out{i}" for i in range(1, 6)]
    assert [text for stream, text in lines if stream == "err"] == [f"err{i}" for i in range(1, 6)]


async def test_it_splits_on_carriage_returns_like_git_progress(ssh_connection):
    script = r"printf '10%%\r50%%\r100%%\r\ndone\n\nlast'"
    _status, lines = await collect(ssh_connection, ["sh", "-c", script])
    assert [text for _stream, text in lines] == ["10%", "50%", "100%", "done", "", "last"]


async def test_it_runs_in_cwd_with_env(ssh_connection, sshd_host):
    _status, lines = await collect(
        ssh_connection,
        ["sh", "-c", 'pwd; echo "$GREETING"'],
        cwd=str(sshd_host.root),
        env={"GREETING": "hi there"},
    )
    assert lines == [("out", str(sshd_host.root)), ("out", "hi there")]


async def test_it_passes_hostile_arguments_and_env_literally(ssh_connection):
    _status, lines = await collect(
        ssh_connection,
        [
            "python3",
            "-c",
            "import json,os,sys; print(json.dumps([sys.argv[1:], os.environ['X']]))",
            *HOSTILE,
        ],
        env={"X": "$(id) `id` 'q\" ;\n"},
    )
    assert lines == [("out", json.dumps([HOSTILE, "$(id) `id` 'q\" ;\n"]))]


async def test_it_feeds_stdin(ssh_connection):
    data = b"".join(b"line %d\n" % i for i in range(20000))
    _status, lines = await collect(ssh_connection, ["cat"], stdin=data)
    assert len(lines) == 20000
    assert lines[-1] == ("out", "line 19999")


async def test_it_ignores_stdin_the_command_does_not_read(ssh_connection):
    status, _lines = await collect(ssh_connection, ["true"], stdin=b"x" * 4_000_000)
    assert status == 0


async def test_it_closes_stdin_when_none_is_given(ssh_connection):
    status, lines = await collect(ssh_connection, ["cat"], timeout=10)
    assert (status, lines) == (0, [])


async def test_it_reuses_one_connection_for_twenty_commands(ssh_connection):
    # SSH_CONNECTION holds the client's source port: one value means one TCP connection.
    seen = set()
    for _ in range(20):
        _status, lines = await collect(ssh_connection, ["sh", "-c", 'echo "$SSH_CONNECTION"'])
        seen.add(lines[0][1])
    assert len(seen) == 1


async def test_it_runs_commands_concurrently_on_one_connection(ssh_connection):
    results = await asyncio.gather(
        *(collect(ssh_connection, ["sh", "-c", f"sleep 0.3; echo {i}"]) for i in range(8))
    )
    assert [lines for _status, lines in results] == [[("out", str(i))] for i in range(8)]
