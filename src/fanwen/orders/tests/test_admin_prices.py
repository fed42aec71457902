"""Staff type prices in 元 on the plan and price-override pages, and see them in 元; the
price a reader is charged is what was typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fanwen.orders.models import Plan, PriceOverride, price_for

pytestmark = pytest.mark.django_db


def plan_form(plan: Plan, price: str, list_price: str) -> dict:
    return {"name": plan.name, "price_fen": price, "list_price_fen": list_price, "days": ""}


def test_the_plan_page_shows_yuan_and_takes_yuan(admin_client, copy_plan, article):
    url = reverse("admin:orders_plan_change", args=[copy_plan.pk])
    page = admin_client.get(url).content.decode()
    assert 'value="5.99"' in page and 'value="10.00"' in page and "价格（元）" in page
    response = admin_client.post(url, plan_form(copy_plan, "4.99", "12"))
    assert response.status_code == 302
    copy_plan.refresh_from_db()
    assert (copy_plan.price_fen, copy_plan.list_price_fen) == (499, 1200)
    assert price_for(copy_plan, article).price_fen == 499
    listing = admin_client.get(reverse("admin:orders_plan_changelist")).content.decode()
    assert "4.99" in listing and "12.00" in listing


@pytest.mark.parametrize("typed", ["4.999", "-1", "abc", "0", "1e2", "4,99", ""])
def test_a_price_that_is_not_plain_yuan_is_refused_and_nothing_changes(
    admin_client, copy_plan, typed
):
    url = reverse("admin:orders_plan_change", args=[copy_plan.pk])
    response = admin_client.post(url, plan_form(copy_plan, typed, "10"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["price_fen"]
    copy_plan.refresh_from_db()
    assert copy_plan.price_fen == 599


def test_a_price_typed_with_the_yuan_sign_is_understood(admin_client, copy_plan):
    url = reverse("admin:orders_plan_change", args=[copy_plan.pk])
    admin_client.post(url, plan_form(copy_plan, "￥3.5元", "10"))
    copy_plan.refresh_from_db()
    assert copy_plan.price_fen == 350


def test_an_override_is_typed_in_yuan_and_charged_as_typed(admin_client, copy_plan, article):
    response = admin_client.post(
        reverse("admin:orders_priceoverride_add"),
        {
            "plan": copy_plan.pk,
            "article": article.pk,
            "category": "",
            "price_fen": "1.99",
            "list_price_fen": "",
            "starts_at_0": "",
            "starts_at_1": "",
            "ends_at_0": "",
            "ends_at_1": "",
            "note": "新品特价",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    override = PriceOverride.objects.get()
    assert (override.price_fen, override.list_price_fen) == (199, None)
    assert price_for(copy_plan, article).price_fen == 199
    listing = admin_client.get(reverse("admin:orders_priceoverride_changelist")).content.decode()
    assert "1.99" in listing
