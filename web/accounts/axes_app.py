"""django-axes (the sign-in lock-out) installed under a name staff can read in either language
(INSTALLED_APPS names ``web.accounts.axes_app.AxesConfig`` instead of ``axes``)."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    """django-axes (the sign-in lock-out) as it is, under a name staff can read in either language.

    Axes ships no Chinese catalogue; the labels of its models that the admin shows are repeated in
    ``web.accounts.axes_words`` so that our catalogue carries their Chinese.
    """

    verbose_name = _("Sign-in lock-out")
