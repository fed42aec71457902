"""Search crawlers: User-Agent claims, reverse + forward DNS proof, cached verdicts."""

from __future__ import annotations

import logging
import threading

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

from fanwen.library.models import Article
from fanwen.library.tests.factories import make_article, make_category
from fanwen.protection import crawlers, fonts

BAIDU_UA = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
GOOGLE_UA = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)"
)
BING_UA = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
SOGOU_UA = "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)"
SOGOU_INST_UA = "Sogou inst spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)"
SO360_UA = (
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.1 (KHTML, like Gecko) "
    "Chrome/21.0.1180.89 Safari/537.1; 360Spider"
)
PERSON_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)

BAIDU_IP = "220.181.108.75"
BAIDU_HOST = "baiduspider-220-181-108-75.crawl.baidu.com"


class FakeDNS:
    """Reverse and forward tables standing in for the resolver, counting the questions."""

    def __init__(self) -> None:
        self.ptr: dict[str, str] = {}
        self.addresses: dict[str, set[str]] = {}
        self.reverse_calls: list[str] = []
        self.forward_calls: list[str] = []

    def reverse(self, ip: str) -> str | None:
        self.reverse_calls.append(ip)
        return self.ptr.get(ip)

    def forward(self, host: str) -> set[str]:
        self.forward_calls.append(host)
        return self.addresses.get(host, set())


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def dns(monkeypatch, settings) -> FakeDNS:
    settings.FANWEN_CRAWLER_VERIFY = True
    fake = FakeDNS()
    monkeypatch.setattr(crawlers, "reverse_dns", fake.reverse)
    monkeypatch.setattr(crawlers, "forward_dns", fake.forward)
    return fake


@pytest.mark.parametrize(
    ("user_agent", "engine"),
    [
        (BAIDU_UA, "baidu"),
        ("Baiduspider-image+(+http://www.baidu.com/search/spider.htm)", "baidu"),
        (GOOGLE_UA, "google"),
        ("Googlebot-Image/1.0", "google"),
        (BING_UA, "bing"),
        (SOGOU_UA, "sogou"),
        (SOGOU_INST_UA, "sogou"),
        (SO360_UA, "360"),
        (PERSON_UA, None),
        ("", None),
        ("Sogou Explorer", None),
        ("python-requests/2.32.3", None),
    ],
)
def test_the_user_agent_names_the_engine_it_claims(user_agent, engine):
    assert crawlers.claimed_crawler(user_agent) == engine


def test_a_crawler_is_verified_when_reverse_and_forward_dns_agree(dns, caplog):
    dns.ptr[BAIDU_IP] = BAIDU_HOST + "."
    dns.addresses[BAIDU_HOST + "."] = {BAIDU_IP, "220.181.108.76"}
    with caplog.at_level(logging.INFO, logger="fanwen.protection.crawlers"):
        assert crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)
    assert "verified" in caplog.text and BAIDU_IP in caplog.text


def proven(dns: FakeDNS, user_agent: str, ip: str, host: str) -> bool:
    """Whether `ip` passes as the crawler `user_agent` claims when its PTR is `host`."""
    dns.ptr[ip] = host
    dns.addresses[host] = {ip}
    return crawlers.is_verified_crawler(ip, user_agent)


# --- the domains each engine documents for its crawler ---


def test_googlebot_is_verified_under_googlebot_com_and_google_com(dns):
    assert proven(dns, GOOGLE_UA, "66.249.66.1", "crawl-66-249-66-1.googlebot.com")
    assert proven(dns, GOOGLE_UA, "66.249.66.2", "crawl-66-249-66-2.geo.googlebot.com")
    assert proven(dns, GOOGLE_UA, "66.249.90.77", "rate-limited-proxy-66-249-90-77.google.com")


def test_bingbot_is_verified_under_search_msn_com(dns):
    assert proven(dns, BING_UA, "157.55.39.84", "msnbot-157-55-39-84.search.msn.com")


def test_baiduspider_is_verified_under_baidu_com_and_baidu_jp(dns):
    assert proven(dns, BAIDU_UA, BAIDU_IP, BAIDU_HOST)
    assert proven(dns, BAIDU_UA, "2400:da00::1", "baiduspider-ipv6.crawl.baidu.jp")


def test_sogou_spider_is_verified_under_sogou_com(dns):
    assert proven(dns, SOGOU_UA, "123.126.113.160", "sogouspider-123-126-113-160.crawl.sogou.com")


def test_360spider_is_verified_under_360_cn_and_so_com(dns):
    assert proven(dns, SO360_UA, "180.153.232.1", "crawl-180-153-232-1.360.cn")
    assert proven(dns, SO360_UA, "180.153.232.2", "crawl-180-153-232-2.so.com")


def test_a_fully_qualified_or_upper_case_name_is_the_same_name(dns):
    assert proven(dns, GOOGLE_UA, "66.249.66.3", "Crawl-66-249-66-3.GOOGLEBOT.COM.")
    assert crawlers.host_belongs_to("crawl-66-249-66-1.googlebot.com.", "google")
    assert not crawlers.host_belongs_to("googlebot.com.evil.cn.", "google")


