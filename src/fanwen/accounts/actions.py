"""Writes that bind the anonymous visitor to an account."""

from __future__ import annotations

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from fanwen.accounts.models import Visitor, WeChatIdentity

log = logging.getLogger(__name__)


def do_merge_visitor(visitor: Visitor, user: AbstractBaseUser) -> bool:
    """Bind `visitor` and what it bought to `user`; False when the browser belongs to someone else.

    A visitor already bound to another account is left alone: on a shared computer the second
    person to log in must not walk away with the first person's purchases. The caller should
    then give the browser a fresh visitor.
    """
    from fanwen.orders.models import Entitlement, Order

    with transaction.atomic():
        # Orders before the visitor, the order do_settle_order locks them in: no deadlock.
        list(
            Order.objects.select_for_update()
            .filter(visitor=visitor)
            .order_by("pk")
            .values_list("pk")
        )
        visitor = Visitor.objects.select_for_update().get(pk=visitor.pk)
        if visitor.user_id is not None and visitor.user_id != user.pk:
            log.info(
                "visitor %s belongs to user %s, not merged into %s",
                visitor.pk,
                visitor.user_id,
                user.pk,
            )
            return False
        if visitor.user_id is None:
            visitor.user = user
            visitor.save(update_fields=["user"])
        # Only unowned rows: an entitlement restored here from another account keeps its owner.
        Entitlement.objects.filter(visitor=visitor, user__isnull=True).update(user=user)
        # And what was restored here from another browser of the same buyer.
        Entitlement.objects.filter(places__visitor=visitor, user__isnull=True).update(user=user)
        Order.objects.filter(visitor=visitor, user__isnull=True).update(user=user)
    return True


def do_remember_openid(visitor: Visitor, appid: str, openid: str) -> WeChatIdentity:
    """Keep the openid WeChat OAuth gave this visitor for `appid` (a newer one replaces it)."""
    identity, _ = WeChatIdentity.objects.update_or_create(
        visitor=visitor, appid=appid, defaults={"openid": openid}
    )
    return identity
