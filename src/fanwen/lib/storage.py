"""Files every node must see: named Django STORAGES, local folders by default or one bucket.

    STORAGES["default"]  uploads waiting for an import batch (and the 客服 QR image)
    STORAGES["fonts"]    the protection fonts and their maps (fanwen.protection.fonts)

Locally they are folders of VAR_DIR; with FANWEN_STORAGE=s3 they are prefixes of one
S3-compatible bucket (django-storages), so a font built or an upload received on one node is
there for every other. The helpers below keep to the Storage API plus two things it lacks:
replacing an object whole (a reader sees the old bytes or the new, never a part) and
deleting a folder in one go.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.functional import cached_property


class VarDirStorage(FileSystemStorage):
    """A FileSystemStorage in the folder a setting names, else in VAR_DIR/<folder>.

    Both are read at use and followed when they change (tests and `fanwen demo` move them),
    as FileSystemStorage follows MEDIA_ROOT.
    """

    def __init__(self, *, folder: str, setting: str = "", **kwargs) -> None:
        self._folder = folder
        self._setting = setting
        super().__init__(**kwargs)

    @cached_property
    def base_location(self) -> str:
        configured = getattr(settings, self._setting, "") if self._setting else ""
        return str(configured or Path(settings.VAR_DIR) / self._folder)

    def _clear_cached_properties(self, setting, **kwargs) -> None:
        super()._clear_cached_properties(setting, **kwargs)
        if setting in {"VAR_DIR", self._setting}:
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)


def local_path(storage: Storage, name: str) -> Path | None:
    """The file behind `name` when the storage is a local folder, else None."""
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


def write_whole(storage: Storage, name: str, data: bytes) -> None:
    """Write `name`, replacing what is there, so that no reader ever sees part of it.

    A local folder gets a temporary file renamed over the old one; S3 replaces an object in
    one PUT. Storage.save alone would pick another name when `name` exists (locally) and,
    with overwrite allowed, truncate the file a reader may be reading.
    """
    path = local_path(storage, name)
    if path is not None:
        mode = getattr(storage, "file_permissions_mode", None)
        replace_file(path, data, mode=0o644 if mode is None else mode)
        return
    saved = storage.save(name, ContentFile(data))
    if saved != name:
        storage.delete(saved)
        raise ImproperlyConfigured(
            f"storage {storage!r} saved {name!r} as {saved!r}: it must overwrite "
            "(file_overwrite=True for S3Storage)"
        )


def replace_file(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write a local file through a temporary one renamed over it (whole or not at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_bytes(storage: Storage, name: str) -> bytes | None:
    """The whole object, or None when there is none."""
    try:
        with storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def subfolders(storage: Storage, name: str) -> list[str]:
    """The folders directly under `name` (none when it does not exist)."""
    try:
        return sorted(storage.listdir(name)[0])
    except FileNotFoundError:
        return []


def files_in(storage: Storage, name: str) -> list[str]:
    """The names of the files directly in folder `name` (none when it does not exist)."""
    try:
        return sorted(storage.listdir(name)[1])
    except FileNotFoundError:
        return []


def delete_folder(storage: Storage, name: str) -> None:
    """Delete everything under folder `name`."""
    path = local_path(storage, name)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
        return
    bucket = getattr(storage, "bucket", None)
    if bucket is not None:
        # S3: one request per 1,000 objects rather than one per object.
        prefix = posixpath.join(getattr(storage, "location", ""), name.strip("/"), "")
        bucket.objects.filter(Prefix=prefix).delete()
        return
    for folder in subfolders(storage, name):
        delete_folder(storage, posixpath.join(name, folder))
    for file_name in files_in(storage, name):
        storage.delete(posixpath.join(name, file_name))
