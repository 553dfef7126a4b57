"""The bench's hosts: namespaced hosts (testbed/netns.py, shared with the tests) and a fixed
round-robin `LoadBalancer`, an nginx in the root namespace on 127.0.0.1 with the hosts as its
upstream. Needs root.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path

from testbed.netns import START_TIMEOUT, NetnsHost, Network
from testbed.web import NGINX_BINARY

__all__ = ["LoadBalancer", "NetnsHost", "Network"]

LB_CONF = """\
{user}worker_processes 2;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {base}/temp;
    proxy_temp_path {base}/temp;
    upstream hosts {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://hosts;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # No retry on another host: a host's failure must reach the client and be counted.
            proxy_next_upstream off;
        }}
    }}
}}
"""


class LoadBalancer:
    """nginx on 127.0.0.1:<port>, round-robin over the hosts' port 80."""

    def __init__(self, base: Path, addresses: list[str]) -> None:
        base.mkdir(parents=True, exist_ok=True)
        (base / "temp").mkdir(exist_ok=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        servers = "\n".join(f"        server {address}:80;" for address in addresses)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (base / "nginx.conf").write_text(
            LB_CONF.format(user=user, base=base, servers=servers, port=self.port)
        )
        self._process = subprocess.Popen(
            [NGINX_BINARY, "-p", str(base), "-c", str(base / "nginx.conf"), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("load balancer did not start")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait()
