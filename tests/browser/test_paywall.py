"""A new visitor tries to copy, pays in the sandbox and gets the clean text and the DOCX — in Chromium."""

from __future__ import annotations

import io
import time
import unicodedata
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image, ImageChops

from fanwen.exports.docx import docx_mark, docx_text, docx_visible_text
from fanwen.exports.text import article_text
from fanwen.library.models import Article, Piece
from fanwen.library.tests.factories import empty_cache, make_article, make_category  # noqa: F401
from fanwen.orders.models import Order
from fanwen.orders.tests.fixtures import plans  # noqa: F401  (fixture)
from fanwen.payments.tests.fixtures import (  # noqa: F401  (fixtures)
    alipay_sandbox,
    live_backend,
    sandbox_keys,
)
from fanwen.protection import fonts
from fanwen.protection.mark import find_marks, strip_marks
from fanwen.sandbox.notify import wait_for_deliveries
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

# The page must unlock within this long of the notification reaching the site.
UNLOCK_SECONDS = 2.0

# Not serialized_rollback: the live server test before this one flushed the tables, and
# restoring a snapshot over the content types post_migrate re-created would collide.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(settings, tmp_path, live_backend, plans):  # noqa: F811
    settings.FANWEN_PROTECTION = "font"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    settings.FANWEN_SANDBOX_AUTO_NOTIFY = True
    settings.FANWEN_SANDBOX_NOTIFY_DELAYS = [0, 0.5, 1]
    category = make_category("工作总结", "e2e-zongjie")
    items = [
        make_article(category, title="社区志愿服务工作总结", pieces=3),
        make_article(category, title="街道文明创建工作总结", pieces=2),
        make_article(category, title="窗口单位服务工作计划", pieces=1),
    ]
    for item in items:
        fonts.build_font(item)
    yield items
    assert wait_for_deliveries(timeout=30)
    fonts.wait_for_builds()


def body_texts(article: Article) -> list[str]:
    return [
        b["text"]
        for p in Piece.objects.filter(article=article).order_by("position")
        for b in p.blocks
        if b.get("kind") == "p"
    ]


def differing_share(a: bytes, b: bytes) -> float:
    left, right = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    if left.size != right.size:
        return 1.0
    diff = ImageChops.difference(left, right).convert("L").point(lambda v: 255 if v > 40 else 0)
    return diff.histogram()[255] / (left.size[0] * left.size[1])


def pay_on_sandbox_page(context, page) -> float:
    """Open the sandbox payer page the QR code points to, confirm, return the time of the click."""
    link = page.locator("#pw-sandbox-link")
    link.wait_for(state="visible")
    payer = context.new_page()
    payer.goto(link.get_attribute("href"))
    assert "沙箱" in payer.content()
    clicked = time.monotonic()
    payer.get_by_role("button", name="确认支付").click()
    payer.wait_for_load_state()
    payer.close()
    return clicked


def try_to_copy(page) -> None:
    page.locator("p.bt").first.click(click_count=3)
    page.keyboard.press("Control+C")


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# What the contexts of the running test saw; each test ends with none (see no_csp_violations).
CSP_VIOLATIONS: list[str] = []


@pytest.fixture(autouse=True)
def no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == [], "the Content-Security-Policy blocked part of a page"


def new_context(chromium, live_server, **options):
    context = chromium.new_context(locale="zh-CN", accept_downloads=True, **options)
    watch_csp(context, CSP_VIOLATIONS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    return context


def iphone_context(chromium, live_server):
    """A phone browser (Safari on an iPhone): payments leave for the provider's mobile page."""
    return new_context(
        chromium,
        live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
        ),
    )


