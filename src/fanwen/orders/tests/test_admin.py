import pytest
from django.urls import reverse

from fanwen.orders.models import Order, PaymentEvent
from fanwen.orders.tests.fixtures import settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_copy(pending_copy) -> Order:
    settle(pending_copy, txn_id="4200000000202401019999", payer_ref="oBuyerOpenId123")
    return Order.objects.get(pk=pending_copy.pk)


@pytest.mark.parametrize("field", ["out_trade_no", "provider_txn_id", "payer_ref"])
def test_support_finds_an_order_by_any_number_the_buyer_has(admin_client, paid_copy, field):
    response = admin_client.get(
        reverse("admin:orders_order_changelist"), {"q": getattr(paid_copy, field)}
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [paid_copy]


def test_the_order_page_shows_money_read_only(admin_client, paid_copy):
    url = reverse("admin:orders_order_change", args=[paid_copy.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'name="amount_fen"' not in response.content.decode()
    admin_client.post(url, {"amount_fen": 1, "status": "pending"})
    assert Order.objects.filter(pk=paid_copy.pk, amount_fen=599, status="paid").exists()


def test_payment_events_can_be_read_but_not_changed(admin_client, paid_copy):
    event = PaymentEvent.objects.get(order=paid_copy)
    assert admin_client.get(reverse("admin:orders_paymentevent_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:orders_paymentevent_delete", args=[event.pk])).status_code
        == 403
    )
    event.outcome = "edited"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


@pytest.mark.parametrize("model", ["plan", "priceoverride", "order", "paymentevent", "entitlement"])
def test_every_orders_model_has_an_admin_page(admin_client, model, paid_copy):
    assert admin_client.get(reverse(f"admin:orders_{model}_changelist")).status_code == 200
