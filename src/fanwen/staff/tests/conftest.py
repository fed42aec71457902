import io
import random
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from fanwen.library.tests.factories import *  # noqa: F403  (the library's shared fixtures)

LIBRARY_FIXTURES = Path(__file__).resolve().parents[2] / "library" / "tests" / "fixtures"


def essay(title: str, seed: int, paragraphs: int = 5) -> bytes:
    """A .txt essay whose text no other seed shares (so nothing is a near-duplicate by chance)."""
    rng = random.Random(seed)
    body = "\n".join(
        "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(60)) + "。"
        for _ in range(paragraphs)
    )
    return f"{title}\n\n{body}\n".encode()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    """default_storage in a temporary folder: what a batch stored can be looked at."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_user("editor", password="pw-123456-long", is_staff=True)
