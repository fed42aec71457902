"""The `fanwen` console script: Django's manage.py with fanwen's settings."""

import os
import sys

DEMO_ADDR = "127.0.0.1:8000"


def demo_origin(argv: list[str]) -> str:
    """http://HOST:PORT of `demo --addr HOST:PORT` (or --addr=PORT), where its sandbox is served."""
    addr = DEMO_ADDR
    for index, arg in enumerate(argv):
        if arg == "--addr" and index + 1 < len(argv):
            addr = argv[index + 1]
        elif arg.startswith("--addr="):
            addr = arg.split("=", 1)[1]
    return "http://" + (addr if ":" in addr else f"127.0.0.1:{addr}")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    argv = list(sys.argv)
    if len(argv) > 1 and argv[1] == "demo":
        # The demo pays in the sandbox, read by the settings: so before they load. The emulator
        # reaches this server (notifications, return pages) at the address it serves on.
        os.environ.setdefault("FANWEN_SANDBOX", "1")
        os.environ.setdefault("FANWEN_SANDBOX_ORIGIN", demo_origin(argv))
    from django.core.management import execute_from_command_line

    # `fanwen import PATH` reads better than the command's module name; `fanwen serve` is the
    # ops app's gunicorn command.
    aliases = {"import": "import_articles"}
    if len(argv) > 1 and argv[1] in aliases:
        argv[1] = aliases[argv[1]]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
