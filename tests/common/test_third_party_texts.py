"""The third-party msgids we translate (apps.common.third_party_texts) are still the packages'.

A translation only applies while our msgid is exactly the package's: after an upgrade that
rewords a string, the page turns English again without any error. These tests read the
installed packages' source, Python and templates, and fail on such a string, naming it."""

from __future__ import annotations

import ast
import gettext
import importlib.util
import re
from functools import cache
from pathlib import Path

import pytest
from django.utils.translation.template import templatize

from apps.common import third_party_texts
from apps.common.third_party_texts import BY_PACKAGE, DJANGO_ADMIN, OAUTH2_PROVIDER_PLURALS


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def _trees(package: str):
    for path in sorted(_package_dir(package).rglob("*.py")):
        yield ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _literal_args(node: ast.Call) -> tuple:
    return tuple(a.value if isinstance(a, ast.Constant) else None for a in node.args)


_GETTEXT = {"_", "gettext", "gettext_lazy", "gettext_noop"}
_NGETTEXT = {"ngettext", "ngettext_lazy"}

# makemessages turns a template into text that xgettext reads as Python (templatize): each
# {% translate %} and {% blocktranslate %} becomes a gettext/pgettext/ngettext/npgettext call
# with repr() literals in a line of filler, which as a whole is not Python.
_LITERAL = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_TEMPLATE_CALL = re.compile(
    rf"\b(n?p?gettext)\(\s*({_LITERAL}(?:\s*,\s*{_LITERAL})*)(?:\s*,\s*count)?\s*\)"
)


def _template_msgids(package: str):
    for path in sorted(_package_dir(package).rglob("templates/**/*.html")):
        source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for call in _TEMPLATE_CALL.finditer(source):
            name, args = call.group(1), ast.literal_eval(f"({call.group(2)},)")
            if name.startswith("np"):  # npgettext(context, singular, plural, count)
                yield (f"{args[0]}\x04{args[1]}", args[2])
            elif name.startswith("p"):  # a msgid with a context is another msgid
                yield f"{args[0]}\x04{args[1]}"
            elif name.startswith("n"):
                yield args[:2]
            else:
                yield args[0]


@cache
def _msgids_of(package: str) -> frozenset[str | tuple]:
    """The msgids the package itself asks gettext for, in its code and its templates: a string
    it merely contains (a dict key "path", a plain admin action name) is not translated by our
    catalogue."""
    found = set(_template_msgids(package))
    for tree in _trees(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                name = _call_name(node)
                if name in _GETTEXT:
                    found.add(_literal_args(node)[0])
                elif name in _NGETTEXT:
                    found.add(_literal_args(node)[:2])
    return frozenset(found - {None})


def _marked_in_our_module() -> tuple[list[str], list[tuple]]:
    """What makemessages extracts from the module: gettext_noop and ngettext_lazy arguments."""
    tree = ast.parse(Path(third_party_texts.__file__).read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    singular = [_literal_args(c)[0] for c in calls if _call_name(c) == "gettext_noop"]
    plural = [_literal_args(c)[:2] for c in calls if _call_name(c) == "ngettext_lazy"]
    return singular, plural


@pytest.mark.parametrize("package", sorted(BY_PACKAGE))
def test_every_listed_msgid_is_written_so_in_its_package(package):
    missing = [msgid for msgid in BY_PACKAGE[package] if msgid not in _msgids_of(package)]
    assert not missing, f"no longer a msgid of {package} (reworded?): {missing}"


def test_every_listed_plural_msgid_is_a_plural_message_of_django_oauth_toolkit():
    _, plurals = _marked_in_our_module()
    assert len(plurals) == len(OAUTH2_PROVIDER_PLURALS) > 0
    missing = [pair for pair in plurals if pair not in _msgids_of("oauth2_provider")]
    assert not missing, f"no longer an ngettext call of oauth2_provider: {missing}"


def test_makemessages_finds_every_listed_msgid_and_each_only_once():
    # A string listed without gettext_noop (or built at run time) would never reach the
    # catalogue; one listed twice hints at a copy from the wrong package.
    singular, _ = _marked_in_our_module()
    listed = [msgid for msgids in BY_PACKAGE.values() for msgid in msgids]
    assert None not in singular
    assert sorted(singular) == sorted(listed)
    assert len(set(listed)) == len(listed)


def test_only_what_the_package_translates_counts_as_its_msgid():
    msgids = _msgids_of("oauth2_provider")
    assert "Allowed URIs list, space separated" in msgids
    assert "Allowed URIs list, space-separated" not in msgids
    # Written in its admin, but as a plain action name that no catalogue can translate.
    assert "Revoke selected access tokens" not in msgids
    assert ("Revoked %d access token.", "Revoked %d access tokens.") in msgids


def test_django_admins_template_texts_count_as_its_msgids_with_their_exact_wording():
    msgids = _msgids_of("django.contrib.admin")
    assert {"Model name", "Error:"} <= msgids  # only in templates ({% translate %})
    assert "Error" not in msgids  # "Error:" is a msgid of its own, colon included
    # {% blocktranslate count %} makes a plural entry, with its placeholders as in the catalogue.
    assert ("%(counter)s result", "%(counter)s results") in msgids
    assert set(DJANGO_ADMIN) <= msgids


# Django admin template texts left out of DJANGO_ADMIN, each for a reason given there.
_NOT_ON_OUR_PAGES = {"In case you’ve forgotten, you are:", "Forgotten your login credentials?"}


def test_every_django_admin_template_text_its_zh_hans_catalogue_lacks_is_listed():
    # After a Django upgrade, a new untranslated text on the admin's pages fails here.
    django_dir = _package_dir("django")
    catalogues = [
        gettext.GNUTranslations((path / "zh_Hans/LC_MESSAGES/django.mo").open("rb"))
        for path in (django_dir / "contrib/admin/locale", django_dir / "conf/locale")
    ]

    def translated(msgid: str | tuple) -> bool:
        if isinstance(msgid, tuple):
            return any(c.ngettext(*msgid, 1) != msgid[0] for c in catalogues)
        return any(c.gettext(msgid) != msgid for c in catalogues)

    lacking = {
        msgid
        for msgid in _template_msgids("django.contrib.admin")
        if not translated(msgid) and msgid not in _NOT_ON_OUR_PAGES
    }
    assert lacking == set(DJANGO_ADMIN)
