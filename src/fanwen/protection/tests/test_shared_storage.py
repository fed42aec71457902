"""Several nodes, one bucket: a font built on one node is served by every other as built, two
nodes building one font at once leave a font and a map that match, and buyers download the
DOCX wherever they land. S3 is moto's server on a local port."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from docx import Document
from fontTools.ttLib import TTFont

from fanwen.exports.docx import docx_text
from fanwen.exports.text import article_text
from fanwen.lib.tests.s3 import *  # noqa: F403  (the s3 and node fixtures)
from fanwen.library.tests.factories import make_article, make_category
from fanwen.orders.tests.fixtures import plans  # noqa: F401  (fixture)
from fanwen.protection import fonts
from fanwen.protection.mark import strip_marks
from fanwen.protection.tests.test_paywall import buy, reader

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(autouse=True)
def font_level(settings):
    settings.FANWEN_PROTECTION = "font"
    yield
    fonts.wait_for_builds()


@pytest.fixture
def category(db):
    return make_category("工作总结", "shared-zongjie")


def served(client: Client, url: str):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def no_build(*args, **kwargs):
    raise AssertionError("this node must not build a font another node built")


def test_a_font_built_on_one_node_is_served_by_another_as_built(category, node, s3, monkeypatch):
    article = make_article(category, pieces=2)
    node("a")
    page_a = Client().get(article.get_absolute_url()).content.decode()
    fonts.wait_for_builds()  # the clean font follows the protected one
    font = fonts.font_for(article, schedule=False)
    assert font is not None and font.url in page_a
    stored = s3.keys("fonts/")
    obf_key = "fonts/" + fonts.font_file(font.url.rsplit("/", 1)[1].removesuffix(".woff2"))
    assert obf_key in stored
    assert any(k.startswith("fonts/clean/") for k in stored)
    assert any(k.startswith("fonts/maps/") for k in stored)
    _, obf_on_a = served(Client(), font.url)
    _, clean_on_a = served(Client(), font.clean_url)

    var_b = node("b")
    monkeypatch.setattr(fonts, "_build", no_build)
    page_b = Client().get(article.get_absolute_url()).content.decode()
    # The same map: the same remapped text, pointing at the same font.
    assert fonts.font_for(article, schedule=False) == font
    assert font.url in page_b
    assert font.obfuscate(article.body_paragraphs()[0]) in page_b
    response, obf_on_b = served(Client(), font.url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert obf_on_b == obf_on_a == s3.read(obf_key)
    assert served(Client(), font.clean_url)[1] == clean_on_a
    # Node b kept copies (later views cost no request to the bucket) and no font folder.
    assert (var_b / "font-copies" / obf_key.removeprefix("fonts/")).read_bytes() == obf_on_a
    assert not (var_b / "fonts").exists()
    assert Client().get(font.url.replace(font.url[-10:], "0000.woff2")).status_code == 404


@pytest.mark.usefixtures("plans")
def test_a_buyer_on_another_node_gets_the_clean_page_and_the_docx(category, node, s3):
    article = make_article(category, title="社区志愿服务工作总结", pieces=3)
    node("a")
    font = fonts.build_font(article)
    browser, visitor = reader()
    buy(visitor, article)

    var_b = node("b")
    html = browser.get(article.get_absolute_url()).content.decode()
    assert 'data-variant="clean"' in html and font.clean_url in html
    assert served(browser, font.clean_url)[0].status_code == 200
    response = browser.get(f"/a/{article.pk}/download")
    assert response.status_code == 302
    docx = browser.get(response["Location"])
    assert docx.status_code == 200 and "attachment" in docx["Content-Disposition"]
    Document(io.BytesIO(docx.content))
    assert strip_marks(docx_text(docx.content)) == article_text(article)
    assert not (var_b / "fonts").exists() and not (var_b / "media").exists()


def test_a_second_build_of_a_key_never_changes_the_font_pages_already_point_at(
    category, settings, tmp_path, monkeypatch
):
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    article = make_article(category, pieces=2)
    first = fonts.build_font(article)
    before = fonts.font_path(first.url.rsplit("/", 1)[1].removesuffix(".woff2")).read_bytes()
    # Another code version draws the same key otherwise (a deploy rolling over the nodes).
    monkeypatch.setattr(fonts._Key, "seed", property(lambda key: b"another drawing" * 2))
    second = fonts.build_font(article)
    assert second.url != first.url and second.mapping != first.mapping
    name = first.url.rsplit("/", 1)[1].removesuffix(".woff2")
    assert fonts.font_path(name).read_bytes() == before, "pages cached with the first map"
    fonts.forget_cache()
    assert fonts.font_for(article, schedule=False) == second


# --- two nodes racing, each a process of its own -----------------------------------------------

RACER = """
import os, sys, time, json
import django
django.setup()
from pathlib import Path
from fanwen.protection import fonts
if os.environ.get("OTHER_DRAWING"):
    fonts._Key.seed = property(lambda key: b"another drawing" * 2)
fonts.base_font()
key = fonts._Key(7, 3, 2900, "d" * 16)
chars = set(os.environ["CHARS"])
go = Path(os.environ["GO"])
while not go.exists():
    time.sleep(0.005)
font = fonts._build(key, chars)
print(json.dumps({"url": font.url, "family": font.family, "mapping": font.mapping}))
"""

CHARS = "为了进一步加强社区志愿服务工作，我们组织开展了形式多样的活动，取得良好效果。"


def race(s3, tmp_path, *, other_drawing: bool) -> list[dict]:
    go = tmp_path / "go"
    racers = []
    for name in ("a", "b"):
        env = {
            **os.environ,
            **s3.env(),
            "DJANGO_SETTINGS_MODULE": "fanwen.settings",
            "FANWEN_VAR_DIR": str(tmp_path / f"node-{name}"),
            "SECRET_KEY": django_settings.SECRET_KEY,
            "FANWEN_SANDBOX": "0",
            "CHARS": CHARS,
            "GO": str(go),
        }
        env.pop("DATABASE_URL", None)
        if other_drawing and name == "b":
            env["OTHER_DRAWING"] = "1"
        racers.append(
            subprocess.Popen(
                [sys.executable, "-c", RACER],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    time.sleep(3)  # both import Django and load the base font, then start together
    go.touch()
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def check_pair(s3, url: str, family: str, mapping: dict[str, str]) -> None:
    """The font at `url` is the one `family` and `mapping` were drawn with."""
    font = TTFont(io.BytesIO(s3.read("fonts/" + fonts.font_file(url.rsplit("/", 1)[1][:-6]))))
    assert font["name"].getDebugName(1) == family
    cmap = font.getBestCmap()
    assert all(ord(code) in cmap for codes in mapping.values() for code in codes)


@pytest.mark.parametrize("other_drawing", [False, True], ids=["same-code", "two-code-versions"])
def test_two_nodes_building_one_font_at_once_leave_a_matching_font_and_map(
    s3,
    tmp_path,
    settings,
    other_drawing,
):
    settings.STORAGES = s3.storages()
    results = race(s3, tmp_path, other_drawing=other_drawing)
    (map_key,) = s3.keys("fonts/maps/2900/")
    stored = json.loads(s3.read(map_key))
    check_pair(s3, f"/f/{stored['font']}.woff2", stored["family"], stored["mapping"])
    # What each node rendered pages with matches what its URL serves, whichever map stayed.
    for result in results:
        check_pair(s3, result["url"], result["family"], result["mapping"])
    assert len(s3.keys("fonts/obf/2900/")) == (2 if other_drawing else 1)
