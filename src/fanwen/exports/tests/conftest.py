import pytest

from fanwen.library.models import Article, Category, Piece
from fanwen.library.tests.factories import make_article, make_category


@pytest.fixture
def summaries(db) -> Category:
    return make_category("工作总结", "zongjie", position=1)


@pytest.fixture
def three_pieces(summaries) -> Article:
    """社区志愿服务工作总结 with 篇一…篇三, headings at three levels and a 20__年 in each piece."""
    return make_article(summaries, title="社区志愿服务工作总结", pieces=3)


@pytest.fixture
def with_blanks(summaries) -> Article:
    """One piece full of fill-in blanks, as imported work plans have them."""
    article = Article.objects.create(
        category=summaries,
        title="xx公司20__年工作计划",
        status=Article.Status.PUBLISHED,
        piece_count=1,
    )
    Piece.objects.create(
        article=article,
        position=1,
        blocks=[
            {"kind": "p", "text": "20__年，xx公司将围绕年度目标，扎实推进各项工作。"},
            {"kind": "h1", "text": "一、主要目标"},
            {
                "kind": "p",
                "text": "全年营业收入达到xx万元，新增客户不少于xx家，xx公司品牌影响力进一步提升。",
            },
            {"kind": "p", "text": "某某同志负责牵头，20__年底前完成考核。"},
            {"kind": "p", "text": "联系人：____"},
            {"kind": "p", "text": "xx公司办公室"},
            {"kind": "p", "text": "20__年xx月xx日"},
        ],
    )
    return article
