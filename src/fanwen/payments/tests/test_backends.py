"""PAYMENT_BACKENDS: built lazily by alias, cached, configured from settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from fanwen.payments.backends import InvalidBackendError, backends, get_backend
from fanwen.payments.backends.wechat import WeChatPayBackend
from fanwen.sandbox.backends import SandboxBackend


def test_the_default_wechat_backend_is_the_sandbox(sandbox_keys):
    backend = get_backend()

    assert isinstance(backend, SandboxBackend)
    assert isinstance(backend, WeChatPayBackend)
    assert backend.order_provider == "sandbox"
    assert backend.mchid == sandbox_keys.mchid


def test_a_backend_is_built_once_and_cached(sandbox_keys):
    assert backends["sandbox"] is backends["sandbox"]


def test_changing_the_settings_rebuilds_the_backend(sandbox_keys, settings):
    before = backends["sandbox"]
    settings.PAYMENT_BACKENDS = {
        "sandbox": {
            "BACKEND": "fanwen.sandbox.backends.SandboxBackend",
            "OPTIONS": {"timeout": (1, 2)},
        }
    }

    assert backends["sandbox"] is not before
    assert backends["sandbox"].config.timeout == (1.0, 2.0)


def test_an_unknown_alias_is_a_configuration_error(sandbox_keys):
    with pytest.raises(InvalidBackendError):
        get_backend("nosuch")


def test_nothing_is_loaded_until_the_backend_is_used(settings, tmp_path):
    settings.FANWEN_SANDBOX_DIR = str(tmp_path / "sandbox")

    backends["sandbox"]

    assert not (tmp_path / "sandbox").exists()


def test_the_sandbox_client_points_at_the_emulator_with_a_timeout(sandbox_keys, settings):
    settings.FANWEN_SANDBOX_ORIGIN = "http://127.0.0.1:8123"

    client = backends["sandbox"].client

    assert client._core._gate_way == "http://127.0.0.1:8123/sandbox/wechat"
    assert client._core._timeout == (5.0, 10.0)
    assert client._core._public_key_id == sandbox_keys.public_key_id
    assert client._notify_url == "http://127.0.0.1:8123/pay/notify/wechat/"


def test_a_wechat_backend_without_keys_is_refused_on_first_use(settings):
    settings.PAYMENT_BACKENDS = {
        "wechat": {
            "BACKEND": "fanwen.payments.backends.wechat.WeChatPayBackend",
            "OPTIONS": {"mchid": "1900000109"},
        }
    }
    backend = backends["wechat"]

    with pytest.raises(ImproperlyConfigured, match="private_key"):
        _ = backend.client


def test_a_wechat_backend_in_certificate_mode_is_refused(sandbox_keys, settings):
    options = sandbox_keys.backend_options() | {"public_key_id": "5157F09EFDC096DE15EBE81A47057A72"}
    settings.PAYMENT_BACKENDS = {
        "wechat": {
            "BACKEND": "fanwen.payments.backends.wechat.WeChatPayBackend",
            "OPTIONS": options,
        }
    }

    with pytest.raises(ImproperlyConfigured, match="PUB_KEY_ID_"):
        _ = backends["wechat"].client


def test_a_real_wechat_backend_answers_at_the_plain_notify_path(sandbox_keys, settings):
    settings.SITE_URL = "https://fanwen.example.com"
    settings.PAYMENT_WECHAT_BACKEND = "wechat"
    settings.PAYMENT_BACKENDS = {
        "wechat": {
            "BACKEND": "fanwen.payments.backends.wechat.WeChatPayBackend",
            "OPTIONS": sandbox_keys.backend_options(),
        },
        "sandbox": {"BACKEND": "fanwen.sandbox.backends.SandboxBackend", "OPTIONS": {}},
    }

    assert backends["wechat"].config.notify_url == "https://fanwen.example.com/pay/notify/wechat/"
    assert backends["wechat"].config.gateway == "https://api.mch.weixin.qq.com"
    assert backends["sandbox"].config.notify_url.endswith("/pay/notify/wechat/sandbox/")


def test_the_sandbox_backend_refuses_to_work_when_the_sandbox_is_off(sandbox_keys, settings):
    settings.FANWEN_SANDBOX = False

    with pytest.raises(ImproperlyConfigured, match="FANWEN_SANDBOX"):
        _ = backends["sandbox"].client
