"""Shell scripts of the SSH layer (loaded by servers.scripts)."""
