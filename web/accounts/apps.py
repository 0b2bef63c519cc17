from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "web.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from web.accounts import signals  # noqa: F401 - connects the login receiver

        # The admin's own titles name the product, in the reader's language ("Django administration"
        # otherwise).
        admin.site.site_header = _("DigitScan administration")
        admin.site.site_title = _("DigitScan administration")
        admin.site.index_title = _("Uploads, corrections, models and runs")
