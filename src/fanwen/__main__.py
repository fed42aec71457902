"""The `fanwen` console script: Django's manage.py with fanwen's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # `fanwen import PATH` reads better than the command's module name.
    aliases = {"import": "import_articles", "serve": "runserver"}
    if len(argv) > 1 and argv[1] in aliases:
        argv[1] = aliases[argv[1]]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
