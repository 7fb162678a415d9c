"""English texts of third-party admin pages, listed so that our catalogue can translate them.

django-axes and django-oauth-toolkit ship no zh_Hans catalogue, so their change lists, filters,
forms, actions and messages read in English on the Chinese admin; Django's own zh_Hans catalogue
lacks a few texts of its admin templates. Django looks a msgid up in every catalogue it has
loaded, ours (LOCALE_PATHS) first, so a translation in locale/zh_Hans/LC_MESSAGES/django.po also
applies to the package's own `_("...")` calls and `{% translate %}` tags. But `make messages`
(makemessages) keeps only the msgids it finds in our source and would drop those: this module is
where it finds them. Nothing here is used at run time.

Each string is copied character for character from the package (a msgid that differs by one
character is another msgid); tests/common/test_third_party_texts.py checks that each one is
still written so in the installed package, so an upgrade that rewords one is noticed.

Listed are the texts a user can see on the pages this project's admin actually registers
(axes: failed sign-in records, failed sign-in log, sign-in log; oauth2_provider: clients,
access, refresh and ID tokens, authorization codes; Django's admin: texts of every page and
form). Texts a package never passes through gettext (django-otp's field names and help texts,
the token admins' action names and their "token"/"code" columns, URI validation errors) cannot
be translated this way: our own admin code replaces them (apps.common.admin_apps,
apps.common.admin_axes, apps.common.admin_oauth, apps.departments.admin_accounts).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

# django-axes (axes/models.py, axes/admin.py): columns, filters, fieldsets, field labels, the
# "locked out" filter and status, the clean-up action.
AXES: tuple[str, ...] = (
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Logout Time"),
    gettext_noop("Locked Out"),
    gettext_noop("Yes"),
    gettext_noop("No"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Attempt Remaining"),
)

# django-oauth-toolkit (oauth2_provider/models.py, forms.py, admin.py): the client (application)
# page with its choices, help texts and validation errors, then the token and code pages.
OAUTH2_PROVIDER: tuple[str, ...] = (
    # Application: choices.
    gettext_noop("Manual"),
    gettext_noop("Dynamic Client Registration"),
    gettext_noop("Client ID Metadata Document"),
    gettext_noop("Confidential"),
    gettext_noop("Public"),
    gettext_noop("Authorization code"),
    gettext_noop("Device Code"),
    gettext_noop("Implicit"),
    gettext_noop("Resource owner password-based"),
    gettext_noop("Client credentials"),
    gettext_noop("OpenID connect hybrid"),
    gettext_noop("No OIDC support"),
    gettext_noop("RSA with SHA-2 256"),
    gettext_noop("HMAC with SHA-2 256"),
    # Application: fields and help texts.
    gettext_noop("client ID"),
    gettext_noop("user"),
    gettext_noop("Allowed URIs list, space separated"),
    gettext_noop("redirect URIs"),
    gettext_noop("Allowed Post Logout URIs list, space separated"),
    gettext_noop("post logout redirect URIs"),
    gettext_noop("client type"),
    gettext_noop("authorization grant type"),
    gettext_noop("client secret"),
    gettext_noop("hash client secret"),
    gettext_noop("name"),
    gettext_noop("skip authorization"),
    gettext_noop("algorithm"),
    gettext_noop("Allowed origins list to enable CORS, space separated"),
    gettext_noop("allowed origins"),
    gettext_noop("How this application was registered (manual, DCR per RFC 7591, or CIMD)"),
    gettext_noop("registration source"),
    gettext_noop("When the cached Client ID Metadata Document should be re-fetched"),
    gettext_noop("CIMD expires at"),
    # Application form: the client secret's help text and the HS256 warnings.
    gettext_noop(
        "The client secret is hashed and can no longer be viewed. "
        "To rotate it, enter a new value and copy it before saving; "
        "the original secret cannot be recovered."
    ),
    gettext_noop(
        "Copy and store this secret now. Once saved, it will be hashed and cannot be recovered."
    ),
    gettext_noop(
        "This application stores its client secret unhashed, so the value above "
        "remains usable. Entering a new value replaces it."
    ),
    gettext_noop("Copy and store this secret now. This application stores the secret unhashed."),
    gettext_noop(
        "HS256 signs tokens with the client secret as the HMAC key, so the secret must "
        "be stored unhashed. Uncheck “Hash client secret” and set an unhashed "
        "client secret, or choose a different algorithm."
    ),
    gettext_noop(
        "HS256 requires an unhashed client secret. Uncheck this and set an unhashed "
        "client secret, or choose a different algorithm."
    ),
    # Application: validation errors (Application.clean).
    gettext_noop("redirect_uris cannot be empty with grant_type {grant_type}"),
    gettext_noop("You must set OIDC_RSA_PRIVATE_KEY to use RSA algorithm"),
    gettext_noop("You cannot use HS256 with public grants or clients"),
    gettext_noop("You cannot use HS256 without a client secret; it is the HMAC signing key."),
    gettext_noop(
        "You cannot use HS256 with a hashed client secret. For HS256 the client "
        "secret is the shared signing key and must be stored unhashed so the relying "
        "party can verify the token; set hash_client_secret=False and store an "
        "unhashed client_secret on this application."
    ),
    # Access, refresh and ID tokens, authorization codes: columns, filters, field labels.
    gettext_noop("application"),
    gettext_noop("expires"),
    gettext_noop("scope"),
    gettext_noop("resource"),
    gettext_noop("redirect URI"),
    gettext_noop("code challenge"),
    gettext_noop("code challenge method"),
    gettext_noop("nonce"),
    gettext_noop("claims"),
    gettext_noop("source refresh token"),
    gettext_noop("token checksum"),
    gettext_noop("ID token"),
    gettext_noop("access token"),
    gettext_noop("revoked"),
    gettext_noop("JWT Token ID"),
)

# The token pages' messages after "revoke": plural entries (msgid_plural) in the catalogue,
# which only ngettext_lazy makes makemessages write.
OAUTH2_PROVIDER_PLURALS = (
    ngettext_lazy("Revoked %d access token.", "Revoked %d access tokens."),
    ngettext_lazy("Revoked %d refresh token.", "Revoked %d refresh tokens."),
)

# Django's admin (django/contrib/admin/templates): the texts its zh_Hans catalogue lacks. The
# table headings for screen readers of the sidebar and the index (admin/app_list.html), on every
# admin page; the title's prefix on a form page with errors (change_form.html, change_list.html,
# login.html, the password pages); the hint on the page that adds a user. None is written with a
# context ({% translate ... context %} would need pgettext_noop). Also lacking, and not listed:
# the password reset e-mail's "In case you’ve forgotten, you are:" and the login page's link
# "Forgotten your login credentials?", as the platform offers no password reset (our login
# template, common/admin_login.html, keeps that link's msgid in the catalogue anyway).
DJANGO_ADMIN: tuple[str, ...] = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
)

# Import name of each package -> the msgids copied from it.
BY_PACKAGE: dict[str, tuple[str, ...]] = {
    "axes": AXES,
    "oauth2_provider": OAUTH2_PROVIDER,
    "django.contrib.admin": DJANGO_ADMIN,
}
