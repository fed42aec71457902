"""Chrome learnt from a batch: lines at the edges of many files go, the genre's own lines stay."""

from fanwen.library.importer import ParsedArticle, ParsedPiece
from fanwen.library.importer.boilerplate import repeated_lines, strip_repeated


def article(n: int, *, head: str = "", tail: str = "") -> ParsedArticle:
    blocks = [{"kind": "p", "text": head}] if head else []
    blocks += [{"kind": "p", "text": f"第{n}篇的正文，写的是第{n}件事情，内容各不相同。"}]
    blocks += [{"kind": "p", "text": "此致"}, {"kind": "p", "text": "敬礼！"}]
    blocks += [{"kind": "p", "text": tail}] if tail else []
    return ParsedArticle(title=f"标题{n}", pieces=[ParsedPiece("", blocks)], source_format="html")


def test_a_line_on_most_files_of_a_batch_is_chrome_and_goes():
    batch = [article(n, tail="更多精彩内容请关注本站公众号") for n in range(5)]
    batch.append(article(9))
    assert repeated_lines(batch) == {"更多精彩内容请关注本站公众号"}
    strip_repeated(batch)
    for item in batch:
        texts = [block["text"] for block in item.pieces[0].blocks]
        assert "更多精彩内容请关注本站公众号" not in texts
        assert texts[-2:] == ["此致", "敬礼！"]  # a letter's closing recurs by genre: kept


def test_two_files_teach_nothing():
    batch = [article(n, head="来源：网络整理") for n in range(2)]
    assert repeated_lines(batch) == set()
    assert strip_repeated(batch)[0].pieces[0].blocks[0]["text"] == "来源：网络整理"


def test_a_line_on_a_few_files_of_a_large_batch_stays():
    batch = [article(n, head="本单位基本情况如下：") if n < 3 else article(n) for n in range(20)]
    assert repeated_lines(batch) == set()


def site_page(n: int, site: str, *, head: str = "", tail: str = "") -> ParsedArticle:
    page = article(n, head=head, tail=tail)
    page.site = site
    return page


def test_a_line_on_the_pages_of_one_site_goes_even_when_the_batch_is_large():
    batch = [site_page(n, "meiwen8.com", tail="美文手机站，陪你写好每一篇") for n in range(2)]
    batch += [site_page(n, f"other{n}.cn") for n in range(2, 12)]
    assert repeated_lines(batch) == set()  # 2 of 12 files: not the batch's chrome
    strip_repeated(batch)
    for item in batch[:2]:
        texts = [block["text"] for block in item.pieces[0].blocks]
        assert "美文手机站，陪你写好每一篇" not in texts
        assert texts[-2:] == ["此致", "敬礼！"]


def test_a_sentence_two_pages_of_one_site_share_stays():
    shared = "请党组织在实践中考验我。"
    batch = [site_page(n, "a.cn", head="敬爱的党组织：", tail=shared) for n in range(2)]
    strip_repeated(batch)
    for item in batch:
        texts = [block["text"] for block in item.pieces[0].blocks]
        assert texts[0] == "敬爱的党组织：" and texts[-1] == shared


def test_a_site_s_line_stays_on_other_sites_pages():
    batch = [site_page(n, "a.cn", tail="某某网祝您写作愉快") for n in range(2)]
    # A .txt with no site: only the batch-wide rule applies to it (3 files of 11 is too few).
    batch.append(site_page(5, "", tail="某某网祝您写作愉快"))
    batch += [site_page(n, "b.cn") for n in range(6, 14)]
    assert repeated_lines(batch) == set()
    strip_repeated(batch)
    assert batch[2].pieces[0].blocks[-1]["text"] == "某某网祝您写作愉快"
    assert all(b.pieces[0].blocks[-1]["text"] == "敬礼！" for b in batch[:2])


def test_a_batch_of_applications_keeps_its_salutation_and_its_shared_sentences():
    shared = "请党组织在实践中考验我。"
    batch = [article(n, head="敬爱的党组织：", tail=shared if n < 5 else "") for n in range(10)]
    assert repeated_lines(batch) == set()
    strip_repeated(batch)
    assert all(item.pieces[0].blocks[0]["text"] == "敬爱的党组织：" for item in batch)
    assert all(item.pieces[0].blocks[-1]["text"] == shared for item in batch[:5])
