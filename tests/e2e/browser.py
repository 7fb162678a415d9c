"""What the browser tests share: where Chromium is, how it is started, and signing in to the
admin as a factory-made user."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pw-Secret-123"  # tests.factories.UserFactory
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-quic"]  # fmt: skip


def admin_login(browser, base_url: str, username: str, *, locale: str, viewport: dict):
    """A new page signed in to the admin as `username`, in its own browser context."""
    context = browser.new_context(base_url=base_url, locale=locale, viewport=viewport)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/admin/")
    return page
