"""`fanwen demo --no-serve`: the demo library loads through the importer, once, with a staff login."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fanwen.library.demo.loader import DEMO_DIR, demo_files
from fanwen.library.models import Article, Category, Piece

PASSWORD = re.compile(r"用户名 editor 密码 (\S+)")


def run_demo() -> str:
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_output(db) -> str:
    return run_demo()


def test_every_demo_file_is_in_a_listed_category_and_has_the_plain_shape() -> None:
    slugs = {spec["slug"] for spec in json.loads((DEMO_DIR / "categories.json").read_text())}
    files = demo_files()
    assert len(files) >= 32
    for slug, path in files:
        assert slug in slugs, path
        lines = path.read_text(encoding="utf-8").split("\n")
        title = lines[0]
        assert lines[1].startswith("小编:") and len(lines[1]) > 3, path
        assert f"{title}篇一" in lines and f"{title}篇二" in lines, path


def test_it_loads_the_demo_library_in_six_or_more_categories(demo_output: str) -> None:
    published = Article.objects.published()
    assert published.count() >= 30
    assert published.values("category").distinct().count() >= 6
    assert "示例范文 demo articles: " in demo_output
    # The category tree has depth: 高中作文 sits under 作文.
    child = Category.objects.get(slug="gaozhong-zuowen")
    assert child.parent == Category.objects.get(slug="zuowen")
    assert child.articles.exists()
    assert {a.editor_name for a in published} >= {"笔尘", "墨言", "清风"}
    assert all(a.intro and a.source_key.startswith("demo:") for a in published)


def test_every_article_has_one_to_five_pieces_of_levelled_blocks(demo_output: str) -> None:
    kinds: set[str] = set()
    for article in Article.objects.published().prefetch_related("pieces"):
        pieces = list(article.pieces.all())
        assert 1 <= len(pieces) <= 5, article.title
        for piece in pieces:
            assert piece.title.startswith(article.title)
            assert piece.blocks and all(b["kind"] in {"h1", "h2", "h3", "p"} for b in piece.blocks)
            # Every piece is a real text, not a stub: several hundred Chinese characters.
            assert len(re.findall(r"[\u4e00-\u9fff]", piece.text)) >= 300, piece.title
            kinds.update(b["kind"] for b in piece.blocks)
    assert {"h1", "h2", "h3", "p"} <= kinds


def test_the_near_duplicate_pair_is_flagged_and_not_counted(demo_output: str) -> None:
    copies = Piece.objects.filter(duplicate_of__isnull=False)
    assert copies.count() == 1
    copy = copies.get()
    assert copy.duplicate_of.article_id == copy.article_id
    article = copy.article
    assert article.piece_count == article.pieces.count() - 1
    assert article.display_title.endswith(f"(优秀{article.piece_count}篇)")
    # Every other article counts all of its pieces.
    others = Article.objects.exclude(pk=article.pk).prefetch_related("pieces")
    assert all(a.piece_count == len(a.pieces.all()) for a in others)


def test_placeholders_are_found_in_several_articles(demo_output: str) -> None:
    with_blanks = Piece.objects.exclude(placeholders=[])
    assert with_blanks.values("article").distinct().count() >= 10
    found = {ph["text"] for piece in with_blanks for ph in piece.placeholders}
    assert {"xx", "某某", "××"} <= found
    assert any(text.startswith("20__") for text in found)
    for piece in with_blanks:
        for ph in piece.placeholders:
            assert piece.text[ph["start"] : ph["end"]] == ph["text"]


def test_articles_are_dated_over_the_last_90_days_and_have_view_counts(demo_output: str) -> None:
    now = timezone.now()
    articles = list(Article.objects.published())
    dates = [a.published_at for a in articles]
    assert all(now - timedelta(days=91) < d < now for d in dates)
    assert max(dates) - min(dates) > timedelta(days=60)
    assert len({d.date() for d in dates}) >= 20
    views = [a.view_count for a in articles]
    assert min(views) > 0 and len(set(views)) >= 25


def test_running_it_again_updates_instead_of_duplicating(demo_output: str) -> None:
    before = {a.source_key: (a.pk, a.view_count) for a in Article.objects.all()}
    pieces_before = Piece.objects.count()
    read = Article.objects.order_by("pk").first()
    Article.objects.filter(pk=read.pk).update(view_count=read.view_count + 5000)

    second = run_demo()

    assert "新增 new 0" in second
    after = {a.source_key: (a.pk, a.view_count) for a in Article.objects.all()}
    assert {k: pk for k, (pk, _) in after.items()} == {k: pk for k, (pk, _) in before.items()}
    assert Piece.objects.count() == pieces_before
    assert Category.objects.count() == 7
    # Views readers added since the first load are kept, not reset to the demo's numbers.
    assert after[read.source_key][1] == read.view_count + 5000


def test_the_staff_user_logs_in_with_the_printed_password(demo_output: str) -> None:
    match = PASSWORD.search(demo_output)
    assert match, demo_output
    assert (
        "Admin http://127.0.0.1:8000/admin/ desk http://127.0.0.1:8000/staff/ "
        f"username editor password {match[1]}"
    ) in demo_output
    user = get_user_model().objects.get(username="editor")
    assert user.is_staff and user.is_superuser
    client = Client()
    assert client.login(username="editor", password=match[1])
    assert client.get("/admin/").status_code == 200

    # Each run prints a fresh password; the old one stops working.
    second = PASSWORD.search(run_demo())[1]
    assert second != match[1]
    assert not Client().login(username="editor", password=match[1])
    assert Client().login(username="editor", password=second)
    assert get_user_model().objects.filter(username="editor").count() == 1


def test_the_demo_pages_render(demo_output: str) -> None:
    client = Client()
    article = Article.objects.published().get(source_key="demo:zongjie/06.txt")
    page = client.get(article.get_absolute_url())
    assert page.status_code == 200
    assert article.title in page.content.decode()
    assert (
        client.get(Category.objects.get(slug="gaozhong-zuowen").get_absolute_url()).status_code
        == 200
    )
