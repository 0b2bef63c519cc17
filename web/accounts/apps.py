from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "web.accounts"
    label = "accounts"

    def ready(self) -> None:
        from web.accounts import signals  # noqa: F401 - connects the login receiver
