import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("departments", "0001_initial"),
        ("oauth2_provider", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgencyApplication",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("allowed_scopes", models.CharField(default="read", help_text="Space-separated: read, requests.", max_length=64, verbose_name="allowed scopes")),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("secret_rotated_at", models.DateTimeField(blank=True, null=True, verbose_name="secret last set at")),
                ("application", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="agency", to="oauth2_provider.application", verbose_name="OAuth2 client")),
                ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="created by")),
                ("department", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="applications", to="departments.department", verbose_name="department")),
            ],
            options={
                "verbose_name": "agency application",
                "verbose_name_plural": "agency applications",
                "ordering": ["department__code", "application__name"],
            },
        ),
    ]
