"""File storage: the settings that choose it, whole-object writes and folder deletes, locally
and on S3 (moto's server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import storages

from fanwen.lib import storage as files
from fanwen.lib.tests.s3 import *  # noqa: F403  (the s3 fixture)
from fanwen.protection import fonts

REPO = Path(__file__).resolve().parents[4]

SHOW = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({k: settings.STORAGES[k] for k in ('default', 'fonts')}, default=str))"
)


def storages_for(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FANWEN_S", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "fanwen.settings",
            "FANWEN_VAR_DIR": str(tmp_path),
            "FANWEN_SANDBOX": "0",
            **env,
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_default_is_local_folders_of_var_dir(tmp_path):
    result = storages_for(tmp_path)
    assert result.returncode == 0, result.stderr
    configured = json.loads(result.stdout)
    assert configured["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert configured["fonts"]["BACKEND"] == "fanwen.lib.storage.VarDirStorage"


def test_s3_puts_uploads_and_fonts_under_the_prefix_of_one_bucket(tmp_path):
    result = storages_for(
        tmp_path,
        FANWEN_STORAGE="s3",
        FANWEN_S3_BUCKET="fanwen-files",
        FANWEN_S3_ENDPOINT_URL="https://s3.example.com",
        FANWEN_S3_REGION="cn-north-1",
        FANWEN_S3_PREFIX="/site-a/",
        FANWEN_S3_ACCESS_KEY="key-id",
        FANWEN_S3_SECRET_KEY="secret",
    )
    assert result.returncode == 0, result.stderr
    configured = json.loads(result.stdout)
    default, font = configured["default"]["OPTIONS"], configured["fonts"]["OPTIONS"]
    assert configured["fonts"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (default["location"], font["location"]) == ("site-a/media", "site-a/fonts")
    assert default["bucket_name"] == font["bucket_name"] == "fanwen-files"
    assert font["endpoint_url"] == "https://s3.example.com" and font["region_name"] == "cn-north-1"
    assert (font["access_key"], font["secret_key"]) == ("key-id", "secret")
    # Fonts replace their objects; two uploads of one name never do.
    assert font["file_overwrite"] is True and default["file_overwrite"] is False
    assert font["default_acl"] is None


def test_s3_without_keys_leaves_them_to_boto3_and_without_a_bucket_stops(tmp_path):
    result = storages_for(tmp_path, FANWEN_STORAGE="s3", FANWEN_S3_BUCKET="b")
    assert result.returncode == 0, result.stderr
    assert "access_key" not in json.loads(result.stdout)["fonts"]["OPTIONS"]
    result = storages_for(tmp_path, FANWEN_STORAGE="s3")
    assert result.returncode != 0 and "FANWEN_S3_BUCKET" in result.stderr
    result = storages_for(tmp_path, FANWEN_STORAGE="nfs")
    assert result.returncode != 0 and "use local or s3" in result.stderr


def test_the_local_font_folder_follows_its_setting(settings, tmp_path):
    settings.FANWEN_FONT_DIR = str(tmp_path / "one")
    files.write_whole(storages["fonts"], "maps/1/x.json", b"{}")
    settings.FANWEN_FONT_DIR = str(tmp_path / "two")
    assert not storages["fonts"].exists("maps/1/x.json")
    assert (tmp_path / "one" / "maps" / "1" / "x.json").read_bytes() == b"{}"
    settings.FANWEN_FONT_DIR = ""
    settings.VAR_DIR = tmp_path / "var"
    assert files.local_path(storages["fonts"], "a") == tmp_path / "var" / "fonts" / "a"


@pytest.fixture(params=["local", "s3"])
def storage(request, settings, tmp_path):
    if request.param == "s3":
        settings.STORAGES = request.getfixturevalue("s3").storages()
    else:
        settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    return storages["fonts"]


def test_a_whole_write_replaces_the_object_under_its_own_name(storage):
    files.write_whole(storage, "maps/5/a.json", b"first")
    files.write_whole(storage, "maps/5/a.json", b"second")
    assert files.read_bytes(storage, "maps/5/a.json") == b"second"
    assert files.files_in(storage, "maps/5") == ["a.json"]
    assert files.read_bytes(storage, "maps/5/missing.json") is None


def test_deleting_a_folder_deletes_what_is_under_it_only(storage):
    for name in ("obf/1/a.woff2", "obf/1/b.woff2", "obf/2/a.woff2", "maps/1/a.json"):
        files.write_whole(storage, name, b"x")
    files.delete_folder(storage, "obf/1")
    assert files.subfolders(storage, "obf") == ["2"]
    assert files.read_bytes(storage, "maps/1/a.json") == b"x"
    assert files.subfolders(storage, "nothing") == [] and files.files_in(storage, "nothing") == []


def test_pruning_fonts_removes_old_epochs_from_the_bucket_and_the_node_copies(
    storage, settings, tmp_path
):
    settings.VAR_DIR = tmp_path / "var"
    for epoch in (10, 12, 13):
        for kind in ("obf", "clean", "maps"):
            fonts._write(f"{kind}/{epoch}/{'a' * 24}.x", b"x")
    assert fonts.prune_fonts(13) == 1
    for kind in ("obf", "clean", "maps"):
        assert files.subfolders(storage, kind) == ["12", "13"]
    copies = tmp_path / "var" / "font-copies" / "obf"
    if files.local_path(storage, "") is None:
        assert sorted(p.name for p in copies.iterdir()) == ["12", "13"]
    else:
        assert not copies.exists(), "a local folder needs no copies"
