import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="WeChatIdentity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("appid", models.CharField(max_length=32, verbose_name="公众号 AppID")),
                ("openid", models.CharField(max_length=128, verbose_name="OpenID")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                (
                    "visitor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="wechat_identities",
                        to="accounts.visitor",
                        verbose_name="访客",
                    ),
                ),
            ],
            options={
                "verbose_name": "微信身份",
                "verbose_name_plural": "微信身份",
                "indexes": [
                    models.Index(fields=["appid", "openid"], name="wechat_identity_openid")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("visitor", "appid"), name="wechat_identity_per_appid"
                    )
                ],
            },
        ),
    ]
