import django.core.validators
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    # Own migration (own transaction): the index is built after 0002's renames are committed.
    dependencies = [
        ("departments", "0002_department_code_case_duplicates"),
    ]

    operations = [
        migrations.AlterField(
            model_name="department",
            name="code",
            field=models.CharField(
                help_text="Upper-case letters and digits, parts joined by hyphens, e.g. GD-WJ or GZ-TH-MZ. It cannot be changed later.",
                max_length=32,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z0-9]+(-[A-Z0-9]+)*\\Z",
                        "Use upper-case letters and digits, in parts joined by hyphens (e.g. GD-WJ, GZ-TH-MZ).",
                        code="invalid_code",
                    )
                ],
                verbose_name="code",
            ),
        ),
        migrations.AddConstraint(
            model_name="department",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Upper("code"),
                name="department_code_unique_ignoring_case",
                violation_error_message="A department with this code already exists (codes are compared ignoring case).",
            ),
        ),
    ]
