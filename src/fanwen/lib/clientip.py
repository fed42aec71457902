"""The client's IP address, read through the proxies named in FANWEN_TRUSTED_PROXIES.

Behind nginx every request comes from nginx: the reader's address is in the X-Forwarded-For
list nginx appends to (or X-Real-IP). Anyone can write those headers, so they are read only
when the TCP peer is a trusted proxy, and from the right: each trusted hop vouches for the
address left of it, and the first address no trusted proxy owns is the client. Whatever a
client wrote further left is never looked at.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The parsed FANWEN_TRUSTED_PROXIES (IPs or CIDRs; settings.py has refused bad ones)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def parse_ip(value: str) -> Address | None:
    """An address as proxies write it ("1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:80"), or None."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        # IPv4 with a port; a bare IPv6 address has at least two colons.
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: the same client either way.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip_from_meta(meta: Mapping[str, str]) -> str:
    """client_ip for a WSGI environ or request.META."""
    peer_text = meta.get("REMOTE_ADDR", "") or ""
    peer = parse_ip(peer_text)
    if peer is None:
        return peer_text or "unknown"
    networks = trusted_networks(tuple(settings.FANWEN_TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return str(peer)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        # The nearest hop we trust so far: it answers for a hop that wrote garbage.
        nearest = peer
        for hop in reversed(forwarded.split(",")):
            address = parse_ip(hop)
            if address is None:
                return str(nearest)
            if not _trusted(address, networks):
                return str(address)
            nearest = address
        # Every hop is one of ours (a request from the proxy host itself).
        return str(nearest)
    real_ip = parse_ip(meta.get("HTTP_X_REAL_IP", ""))
    return str(real_ip) if real_ip is not None else str(peer)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or what the trusted proxies in front of it say."""
    return client_ip_from_meta(request.META)
