"""Debian's Chromium as the browser tests launch it, and where their screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# live_server runs in a thread next to Playwright's sync event loop; Django must allow that.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def watch_csp(context, seen: list[str]) -> list[str]:
    """Collects into `seen` every Content-Security-Policy violation the context's pages report."""

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            seen.append(f"{message.page.url if message.page else ''}: {message.text}")

    context.on("console", on_console)
    return seen