def test_buy_one_article_copy_and_download(chromium, live_server, shop, tmp_path):
    from playwright.sync_api import expect

    article = shop[0]
    context = new_context(chromium, live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + article.get_absolute_url())
    expect(page.locator("#doc")).to_have_attribute("data-variant", "protected")
    html = page.content()
    assert not any(text in html for text in body_texts(article))
    paragraphs = page.locator("p.bt")
    page.evaluate("document.fonts.ready")
    before = [paragraphs.nth(i).screenshot() for i in range(3)]

    # The title is free: it copies as it is, and no dialog opens.
    page.locator("h1.doc-title").click(click_count=3)
    page.keyboard.press("Control+C")
    assert page.evaluate("navigator.clipboard.readText()").strip() == article.display_title
    expect(page.locator("#pw-modal")).to_be_hidden()

    # The body without the right: the dialog opens and the clipboard keeps what it had.
    page.evaluate("navigator.clipboard.writeText('之前复制的内容')")
    try_to_copy(page)
    modal = page.locator("#pw-modal")
    expect(modal).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "之前复制的内容"
    # A selection that starts in the free title and runs into the body is the body's: held too.
    page.locator("#pw-close").click()
    page.evaluate(
        """() => {
          const range = document.createRange();
          range.setStart(document.querySelector("h1.doc-title").firstChild, 0);
          range.setEnd(document.querySelector("p.bt").firstChild, 4);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
        }"""
    )
    page.keyboard.press("Control+C")
    expect(modal).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "之前复制的内容"
    expect(modal.locator(".pw-offer")).to_have_count(2)
    expect(modal).to_contain_text("a.付费复制")
    expect(modal).to_contain_text("5.99")
    expect(modal).to_contain_text("b.包月复制")
    expect(modal).to_contain_text("9.99")
    expect(modal).to_contain_text("原价10元")
    expect(modal.locator('.pw-offer[data-plan="pass_30d"]')).to_contain_text("原价30元")
    page.screenshot(path=str(ARTIFACTS / "paywall-modal-pc.png"))

    modal.locator('.pw-offer[data-plan="article_copy"]').click()
    expect(page.locator("#pw-qr img")).to_be_visible()
    # The dialog says who is paid, for what, and how much.
    expect(page.locator("#pw-provider")).to_have_text("微信支付")
    assert page.locator("#pw-provider").evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(7, 193, 96)"
    )
    expect(page.locator("#pw-for")).to_have_text(f"《{article.display_title}》")
    expect(page.locator("#pw-amount")).to_have_text("5.99")
    page.screenshot(path=str(ARTIFACTS / "paywall-qr-pc.png"))
    clicked = pay_on_sandbox_page(context, page)

    # No click on this page: the poll sees the payment and swaps in the clean text.
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    unlocked_after = time.monotonic() - clicked
    order = Order.objects.get(article=article, status=Order.Status.PAID)
    assert unlocked_after <= UNLOCK_SECONDS + 3, f"unlocked {unlocked_after:.1f}s after paying"
    expect(page.locator("#pw-open")).to_be_visible()
    # Functions, not expressions: Playwright would eval() an expression, which the CSP forbids.
    page.wait_for_function(
        "() => !document.querySelector('#pw-modal') || document.querySelector('#pw-modal').hidden"
    )
    page.evaluate("document.fonts.ready")
    page.evaluate("getSelection().removeAllRanges()")
    after = [paragraphs.nth(i).screenshot() for i in range(3)]
    shares = [differing_share(a, b) for a, b in zip(before, after, strict=True)]
    assert max(shares) <= 0.002, f"clean and remapped paragraphs differ in {shares} of pixels"
    page.screenshot(path=str(ARTIFACTS / "paywall-unlocked-pc.png"), full_page=True)

    page.locator("#pw-copy-all").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert strip_marks(copied) == article_text(article)
    assert find_marks(copied)[0][0] == order.pk
    # Sparse: a mark of 32 characters at most every 180 visible ones, none in the title.
    assert len(copied) - len(strip_marks(copied)) <= 32 * (len(strip_marks(copied)) // 150 + 1)
    assert copied.split("\n")[0] == article_text(article).split("\n")[0]

    # A leak: pasted into a plain text file, normalised, brought to the staff page.
    leaked = tmp_path / "leak.txt"
    leaked.write_text(copied, encoding="utf-8")
    excerpt = unicodedata.normalize("NFKC", leaked.read_text(encoding="utf-8"))[200:600]
    staff = Client()
    staff.force_login(
        get_user_model().objects.create_user("kefu", password="x" * 12, is_staff=True)
    )
    answer = staff.post("/staff/mark/", {"text": excerpt}).content.decode()
    assert order.out_trade_no in answer

    try_to_copy(page)
    selected = page.evaluate("navigator.clipboard.readText()")
    assert strip_marks(selected).strip() == body_texts(article)[0]
    assert find_marks(selected)[0][0] == order.pk

    with page.expect_download() as download:
        page.locator("#pw-download").click()
    target = tmp_path / "article.docx"
    download.value.save_as(target)
    assert strip_marks(docx_text(target.read_bytes())) == article_text(article)
    # The DOCX shows no mark character; the order is in the places that never render.
    assert docx_visible_text(target.read_bytes()) == article_text(article)
    assert docx_mark(target.read_bytes()) == [order.pk]
    context.close()


def test_a_pass_unlocks_two_articles_on_a_phone(chromium, live_server, shop):
    from playwright.sync_api import expect

    first, second = shop[1], shop[2]
    context = new_context(
        chromium,
        live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        # A desktop UA keeps the QR flow (a phone browser would be sent to the H5 page).
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
    )
    page = context.new_page()
    page.goto(live_server.url + first.get_absolute_url())
    page.locator("#pw-download").click()
    modal = page.locator("#pw-modal")
    expect(modal).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "paywall-modal-phone.png"))
    modal.locator('.pw-offer[data-plan="pass_30d"]').click()
    pay_on_sandbox_page(context, page)
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    expect(page.locator("#pw-status")).to_contain_text("包月")
    page.locator("#pw-copy-all").click()
    order = Order.objects.get(status=Order.Status.PAID, plan__code="pass_30d")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert strip_marks(copied) == article_text(first)
    assert find_marks(copied)[0][0] == order.pk

    # The next article comes clean from the server: no payment, no wait.
    page.goto(live_server.url + second.get_absolute_url())
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean")
    expect(page.locator("#pw-open")).to_be_visible()
    page.locator("#pw-copy-all").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert strip_marks(copied) == article_text(second)
    page.screenshot(path=str(ARTIFACTS / "paywall-unlocked-phone.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    context.close()


def test_a_phone_browser_pays_on_the_h5_page_and_comes_back_unlocked(chromium, live_server, shop):
    from playwright.sync_api import expect

    article = shop[2]
    context = iphone_context(chromium, live_server)
    page = context.new_page()
    page.goto(live_server.url + article.get_absolute_url())
    page.locator("#pw-download").click()
    page.locator('#pw-modal .pw-offer[data-plan="article_copy"]').click()
    # A phone browser leaves for the provider's H5 page (here the sandbox's) …
    page.wait_for_url("**/sandbox/pay/**")
    assert "沙箱" in page.content()
    page.get_by_role("button", name="确认支付").click()
    page.get_by_role("link", name="返回商户页面").click()
    # … and the article, back again, waits for that order and unlocks itself.
    page.wait_for_url(f"**{article.get_absolute_url()}")
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    expect(page.locator("#pw-open")).to_be_visible()
    # A clear 已解锁 at the top of the article, in view without scrolling.
    banner = page.locator("#pw-banner")
    expect(banner).to_contain_text("已解锁")
    expect(banner).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "paywall-h5-back-phone.png"))
    context.close()


