from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "web.registry"
    label = "registry"
    verbose_name = "Models and experiments"
