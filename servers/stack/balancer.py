"""The stack check of a load balancer's nginx: is our file included, valid and as generated?

`nginx -t` passing proves little on its own: a file in a directory nginx does not include is
never read, so it "passes" while nothing is balanced. `nginx -T` (the balancer's test command
with `-T` for `-t`: same binary, prefix and config) tests the whole config and prints every file
it read, so one run answers all three questions. Judging is pure; `probe_balancer` runs it.
"""

from __future__ import annotations

from collections.abc import Sequence

from servers.ssh import OutputLine, RemoteConnection
from servers.stack.check import Finding, split_dump

DUMP_TIMEOUT = 30.0
MAX_ERROR_CHARS = 2000


def dump_argv(test_command: Sequence[str]) -> list[str] | None:
    """The test command as `nginx -T`, or None when it is not an nginx `-t` we can turn."""
    argv = list(test_command)
    if "-t" not in argv:
        return None
    argv[argv.index("-t")] = "-T"
    return argv


def judge_balancer(status: int, dump: str, *, conf_path: str, expected: str) -> list[Finding]:
    """Findings from an `nginx -T` run: its exit status, and the files it printed."""
    if status != 0:
        tail = dump[-MAX_ERROR_CHARS:]
        return [Finding("error", "lb_nginx_test", f"nginx -T failed (exit {status}): {tail}",
                        "Fix the error nginx reports, then apply again.")]
    findings = [Finding("ok", "lb_nginx_test", "nginx accepts the whole configuration.")]
    files = dict(split_dump(dump))
    if conf_path not in files:
        findings.append(Finding(
            "error", "lb_included",
            f"{conf_path} is not read by nginx: its directory is not included.",
            "Add `include <conf_dir>/*.conf;` inside `http` of the balancer's nginx.conf, "
            "or change the balancer's include directory.",
        ))
        return findings
    findings.append(Finding("ok", "lb_included", f"nginx reads {conf_path}."))
    if files[conf_path].strip() != expected.strip():
        findings.append(Finding(
            "warning", "lb_generated",
            "The live file differs from the generated config (edited by hand, or not applied).",
            "Apply the config again.",
        ))
    else:
        findings.append(Finding("ok", "lb_generated", "Upstreams and servers are as generated."))
    return findings


async def probe_balancer(
    conn: RemoteConnection, *, test_command: Sequence[str], conf_path: str, expected: str
) -> list[Finding]:
    """Run `nginx -T` on the balancer and judge it."""
    argv = dump_argv(test_command)
    if argv is None:
        return [Finding("warning", "lb_nginx_test",
                        "The test command is not `nginx ... -t`, so nginx's files cannot be read.",
                        "Use an nginx -t test command for the check.")]
    streams: dict[str, list[str]] = {"out": [], "err": []}

    def collect(line: OutputLine) -> None:
        streams[line.stream].append(line.text)

    result = await conn.run(argv, timeout=DUMP_TIMEOUT, on_line=collect)
    # The files come on stdout; nginx's verdict and errors on stderr (shown when it fails).
    dump = "\n".join(streams["out"] if result.exit_status == 0 else streams["err"])
    return judge_balancer(result.exit_status, dump, conf_path=conf_path, expected=expected)
