"""Relevance over the demo library: what a reader types, and the article they expect in the top 3."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from fanwen import search

# (query, expected title): title words, words and phrases from the text, two-character
# words, quoted phrases, traditional characters, and a few typed the way people do.
CASES = [
    ("入党申请书", "入党申请书"),
    ("入党", "入党申请书"),
    ("辞职申请", "辞职申请书"),
    ("助学金", "国家助学金申请书"),
    ("转正申请", "试用期转正申请书"),
    ("调岗", "调岗申请书"),
    ("文明城市 总结", "创建文明城市工作总结"),
    ('"文明城市"', "创建文明城市工作总结"),
    ("安全生产月", "安全生产月活动总结"),
    ("复工复产", "企业复工复产工作总结"),
    ("党建工作计划", "社区党建工作计划"),
    ("党支部 总结", "党支部党建工作总结"),
    ("班主任工作计划", "小学班主任工作计划"),
    ("读书节", "校园读书节活动方案"),
    ("办公室计划", "办公室工作计划"),
    ("2025年 安全工作计划", "2025年学校安全工作计划"),
    ("军训", "军训心得体会"),
    ("平凡的世界", "读书心得体会"),
    ("教师培训 心得", "教师培训心得体会"),
    ("实习 医院", "实习心得体会"),
    ("春运志愿服务", "志愿服务心得体会"),
    ("警示教育片", "安全教育心得体会"),
    ("竞聘演讲", "竞聘上岗演讲稿"),
    ("国旗下讲话", "国旗下讲话稿"),
    ("珍惜粮食", "国旗下讲话稿"),
    ("教师节发言", "教师节教师代表发言稿"),
    ("“安全是回家最近的路”", "安全生产演讲稿"),
    ("毕业典礼", "毕业典礼学生代表发言稿"),
    ("暑假作文", "快乐的暑假作文"),
    ("外婆家", "快乐的暑假作文"),
    ("妈妈", "我的妈妈作文"),
    ("春节", "过春节作文"),
    ("坚持 高中作文", "以坚持为话题的高中作文"),
    ("司马迁", "以坚持为话题的高中作文"),
    ("青春 责任", "青春与责任高中作文"),
    ("審計底稿", "大学生实习工作总结"),
    ("學校安全", "2025年学校安全工作计划"),
    ("志願服務活動總結", "社区志愿服务活动总结"),
    ("校本培训", "教师培训工作总结"),
    ("年度工作计划", "个人年度工作计划"),
]


@pytest.fixture
def demo_index(db) -> None:
    call_command("demo", "--no-serve", verbosity=0)
    search.apply_outbox(limit=10_000)


def test_the_relevance_set_is_large_and_varied() -> None:
    queries = [query for query, _ in CASES]
    assert len(CASES) >= 30
    assert any(query.startswith(('"', "“")) for query in queries)
    assert any(len(query) == 2 for query in queries)
    assert any(" " in query for query in queries)


def test_every_query_finds_its_article_in_the_top_3(demo_index) -> None:
    misses = []
    for query, expected in CASES:
        top = [hit.title for hit in search.search(query, per_page=3).hits]
        if expected not in top:
            misses.append(f"{query!r}: expected {expected!r}, got {top}")
    assert not misses, "\n".join(misses)
