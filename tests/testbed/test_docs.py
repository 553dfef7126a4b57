"""docs/server-setup.md shows exactly the configuration the test hosts run."""

from __future__ import annotations

import re
from pathlib import Path

from testbed.web import OPCACHE_INI, SiteRoot, nginx_server_block

DOC = Path(__file__).parents[2] / "docs" / "server-setup.md"


def _fenced_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_it_documents_the_generated_nginx_server_block():
    site = SiteRoot(Path("/home/deploynix/example.com"), server_name="example.com www.example.com")
    generated = nginx_server_block(
        site, fpm_address="unix:/run/php/php8.2-fpm.sock", listen="80", default=False
    )

    assert _fenced_blocks("nginx") == [generated]


def test_it_documents_the_opcache_and_fpm_settings_the_stack_uses():
    ini_blocks = _fenced_blocks("ini")

    assert OPCACHE_INI in ini_blocks
    assert any("process_control_timeout = 10s" in block for block in ini_blocks)
