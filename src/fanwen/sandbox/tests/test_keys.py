"""The sandbox key set: generated once, kept as files other tools can use to play WeChat Pay."""

from __future__ import annotations

import json
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured

from fanwen.sandbox.keys import FILES, forget_loaded_keys, generate_keys, load_keys


def test_first_use_generates_the_whole_key_set_in_the_sandbox_dir(sandbox_keys, tmp_path):
    directory = tmp_path / "sandbox"

    assert sorted(path.name for path in directory.iterdir()) == sorted(FILES)
    ids = json.loads((directory / "ids.json").read_text())
    assert set(ids) == {"mchid", "appid", "public_key_id", "merchant_serial"}
    assert ids["public_key_id"].startswith("PUB_KEY_ID_")
    assert len((directory / "apiv3.key").read_text().strip()) == 32
    assert (ids["mchid"], ids["appid"]) == (sandbox_keys.mchid, sandbox_keys.appid)


def test_the_private_keys_are_readable_by_the_owner_only(sandbox_keys, tmp_path):
    for name in ("merchant_private.pem", "platform_private.pem", "apiv3.key"):
        mode = stat.S_IMODE((tmp_path / "sandbox" / name).stat().st_mode)
        assert mode == 0o600, name


def test_each_public_key_belongs_to_its_private_key(sandbox_keys):
    for private_pem, public_pem in [
        (sandbox_keys.merchant_private_pem, sandbox_keys.merchant_public_pem),
        (sandbox_keys.platform_private_pem, sandbox_keys.platform_public_pem),
    ]:
        private = serialization.load_pem_private_key(private_pem.encode(), password=None)
        public = serialization.load_pem_public_key(public_pem.encode())
        assert private.public_key().public_numbers() == public.public_numbers()
    assert sandbox_keys.merchant_private_pem != sandbox_keys.platform_private_pem


def test_the_key_set_survives_a_restart(sandbox_keys):
    forget_loaded_keys()

    again = load_keys()

    assert again.merchant_private_pem == sandbox_keys.merchant_private_pem
    assert again.apiv3_key == sandbox_keys.apiv3_key


def test_it_never_overwrites_a_half_written_key_set(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "merchant_private.pem").write_text("half")

    with pytest.raises(ImproperlyConfigured):
        generate_keys(tmp_path / "broken")
    assert (tmp_path / "broken" / "merchant_private.pem").read_text() == "half"


def test_the_sandbox_dir_defaults_to_var_dir(settings, tmp_path):
    settings.FANWEN_SANDBOX_DIR = ""
    settings.VAR_DIR = tmp_path / "var"

    keys = load_keys()

    assert keys.directory == (tmp_path / "var" / "sandbox").resolve()
