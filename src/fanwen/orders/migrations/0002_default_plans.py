"""The two plans the paywall sells: 付费复制 5.99元 (原价10元) and 包月 30 天 9.99元 (原价10元)."""

from django.db import migrations

DEFAULT_PLANS = [
    {"code": "article_copy", "name": "单篇复制/下载", "price_fen": 599, "list_price_fen": 1000, "days": None},
    {"code": "pass_30d", "name": "包月30天不限量", "price_fen": 999, "list_price_fen": 1000, "days": 30},
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("orders", "Plan")
    for plan in DEFAULT_PLANS:
        # get_or_create: an operator's prices survive a re-run.
        Plan.objects.get_or_create(code=plan["code"], defaults=plan)


def remove_plans(apps, schema_editor):
    apps.get_model("orders", "Plan").objects.filter(code__in=[p["code"] for p in DEFAULT_PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(create_plans, remove_plans)]