@pytest.fixture
def alipay_shop(shop, alipay_sandbox):  # noqa: F811
    """The shop with the Alipay sandbox too, reached (and notifying) at the live server."""
    return shop


def test_a_pc_reader_pays_by_alipay_qr_code(chromium, live_server, alipay_shop):
    from playwright.sync_api import expect

    article = alipay_shop[0]
    context = new_context(chromium, live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + article.get_absolute_url())
    try_to_copy(page)
    modal = page.locator("#pw-modal")
    expect(modal).to_be_visible()
    modal.get_by_label("支付宝").check()
    modal.locator('.pw-offer[data-plan="article_copy"]').click()
    expect(page.locator("#pw-qr img")).to_be_visible()
    # The QR code is drawn, not a broken image.
    page.wait_for_function("() => document.querySelector('#pw-qr img').complete")
    assert page.evaluate("document.querySelector('#pw-qr img').naturalWidth") > 100
    expect(page.locator("#pw-provider")).to_have_text("支付宝")
    assert page.locator("#pw-provider").evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(22, 119, 255)"
    )
    expect(page.locator("#pw-for")).to_have_text(f"《{article.display_title}》")
    page.screenshot(path=str(ARTIFACTS / "paywall-alipay-qr-pc.png"))
    link = page.locator("#pw-sandbox-link")
    assert "/sandbox/alipay/pay/" in link.get_attribute("href")
    cashier = context.new_page()
    cashier.goto(link.get_attribute("href"))
    assert "支付宝（沙箱）" in cashier.content()
    cashier.screenshot(path=str(ARTIFACTS / "sandbox-alipay-cashier.png"))
    cashier.get_by_role("button", name="确认付款").click()
    expect(cashier.locator(".state.ok")).to_have_text("付款成功（沙箱）")
    cashier.close()
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    order = Order.objects.get(status=Order.Status.PAID)
    assert order.provider == Order.Provider.ALIPAY_SANDBOX
    assert order.channel == Order.Channel.ALIPAY_QR
    context.close()


def test_a_phone_browser_pays_at_the_alipay_cashier_and_comes_back(
    chromium, live_server, alipay_shop
):
    from playwright.sync_api import expect

    article = alipay_shop[1]
    context = iphone_context(chromium, live_server)
    page = context.new_page()
    page.goto(live_server.url + article.get_absolute_url())
    page.locator("#pw-download").click()
    page.locator("#pw-modal").get_by_label("支付宝").check()
    page.locator('#pw-modal .pw-offer[data-plan="article_copy"]').click()
    # The signed wap pay request goes through the gateway to the sandbox cashier …
    page.wait_for_url("**/sandbox/alipay/pay/**")
    page.screenshot(path=str(ARTIFACTS / "sandbox-alipay-cashier-phone.png"))
    page.get_by_role("button", name="确认付款").click()
    page.get_by_role("link", name="返回商家").click()
    # … and 返回商家 brings the buyer back to the article, which unlocks itself.
    page.wait_for_url(f"**{article.get_absolute_url()}?*")
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    assert Order.objects.get(status=Order.Status.PAID).channel == Order.Channel.ALIPAY_WAP
    context.close()
