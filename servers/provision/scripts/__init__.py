"""Provisioning's remote shell scripts, one `.sh` file each (see servers/scripts.py)."""

from servers.scripts import loader

script = loader(__name__)
