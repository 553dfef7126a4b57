"""`deploynix <command>` (the console script) and `python -m deploynix <command>`: manage.py for
an installed panel, where no manage.py file exists."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deploynix.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["deploynix", *sys.argv[1:]])


if __name__ == "__main__":
    main()
