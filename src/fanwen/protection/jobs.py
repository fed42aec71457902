"""Worker job: fonts of the current epoch, and of the next one before it starts."""

from __future__ import annotations

from django.conf import settings

from fanwen.protection import fonts

# Within this last part of an epoch the next epoch's fonts are built, so none is missing at
# the switch.
AHEAD_FRACTION = 0.1


def build_fonts_job() -> dict:
    """Build the missing fonts of every published article; returns counts by epoch."""
    if settings.FANWEN_PROTECTION != "font":
        return {}
    epoch = fonts.current_epoch()
    counts = {"current": fonts.build_missing_fonts(epoch=epoch)}
    if fonts.epoch_progress() >= 1 - AHEAD_FRACTION:
        counts["next"] = fonts.build_missing_fonts(epoch=epoch + 1)
    return counts
