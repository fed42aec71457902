"""The client's address through trusted proxies: headers only from a trusted peer, read from the right."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from fanwen.lib.clientip import client_ip, client_ip_from_meta, parse_ip
from fanwen.lib.ratelimit import ip_key

NGINX = "10.0.0.5"
CLIENT = "203.0.113.7"


def ip_of(remote_addr: str, forwarded_for: str | None = None, real_ip: str | None = None) -> str:
    headers = {}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    if real_ip is not None:
        headers["HTTP_X_REAL_IP"] = real_ip
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers))


@pytest.fixture
def behind_nginx(settings):
    settings.FANWEN_TRUSTED_PROXIES = [NGINX]
    return settings


def test_with_no_trusted_proxy_the_headers_are_never_read(settings):
    settings.FANWEN_TRUSTED_PROXIES = []
    assert ip_of(CLIENT, forwarded_for="192.0.2.1", real_ip="192.0.2.2") == CLIENT
    # Even a peer that happens to be a proxy.
    assert ip_of(NGINX, forwarded_for=CLIENT) == NGINX


def test_an_untrusted_peer_cannot_name_another_client(behind_nginx):
    assert ip_of("198.51.100.9", forwarded_for=CLIENT, real_ip=CLIENT) == "198.51.100.9"


def test_behind_the_proxy_the_address_it_appended_is_the_client(behind_nginx):
    assert ip_of(NGINX, forwarded_for=CLIENT) == CLIENT


def test_addresses_the_client_wrote_left_of_it_are_ignored(behind_nginx):
    # The client sent "X-Forwarded-For: 1.1.1.1, 8.8.8.8"; nginx appended what it saw.
    assert ip_of(NGINX, forwarded_for=f"1.1.1.1, 8.8.8.8, {CLIENT}") == CLIENT


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.FANWEN_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8:cafe::/48"]
    chain = f"192.0.2.1, {CLIENT}, 10.1.2.3, 2001:db8:cafe::1"
    assert ip_of("10.9.9.9", forwarded_for=chain) == CLIENT


def test_every_hop_trusted_gives_the_leftmost(behind_nginx):
    assert ip_of(NGINX, forwarded_for=f"{NGINX}, {NGINX}") == NGINX


def test_garbage_where_the_client_should_be_falls_back_to_the_proxy(behind_nginx):
    assert ip_of(NGINX, forwarded_for="unknown") == NGINX
    assert ip_of(NGINX, forwarded_for=f"{CLIENT}, <script>") == NGINX


def test_x_real_ip_when_there_is_no_x_forwarded_for(behind_nginx):
    assert ip_of(NGINX, real_ip=CLIENT) == CLIENT
    assert ip_of(NGINX, real_ip="nonsense") == NGINX
    # X-Forwarded-For wins when both are there: it is what the proxy appended to.
    assert ip_of(NGINX, forwarded_for=CLIENT, real_ip="192.0.2.99") == CLIENT


def test_ports_brackets_and_mapped_ipv4_are_one_address(behind_nginx):
    assert parse_ip("203.0.113.7:51234") == parse_ip("203.0.113.7")
    assert str(parse_ip("[2001:db8::1]:443")) == "2001:db8::1"
    assert str(parse_ip("::ffff:203.0.113.7")) == CLIENT
    assert client_ip_from_meta(
        {"REMOTE_ADDR": "::ffff:10.0.0.5", "HTTP_X_FORWARDED_FOR": CLIENT}
    ) == (CLIENT)


def test_an_ipv6_client_is_counted_by_its_64(behind_nginx):
    assert ip_key("2001:db8:1:2::1") == ip_key("2001:db8:1:2:ffff::9") == "ip:2001:db8:1:2::/64"
    assert ip_key("2001:db8:1:3::1") != ip_key("2001:db8:1:2::1")
    assert ip_key(CLIENT) == "ip:" + CLIENT


def test_a_bad_trusted_proxy_stops_start_up(monkeypatch):
    import importlib

    from fanwen import settings as site_settings

    monkeypatch.setenv("FANWEN_TRUSTED_PROXIES", "10.0.0.5,nginx.local")
    try:
        with pytest.raises(ImproperlyConfigured, match="nginx.local"):
            importlib.reload(site_settings)
    finally:
        monkeypatch.delenv("FANWEN_TRUSTED_PROXIES")
        importlib.reload(site_settings)
