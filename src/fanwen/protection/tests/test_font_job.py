"""The worker's font job: most read articles first, and never longer than its budget."""

from __future__ import annotations

import pytest

from fanwen.library.tests.factories import empty_cache, make_article, make_category  # noqa: F401
from fanwen.protection import fonts
from fanwen.protection.jobs import build_fonts_job


@pytest.fixture
def articles(db, settings, tmp_path):
    settings.FANWEN_PROTECTION = "font"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    category = make_category("工作总结", "job-zongjie")
    quiet = make_article(category, title="很少有人读的总结", pieces=1, view_count=3)
    popular = make_article(category, title="很多人读的总结", pieces=1, view_count=900)
    return quiet, popular


def test_the_most_read_article_gets_its_font_first(articles, monkeypatch):
    quiet, popular = articles
    order = []
    build = fonts._build

    def recording_build(key, chars, **kwargs):
        order.append(key.article_id)
        return build(key, chars, **kwargs)

    monkeypatch.setattr(fonts, "_build", recording_build)
    assert fonts.build_missing_fonts() == 2
    assert order == [popular.pk, quiet.pk]


def test_the_job_stops_at_its_budget_and_resumes_next_pass(articles, settings):
    quiet, popular = articles
    settings.FANWEN_FONT_JOB_SECONDS = 0
    assert build_fonts_job()["current"] == 0
    assert fonts.font_for(popular, schedule=False) is None
    settings.FANWEN_FONT_JOB_SECONDS = 60
    assert build_fonts_job()["current"] == 2
    assert build_fonts_job()["current"] == 0
