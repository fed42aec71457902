"""Every /staff/ page, found by walking the URL configuration: 302 to log in for the anonymous,
403 for a logged-in reader, 200 or a form for staff — GET and POST alike."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000001"}


def staff_urls() -> list[str]:
    """Concrete URLs of every route under /staff/, converters filled with sample values."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("staff/"):
                found.append(
                    "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
                )

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def test_the_walk_finds_the_desk_pages():
    urls = staff_urls()
    assert "/staff/" in urls and "/staff/mark/" in urls


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_readers_are_sent_to_log_in(client, method):
    for url in staff_urls():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next="), url


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_logged_in_readers_are_refused(client, method):
    reader = get_user_model().objects.create_user("reader", password="pw-123456-long")
    client.force_login(reader)
    for url in staff_urls():
        assert getattr(client, method)(url).status_code == 403, url


@pytest.mark.django_db
def test_staff_get_in(client):
    editor = get_user_model().objects.create_user(
        "editor", password="pw-123456-long", is_staff=True
    )
    client.force_login(editor)
    response = client.get("/staff/")
    assert response.status_code == 200
    assert "工作台" in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
