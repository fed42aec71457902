"""The 30-day pass gets a list price of its own: it showed 原价10元, the single article's.

Only a pass still at the first defaults (9.99元, 原价 10元) changes; a price the operator set
stays as it is.
"""

from django.db import migrations

OLD_LIST_FEN, NEW_LIST_FEN = 1000, 3000


def own_list_price(apps, schema_editor):
    Plan = apps.get_model("orders", "Plan")
    Plan.objects.filter(code="pass_30d", price_fen=999, list_price_fen=OLD_LIST_FEN).update(
        list_price_fen=NEW_LIST_FEN
    )


def back(apps, schema_editor):
    Plan = apps.get_model("orders", "Plan")
    Plan.objects.filter(code="pass_30d", price_fen=999, list_price_fen=NEW_LIST_FEN).update(
        list_price_fen=OLD_LIST_FEN
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_alipay_sandbox")]

    operations = [migrations.RunPython(own_list_price, back)]
