"""The footer every page shows: the trust pages, the operator's name and its 备案 numbers."""

import re

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from fanwen.pages.models import ABOUT, PRIVACY, REFUNDS, TERMS

LINKS = ((TERMS, "用户协议"), (PRIVACY, "隐私政策"), (REFUNDS, "退款说明"), (ABOUT, "关于我们"))


def footer(request: HttpRequest) -> dict:
    gongan = settings.FANWEN_GONGAN_BEIAN
    return {
        "footer_links": [
            *((reverse("pages:show", args=[slug]), name) for slug, name in LINKS),
            (reverse("support:contact"), "联系客服"),
        ],
        "company_name": settings.FANWEN_COMPANY_NAME,
        "icp_beian": settings.FANWEN_ICP_BEIAN,
        "gongan_beian": gongan,
        # The public security record is looked up by its number alone.
        "gongan_code": "".join(re.findall(r"\d", gongan)),
    }
