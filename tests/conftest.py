"""Shared fixtures. Service-backed fixtures live in tests/fixtures/*.py as plugins."""

pytest_plugins = [
    "tests.fixtures.sshd",
    "tests.fixtures.web",
]
