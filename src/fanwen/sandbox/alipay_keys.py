"""The Alipay sandbox's key set, beside the WeChat one: generated on first use, kept as plain files.

In `<sandbox dir>-alipay` (VAR_DIR/sandbox-alipay unless FANWEN_SANDBOX_DIR moves both):

    app_private.pem      our application key (signs requests)      app_public.pem      (the emulator verifies)
    alipay_private.pem   "Alipay" (signs answers and notifications) alipay_public.pem   (we verify)
    ids.json             {"appid", "seller_id"}
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from fanwen.sandbox.keys import (
    install_key_set,
    load_key_set,
    new_rsa_key,
    private_pem,
    public_pem,
    read_key_files,
    sandbox_dir,
)

FILES = ("app_private.pem", "app_public.pem", "alipay_private.pem", "alipay_public.pem", "ids.json")


@dataclass(frozen=True)
class AlipaySandboxKeys:
    directory: Path
    appid: str
    seller_id: str
    app_private_pem: str
    app_public_pem: str
    alipay_private_pem: str
    alipay_public_pem: str

    @cached_property
    def _app_public_key(self) -> Any:
        return serialization.load_pem_public_key(self.app_public_pem.encode())

    @cached_property
    def _alipay_private_key(self) -> Any:
        return serialization.load_pem_private_key(self.alipay_private_pem.encode(), password=None)

    def sign_as_alipay(self, message: str) -> str:
        """RSA2 (SHA256withRSA), base64: how Alipay signs answers and notifications."""
        signature = self._alipay_private_key.sign(
            message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
        )
        return base64.b64encode(signature).decode()

    def verify_app_signature(self, message: str, signature: str) -> bool:
        try:
            self._app_public_key.verify(
                base64.b64decode(signature, validate=False),
                message.encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError, TypeError, binascii.Error):
            return False
        return True

    def backend_options(self) -> dict[str, Any]:
        """What an AlipayBackend needs to talk to the emulator as this application."""
        return {
            "appid": self.appid,
            "seller_id": self.seller_id,
            "app_private_key": self.app_private_pem,
            "alipay_public_key": self.alipay_public_pem,
        }


def alipay_sandbox_dir() -> Path:
    base = sandbox_dir()
    return base.with_name(base.name + "-alipay")


def load_alipay_keys(directory: Path | None = None) -> AlipaySandboxKeys:
    """The key set in `directory` (default: alipay_sandbox_dir()), generated there if absent."""
    return load_key_set(Path(directory or alipay_sandbox_dir()), _generate, _read)


def _generate(directory: Path) -> None:
    app, alipay = new_rsa_key(), new_rsa_key()
    ids = {
        # Alipay's app ids are 16 digits (2021…), sellers' PIDs 16 digits (2088…).
        "appid": "2021000" + "".join(secrets.choice(string.digits) for _ in range(9)),
        "seller_id": "2088" + "".join(secrets.choice(string.digits) for _ in range(12)),
    }
    install_key_set(
        directory,
        {
            "app_private.pem": (private_pem(app), True),
            "app_public.pem": (public_pem(app), False),
            "alipay_private.pem": (private_pem(alipay), True),
            "alipay_public.pem": (public_pem(alipay), False),
            "ids.json": (json.dumps(ids, indent=2) + "\n", False),
        },
    )


def _read(directory: Path) -> AlipaySandboxKeys:
    text = read_key_files(directory, FILES)
    ids = json.loads(text["ids.json"])
    return AlipaySandboxKeys(
        directory=directory,
        appid=ids["appid"],
        seller_id=ids["seller_id"],
        app_private_pem=text["app_private.pem"],
        app_public_pem=text["app_public.pem"],
        alipay_private_pem=text["alipay_private.pem"],
        alipay_public_pem=text["alipay_public.pem"],
    )