# --- names that prove nothing ---


def test_a_google_cloud_vm_claiming_googlebot_is_refused(dns):
    # googleusercontent.com is the default reverse DNS of any Google Cloud VM: anyone's.
    assert not proven(dns, GOOGLE_UA, "34.91.1.2", "2.1.91.34.bc.googleusercontent.com")


def test_an_amazon_vm_claiming_googlebot_is_refused(dns):
    host = "ec2-3-80-1-2.compute-1.amazonaws.com"
    assert not proven(dns, GOOGLE_UA, "3.80.1.2", host)
    assert not proven(dns, BING_UA, "3.80.1.3", "ec2-3-80-1-3.eu-west-1.compute.amazonaws.com")


def test_a_look_alike_that_only_starts_with_the_domain_is_refused(dns):
    assert not proven(dns, BAIDU_UA, "203.0.113.10", "crawl.baidu.com.evil.cn")
    assert not proven(dns, GOOGLE_UA, "203.0.113.11", "crawl.googlebot.com.evil.cn")


def test_a_name_glued_to_the_domain_without_a_dot_is_refused(dns):
    assert not proven(dns, GOOGLE_UA, "203.0.113.12", "crawl.evilgooglebot.com")
    assert not proven(dns, GOOGLE_UA, "203.0.113.13", "evilgoogle.com")
    assert not proven(dns, BING_UA, "203.0.113.14", "notsearch.msn.com")


def test_a_googlebot_name_whose_forward_dns_gives_another_ip_is_refused(dns):
    # Whoever owns an IP writes its PTR: only the forward lookup is Google's word.
    dns.ptr["203.0.113.15"] = "crawl-66-249-66-1.googlebot.com"
    dns.addresses["crawl-66-249-66-1.googlebot.com"] = {"66.249.66.1"}
    assert not crawlers.is_verified_crawler("203.0.113.15", GOOGLE_UA)
    assert dns.forward_calls == ["crawl-66-249-66-1.googlebot.com"]


def test_ipv6_addresses_are_compared_in_one_spelling(dns):
    dns.ptr["2400:da00::6"] = "baiduspider-v6.crawl.baidu.com"
    dns.addresses["baiduspider-v6.crawl.baidu.com"] = {"2400:da00:0000:0000::6"}
    assert crawlers.is_verified_crawler("2400:DA00::0006", BAIDU_UA)


def test_a_reverse_name_of_another_domain_is_refused(dns):
    dns.ptr[BAIDU_IP] = "scraper-1.example.com"
    dns.addresses["scraper-1.example.com"] = {BAIDU_IP}
    assert not crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)


def test_a_reverse_name_of_another_engine_is_refused(dns):
    # A genuine Bing address does not prove a Baiduspider claim.
    dns.ptr["157.55.39.84"] = "msnbot-157-55-39-84.search.msn.com"
    dns.addresses["msnbot-157-55-39-84.search.msn.com"] = {"157.55.39.84"}
    assert not crawlers.is_verified_crawler("157.55.39.84", BAIDU_UA)


def test_a_name_that_merely_ends_with_the_domain_is_refused(dns):
    dns.ptr["203.0.113.9"] = "crawl.evilbaidu.com"
    dns.addresses["crawl.evilbaidu.com"] = {"203.0.113.9"}
    assert not crawlers.is_verified_crawler("203.0.113.9", BAIDU_UA)


def test_a_reverse_name_whose_forward_dns_lacks_the_ip_is_refused(dns):
    # Whoever controls the PTR of their own IP can write any name into it.
    dns.ptr["203.0.113.7"] = BAIDU_HOST
    dns.addresses[BAIDU_HOST] = {BAIDU_IP}
    assert not crawlers.is_verified_crawler("203.0.113.7", BAIDU_UA)
    assert dns.forward_calls == [BAIDU_HOST]


def test_an_ip_without_reverse_dns_is_refused(dns):
    assert not crawlers.is_verified_crawler("203.0.113.8", BAIDU_UA)
    assert dns.forward_calls == []


def test_a_slow_resolver_counts_as_not_verified_and_is_remembered_briefly(dns, monkeypatch):
    release = threading.Event()

    def hanging_reverse(ip: str) -> str:
        dns.reverse_calls.append(ip)
        release.wait(5)
        return BAIDU_HOST

    dns.addresses[BAIDU_HOST] = {BAIDU_IP}
    monkeypatch.setattr(crawlers, "reverse_dns", hanging_reverse)
    monkeypatch.setattr(crawlers, "DNS_TIMEOUT_SECONDS", 0.05)
    try:
        assert not crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)
        # The next request within the short negative window asks no resolver.
        assert not crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)
        assert dns.reverse_calls == [BAIDU_IP]
        pending = crawlers._inflight[(BAIDU_IP, "baidu")]
    finally:
        release.set()
    # The lookup still ends, and a late answer replaces the timeout's refusal.
    assert pending.result(timeout=5) is True
    assert crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)


