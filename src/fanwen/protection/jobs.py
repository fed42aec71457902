"""Worker job: fonts of the current epoch, and of the next one before it starts."""

from __future__ import annotations

import time

from django.conf import settings

from fanwen.protection import fonts

# Within this last part of an epoch the next epoch's fonts are built, so none is missing at
# the switch; earlier too, as soon as every font of this epoch is there (a big library needs
# more than this part to build them all).
AHEAD_FRACTION = 0.1


def build_fonts_job() -> dict:
    """Build missing fonts, most read articles first, for at most FANWEN_FONT_JOB_SECONDS."""
    if settings.FANWEN_PROTECTION != "font":
        return {}
    # Bounded per pass, so payment reconciliation never waits behind a long font run.
    budget = settings.FANWEN_FONT_JOB_SECONDS
    started = time.monotonic()
    epoch = fonts.current_epoch()
    counts = {"current": fonts.build_missing_fonts(epoch=epoch, seconds=budget)}
    left = budget - (time.monotonic() - started)
    current_done = counts["current"] == 0
    if left > 0 and (current_done or fonts.epoch_progress() >= 1 - AHEAD_FRACTION):
        counts["next"] = fonts.build_missing_fonts(epoch=epoch + 1, seconds=left)
    return counts
