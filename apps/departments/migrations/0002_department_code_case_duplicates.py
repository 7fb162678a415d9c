"""Before codes become unique ignoring case (0003): a department whose code differs from an
older one's only in case (`ex4ui-A` next to `EX4UI-A`) is renamed, with its acting group, so
that the constraint can be created. Departments cannot be deleted, so the younger of the two is
kept under a new, visibly derived code (`EX4UI-A-DUP12`, 12 being its id) rather than merged:
its datasets, members and audit records stay where they are. Nothing happens on a database
without such pairs."""

from django.db import migrations

MAX_CODE_LENGTH = 32


def _free_code(code: str, pk: int, taken: set[str]) -> str:
    suffix = f"-DUP{pk}"
    base = code.upper()[: MAX_CODE_LENGTH - len(suffix)]
    candidate, n = base + suffix, 1
    while candidate.upper() in taken:
        n += 1
        suffix = f"-DUP{pk}-{n}"
        candidate = base[: MAX_CODE_LENGTH - len(suffix)] + suffix
    return candidate


def rename_case_duplicates(apps, schema_editor) -> None:
    Department = apps.get_model("departments", "Department")
    Group = apps.get_model("auth", "Group")
    taken = {code.upper() for code in Department.objects.values_list("code", flat=True)}
    first_holder: dict[str, int] = {}
    for department in Department.objects.order_by("pk"):
        key = department.code.upper()
        if key not in first_holder:
            first_holder[key] = department.pk
            continue
        old, new = department.code, _free_code(department.code, department.pk, taken)
        taken.add(new.upper())
        Department.objects.filter(pk=department.pk).update(code=new)
        group_name = f"dept:{new}"
        if not Group.objects.filter(name=group_name).exists():
            Group.objects.filter(pk=department.group_id, name=f"dept:{old}").update(
                name=group_name
            )
        print(f"\n  department {department.pk}: code {old!r} renamed to {new!r}", end="")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("departments", "0001_initial"),
    ]

    operations = [migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop)]
