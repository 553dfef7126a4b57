"""Deployment tests reuse the site fixtures."""

from __future__ import annotations

from tests.sites.conftest import VALID, make_site, other_server, server, site  # noqa: F401