def test_the_verdict_is_cached_per_ip_and_engine(dns):
    dns.ptr[BAIDU_IP] = BAIDU_HOST
    dns.addresses[BAIDU_HOST] = {BAIDU_IP}
    assert crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)
    assert crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)
    assert dns.reverse_calls == [BAIDU_IP] and dns.forward_calls == [BAIDU_HOST]
    # The same IP claiming another engine is a separate question, with its own answer.
    assert not crawlers.is_verified_crawler(BAIDU_IP, GOOGLE_UA)
    assert dns.reverse_calls == [BAIDU_IP, BAIDU_IP]


def test_refusals_are_cached_too(dns):
    dns.ptr["203.0.113.7"] = "scraper.example.com"
    assert not crawlers.is_verified_crawler("203.0.113.7", BAIDU_UA)
    assert not crawlers.is_verified_crawler("203.0.113.7", BAIDU_UA)
    assert dns.reverse_calls == ["203.0.113.7"]


def test_people_never_cause_a_dns_lookup(dns):
    assert not crawlers.is_verified_crawler(BAIDU_IP, PERSON_UA)
    assert not crawlers.is_verified_crawler("not an ip", BAIDU_UA)
    assert dns.reverse_calls == []


def test_verification_can_be_turned_off(dns, settings):
    settings.FANWEN_CRAWLER_VERIFY = False
    dns.ptr[BAIDU_IP] = BAIDU_HOST
    dns.addresses[BAIDU_HOST] = {BAIDU_IP}
    assert not crawlers.is_verified_crawler(BAIDU_IP, BAIDU_UA)
    assert dns.reverse_calls == []


def test_a_request_is_checked_by_its_remote_address_and_user_agent_once(dns):
    dns.ptr[BAIDU_IP] = BAIDU_HOST
    dns.addresses[BAIDU_HOST] = {BAIDU_IP}
    request = RequestFactory().get("/", REMOTE_ADDR=BAIDU_IP, HTTP_USER_AGENT=BAIDU_UA)
    assert crawlers.request_is_verified_crawler(request)
    cache.clear()
    assert crawlers.request_is_verified_crawler(request)
    assert dns.reverse_calls == [BAIDU_IP]
    # X-Forwarded-For is anyone's to write: only REMOTE_ADDR counts.
    forged = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=BAIDU_IP, HTTP_USER_AGENT=BAIDU_UA
    )
    assert not crawlers.request_is_verified_crawler(forged)


def test_the_real_resolvers_answer_for_the_loopback_address():
    assert crawlers.forward_dns("localhost") & {"127.0.0.1", "::1"}
    assert crawlers.reverse_dns("256.1.1.1") is None


# --- over HTTP: what a false Googlebot gets ---

PAGE_LIMIT = 3


@pytest.fixture
def protected_article(db, settings, tmp_path):
    """A published article at the font level, its font built, pages limited per IP."""
    settings.FANWEN_PROTECTION = "font"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    settings.FANWEN_CRAWLER_VERIFY = True
    settings.FANWEN_PAGE_RATE_WINDOW = 3600
    settings.FANWEN_PAGE_RATE_LIMIT = 0
    settings.FANWEN_PAGE_IP_RATE_LIMIT = PAGE_LIMIT
    item = make_article(make_category("工作总结", "cr-zongjie"), title="社区志愿服务工作总结")
    fonts.build_font(item)
    yield item
    fonts.wait_for_builds()


def paragraphs(article: Article) -> list[str]:
    return [b["text"] for p in article.pieces.all() for b in p.blocks if b.get("kind") == "p"]


def test_a_google_cloud_vm_sending_googlebots_user_agent_gets_the_protected_page_and_the_limit(
    protected_article, dns
):
    ip, host = "34.91.1.2", "2.1.91.34.bc.googleusercontent.com"
    dns.ptr[ip] = host
    dns.addresses[host] = {ip}
    fake = Client(HTTP_USER_AGENT=GOOGLE_UA, REMOTE_ADDR=ip)
    url = protected_article.get_absolute_url()
    pages = [fake.get(url) for _ in range(PAGE_LIMIT)]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert 'data-variant="protected"' in html
        assert not any(text in html for text in paragraphs(protected_article))
    refused = fake.get(url)
    assert refused.status_code == 429
    assert not any(text in refused.content.decode() for text in paragraphs(protected_article))


def test_a_verified_googlebot_gets_the_clean_page_and_no_limit(protected_article, dns):
    ip, host = "66.249.66.1", "crawl-66-249-66-1.googlebot.com"
    dns.ptr[ip] = host
    dns.addresses[host] = {ip}
    googlebot = Client(HTTP_USER_AGENT=GOOGLE_UA, REMOTE_ADDR=ip)
    url = protected_article.get_absolute_url()
    for _ in range(PAGE_LIMIT * 3):
        page = googlebot.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-variant="clean"' in html
        assert all(text in html for text in paragraphs(protected_article))


def test_a_verdict_cached_under_the_old_rules_is_not_trusted(dns):
    # Before googleusercontent.com was dropped, this VM's claim was cached as verified.
    cache.set("fanwen:crawler:google:34.91.1.2", True, timeout=3600)
    assert not proven(dns, GOOGLE_UA, "34.91.1.2", "2.1.91.34.bc.googleusercontent.com")
