# Verbose names only (no SQL): the same words for a field's code and label on every page.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0005_masking_labels'),
    ]

    operations = [
        migrations.AlterField(
            model_name='field',
            name='label',
            field=models.CharField(max_length=200, verbose_name='field label'),
        ),
        migrations.AlterField(
            model_name='field',
            name='name',
            field=models.CharField(max_length=63, validators=[django.core.validators.RegexValidator('^[a-z][a-z0-9_]{0,62}$', 'Use lower-case letters, digits and underscores, starting with a letter (at most 63).')], verbose_name='field name'),
        ),
    ]
