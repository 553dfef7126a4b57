"""The stack probe's remote shell scripts: one `.sh` file each, beside this module.

`script("fpm_binaries.sh")` is the text to pass as `sh -c SCRIPT NAME ARGS...`
(see servers/scripts.py).
"""

from servers.scripts import loader

script = loader(__name__)
