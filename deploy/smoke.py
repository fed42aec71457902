"""A sandbox purchase through the site as a reader's browser makes it, ending in an unlocked page.

    python deploy/smoke.py http://127.0.0.1 [--article ID] [--plan article_copy] [--channel native]

Against a site with the payment sandbox on (FANWEN_SANDBOX=1; a trial, never a live site):
  1. fetch an article page (the first one linked from the home page, or --article) and the
     paywall's text endpoint, which answers 402 and hands out the CSRF cookie, as the page does;
  2. create an order as the paywall's JavaScript does (POST /pay/orders/);
  3. pay it on the sandbox emulator's payer page (its code_url), as the payer's phone would;
  4. poll the order, as the paywall does, until the emulator's notification has settled it;
  5. fetch the article again with the same cookies: the page must be the clean variant with the
     real text, the text endpoint must answer 200, and its download link a Word document.
Prints each check; exits 1 at the first failure. The HTTP steps are the ones bench/load.py's
buyers make (create, pay, poll), here followed through to the unlocked page.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from dataclasses import dataclass

import requests

ARTICLE_LINK = re.compile(r'href="/a/(\d+)\.html"')
VARIANT = re.compile(r'<article[^>]*\bid="doc"[^>]*\bdata-variant="(\w+)"')
PLAN = re.compile(r'data-plan="([\w-]+)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CONFIRM_FORM = re.compile(r'<form method="post" action="([^"]+/confirm/)"')
DOCX_MAGIC = b"PK\x03\x04"
TIMEOUT = 30


class SmokeFailure(Exception):
    """A check that did not hold."""


@dataclass
class Order:
    out_trade_no: str
    code_url: str
    amount_fen: int


def check(condition: bool, what: str, detail: str = "") -> None:
    if not condition:
        raise SmokeFailure(f"{what}{': ' + detail if detail else ''}")
    print(f"  ok  {what}{' (' + detail + ')' if detail else ''}")


def csrf_headers(browser: requests.Session) -> dict[str, str]:
    return {"X-CSRFToken": browser.cookies.get("csrftoken", ""), "Accept": "application/json"}


def create_order(
    browser: requests.Session, origin: str, article_id: int, plan: str, channel: str
) -> Order:
    """POST /pay/orders/ with the browser's cookies, as the paywall's startOrder() does."""
    body: dict[str, object] = {"plan": plan, "channel": channel}
    if plan == "article_copy":
        body["article_id"] = article_id
    created = browser.post(
        f"{origin}/pay/orders/", json=body, headers=csrf_headers(browser), timeout=TIMEOUT
    )
    if created.status_code != 201:
        raise SmokeFailure(f"create order: {created.status_code} {created.text[:200]}")
    data = created.json()
    return Order(data["out_trade_no"], data["code_url"], int(data.get("amount_fen", 0)))


def pay_in_sandbox(origin: str, order: Order) -> None:
    """Open the order's code_url on the emulator's payer page and confirm, as a payer would."""
    payer = requests.Session()
    page = payer.get(order.code_url, timeout=TIMEOUT)
    token = CSRF_FIELD.search(page.text)
    action = CONFIRM_FORM.search(page.text)
    if page.status_code != 200 or not (token and action):
        raise SmokeFailure(f"payer page {order.code_url}: {page.status_code}, no payment form")
    confirm = payer.post(
        origin + action.group(1),
        data={"csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": order.code_url},
        timeout=TIMEOUT,
    )
    if confirm.status_code >= 400:
        raise SmokeFailure(f"confirm on the payer page: {confirm.status_code}")


def wait_paid(browser: requests.Session, origin: str, order: Order, seconds: float) -> float:
    """Poll the order as the paywall does; the seconds it took to read "paid"."""
    started = time.monotonic()
    status = ""
    while time.monotonic() - started < seconds:
        answer = browser.get(f"{origin}/pay/orders/{order.out_trade_no}/", timeout=TIMEOUT)
        status = answer.json().get("status", "") if answer.ok else f"HTTP {answer.status_code}"
        if status == "paid":
            return time.monotonic() - started
        time.sleep(0.25)
    raise SmokeFailure(
        f"order {order.out_trade_no} not paid within {seconds:.0f} s (last: {status})"
    )


def first_article(browser: requests.Session, origin: str) -> int:
    home = browser.get(origin + "/", timeout=TIMEOUT)
    found = ARTICLE_LINK.search(home.text)
    if home.status_code != 200 or not found:
        raise SmokeFailure(f"home page {origin}/: {home.status_code}, no article link")
    return int(found.group(1))


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def run(origin: str, article_id: int | None, plan: str, channel: str, wait: float) -> None:
    origin = origin.rstrip("/")
    browser = requests.Session()
    browser.headers["User-Agent"] = "fanwen-smoke/1 (deploy/smoke.py)"

    print(f"1. the article page, locked ({origin})")
    if article_id is None:
        article_id = first_article(browser, origin)
    url = f"{origin}/a/{article_id}.html"
    text_url = f"{origin}/a/{article_id}/text/"
    before = browser.get(url, timeout=TIMEOUT)
    check(before.status_code == 200, f"GET {url}", f"{before.status_code}")
    variant = VARIANT.search(before.text)
    check(variant is not None, "the page is an article page", f"variant {variant and variant[1]}")
    plans = list(dict.fromkeys(PLAN.findall(before.text)))
    check(plan in plans, f"the paywall offers {plan}", ", ".join(plans) or "no offers")
    locked = browser.post(text_url, json={}, headers=csrf_headers(browser), timeout=TIMEOUT)
    check(locked.status_code == 402, "the clean text is refused before paying", "402")
    check(bool(browser.cookies.get("csrftoken")), "the text endpoint handed out the CSRF cookie")
    refused = browser.get(f"{origin}/a/{article_id}/download", timeout=TIMEOUT)
    check(refused.status_code == 402, f"/a/{article_id}/download is refused before paying", "402")

    print("2. the order, as the paywall creates it")
    order = create_order(browser, origin, article_id, plan, channel)
    check(
        bool(order.code_url),
        f"order {order.out_trade_no} created",
        f"{order.amount_fen / 100:.2f} 元",
    )

    print("3. paying on the sandbox emulator's payer page")
    pay_in_sandbox(origin, order)
    check(True, "confirmed on the payer page", order.code_url)

    print("4. the notification settles the order")
    took = wait_paid(browser, origin, order, wait)
    check(True, f"order {order.out_trade_no} is paid", f"{took:.1f} s after paying")

    print("5. the article page again, with the same cookies")
    opened = browser.post(text_url, json={}, headers=csrf_headers(browser), timeout=TIMEOUT)
    check(opened.status_code == 200, "the clean text is given", f"{opened.status_code}")
    body = opened.json()
    paragraphs = [p for paras in body.get("paras", {}).values() for p in paras if p.strip()]
    check(bool(paragraphs), "it has the article's paragraphs", f"{len(paragraphs)}")
    after = browser.get(url, timeout=TIMEOUT)
    variant_after = VARIANT.search(after.text)
    # "open": a page without its protection font yet shows everyone the text (js level only).
    expected = {"clean"} if variant[1] == "protected" else {"clean", variant[1]}
    check(
        after.status_code == 200 and variant_after is not None and variant_after[1] in expected,
        f"GET {url} is the clean variant",
        f"{variant[1]} before, {variant_after[1] if variant_after else '?'} now",
    )
    sample = paragraphs[0].strip()[:30]
    if variant[1] == "protected":
        # The locked page drew its body paragraphs with a remapped font: other characters.
        check(sample not in visible_text(before.text), "the locked page did not show it")
    check(sample in visible_text(after.text), "the page shows the real text", sample)
    check(
        bool(body.get("text", "").strip()),
        "复制全文 has the whole text",
        f"{len(body['text'])} chars",
    )
    # 下载此文档 without JavaScript: a redirect to a fresh signed link instead of the paywall.
    link = browser.get(f"{origin}/a/{article_id}/download", timeout=TIMEOUT, allow_redirects=False)
    check(
        link.status_code in (301, 302, 303) and "/dl/" in link.headers.get("Location", ""),
        f"/a/{article_id}/download sends to a download link",
        f"{link.status_code}",
    )
    download = browser.get(origin + body["download_url"], timeout=TIMEOUT)
    check(
        download.status_code == 200 and download.content.startswith(DOCX_MAGIC),
        "the download link gives the Word document",
        f"{download.status_code}, {len(download.content):,} bytes, "
        f"{download.headers.get('Content-Type', '')}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("origin", help="the site as readers reach it, e.g. http://127.0.0.1")
    parser.add_argument(
        "--article", type=int, help="the article id (default: the home page's first)"
    )
    parser.add_argument("--plan", default="article_copy")
    parser.add_argument("--channel", default="native", help="native (WeChat QR) or alipay_qr …")
    parser.add_argument("--wait", type=float, default=60, help="seconds for the order to settle")
    args = parser.parse_args(argv)
    try:
        run(args.origin, args.article, args.plan, args.channel, args.wait)
    except (SmokeFailure, requests.RequestException, ValueError, KeyError) as exc:
        print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("smoke: the sandbox purchase unlocked the page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
