from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="JobRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("job", models.CharField(max_length=64, verbose_name="任务")),
                ("period", models.CharField(max_length=32, verbose_name="周期")),
                ("claimed_at", models.DateTimeField(verbose_name="领取时间")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="完成时间"),
                ),
                ("attempts", models.PositiveIntegerField(default=1, verbose_name="尝试次数")),
                ("outcome", models.TextField(blank=True, verbose_name="结果")),
            ],
            options={
                "verbose_name": "定时任务记录",
                "verbose_name_plural": "定时任务记录",
                "ordering": ["-claimed_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("job", "period"), name="job_run_per_period")
                ],
            },
        ),
    ]
