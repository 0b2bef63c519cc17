from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "web.uploads"
    label = "uploads"
    verbose_name = "Uploads and feedback"
