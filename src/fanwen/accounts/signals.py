"""Merging the visitor into the account at login, whichever view logs the user in."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from fanwen.accounts.actions import do_merge_visitor
from fanwen.accounts.visitors import current_visitor


@receiver(user_logged_in, dispatch_uid="fanwen.accounts.merge_visitor")
def merge_visitor_on_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    # Logins without a request (tests, shell) have no cookie to merge.
    if request is None or not hasattr(request, "COOKIES"):
        return
    visitor = current_visitor(request)
    if visitor is not None:
        do_merge_visitor(visitor, user)
