"""The sandbox's key set: generated on first use, kept as plain files so other tools can play the platform.

In the sandbox directory (FANWEN_SANDBOX_DIR, else VAR_DIR/sandbox):

    merchant_private.pem   our API key (signs requests)          merchant_public.pem  (the emulator verifies)
    platform_private.pem   "WeChat Pay" (signs answers, notify)  platform_public.pem  (we verify)
    apiv3.key              32 characters (AES-256-GCM of notifications)
    ids.json               {"mchid", "appid", "public_key_id", "merchant_serial"}

The official account's app secret (for the emulated OAuth) is derived from the APIv3 key:
HMAC-SHA256(apiv3 key, "fanwen sandbox app_secret"), first 32 hex digits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import string
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FILES = (
    "merchant_private.pem",
    "merchant_public.pem",
    "platform_private.pem",
    "platform_public.pem",
    "apiv3.key",
    "ids.json",
)
KeySet = TypeVar("KeySet")
# Every key set read in this process (WeChat's and Alipay's), by folder.
_loaded: dict[Path, Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class SandboxKeys:
    directory: Path
    mchid: str
    appid: str
    public_key_id: str
    merchant_serial: str
    apiv3_key: str
    merchant_private_pem: str
    merchant_public_pem: str
    platform_private_pem: str
    platform_public_pem: str
    app_secret: str

    @cached_property
    def merchant_public_key(self) -> Any:
        return serialization.load_pem_public_key(self.merchant_public_pem.encode())

    @cached_property
    def platform_private_key(self) -> Any:
        return serialization.load_pem_private_key(self.platform_private_pem.encode(), password=None)

    def backend_options(self) -> dict[str, Any]:
        """What a WeChatPayBackend needs to talk to the emulator as this merchant."""
        return {
            "mchid": self.mchid,
            "appid": self.appid,
            "private_key": self.merchant_private_pem,
            "cert_serial_no": self.merchant_serial,
            "apiv3_key": self.apiv3_key,
            "public_key": self.platform_public_pem,
            "public_key_id": self.public_key_id,
            "app_secret": self.app_secret,
        }


def sandbox_dir() -> Path:
    configured = getattr(settings, "FANWEN_SANDBOX_DIR", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "sandbox"


def load_keys(directory: Path | None = None) -> SandboxKeys:
    """The key set in `directory` (default: sandbox_dir()), generated there if it does not exist."""
    return load_key_set(Path(directory or sandbox_dir()), generate_keys, _read)


def load_key_set(
    directory: Path, generate: Callable[[Path], None], read: Callable[[Path], KeySet]
) -> KeySet:
    """The key set `read` finds in `directory`, generated first if absent; read once per process."""
    directory = directory.resolve()
    keys = _loaded.get(directory)
    if keys is not None:
        return keys
    with _lock:
        if directory not in _loaded:
            if not (directory / "ids.json").exists():
                generate(directory)
            _loaded[directory] = read(directory)
        return _loaded[directory]


def forget_loaded_keys() -> None:
    with _lock:
        _loaded.clear()


def read_key_files(directory: Path, names: tuple[str, ...]) -> dict[str, str]:
    """{name: text} of a key set's files; ImproperlyConfigured when one is missing."""
    missing = [name for name in names if not (directory / name).exists()]
    if missing:
        raise ImproperlyConfigured(f"sandbox key set in {directory} lacks {', '.join(missing)}")
    return {name: (directory / name).read_text(encoding="utf-8") for name in names}


def generate_keys(directory: Path) -> None:
    """Write a fresh key set into `directory`, which must not hold one yet."""
    merchant, platform = new_rsa_key(), new_rsa_key()
    ids = {
        "mchid": "19" + _random(string.digits, 8),
        "appid": "wx" + secrets.token_hex(8),
        "public_key_id": "PUB_KEY_ID_01" + _random(string.digits, 26),
        "merchant_serial": secrets.token_hex(20).upper(),
    }
    install_key_set(
        directory,
        {
            "merchant_private.pem": (private_pem(merchant), True),
            "merchant_public.pem": (public_pem(merchant), False),
            "platform_private.pem": (private_pem(platform), True),
            "platform_public.pem": (public_pem(platform), False),
            "apiv3.key": (_random(string.ascii_letters + string.digits, 32), True),
            "ids.json": (json.dumps(ids, indent=2) + "\n", False),
        },
    )


def install_key_set(directory: Path, files: dict[str, tuple[str, bool]]) -> None:
    """Write {name: (text, private)} as the folder `directory`, all at once.

    Written into a temporary folder and renamed into place, so a second process racing us
    finds either no key set or a whole one, never half of one.
    """
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ImproperlyConfigured(
            f"{directory} holds an incomplete sandbox key set: remove it to regenerate"
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sandbox-", dir=directory.parent))
    try:
        for name, (text, private) in files.items():
            _write(staging / name, text, private=private)
        if directory.exists():
            directory.rmdir()
        try:
            os.rename(staging, directory)
        except OSError:
            # Another process won the race; its key set is as good as ours.
            if not (directory / "ids.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read(directory: Path) -> SandboxKeys:
    text = read_key_files(directory, FILES)
    ids = json.loads(text["ids.json"])
    apiv3_key = text["apiv3.key"].strip()
    return SandboxKeys(
        directory=directory,
        mchid=ids["mchid"],
        appid=ids["appid"],
        public_key_id=ids["public_key_id"],
        merchant_serial=ids["merchant_serial"],
        apiv3_key=apiv3_key,
        merchant_private_pem=text["merchant_private.pem"],
        merchant_public_pem=text["merchant_public.pem"],
        platform_private_pem=text["platform_private.pem"],
        platform_public_pem=text["platform_public.pem"],
        # Derived rather than stored: ids.json is readable by all, the APIv3 key is not.
        app_secret=_derived_app_secret(apiv3_key),
    )


def _derived_app_secret(apiv3_key: str) -> str:
    digest = hmac.new(apiv3_key.encode(), b"fanwen sandbox app_secret", hashlib.sha256)
    return digest.hexdigest()[:32]


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    # PKCS#8 ("BEGIN PRIVATE KEY"), the format WeChat's merchant tool issues and the SDK expects.
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _write(path: Path, text: str, *, private: bool = False) -> None:
    path.write_text(text, encoding="utf-8")
    if private:
        path.chmod(0o600)


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))
