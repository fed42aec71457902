"""The sandbox models move to fanwen.sandbox: forgotten here, their tables and rows left in place."""

from django.db import migrations

SANDBOX_MODELS = [
    "SandboxNotification",
    "SandboxRefund",
    "SandboxAlipayTrade",
    "SandboxTransaction",
]


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_alipay_sandbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in SANDBOX_MODELS],
            database_operations=[],
        )
    ]
