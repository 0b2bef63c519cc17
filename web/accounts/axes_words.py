"""django-axes' own labels, as it marks them for translation, repeated here so that ``makemessages`` keeps
their Chinese in our catalogue (axes ships none; a catalogue in LOCALE_PATHS translates any app's words).

Nothing imports this module: the strings only need to be found by makemessages.
"""

from django.utils.translation import gettext_noop

AXES_WORDS = [
    # models (axes.models)
    gettext_noop("access attempt"), gettext_noop("access attempts"),
    gettext_noop("access failure"), gettext_noop("access failures"),
    gettext_noop("access log"), gettext_noop("access logs"),
    gettext_noop("access attempt expiration"), gettext_noop("access attempt expirations"),
    # fields
    gettext_noop("User Agent"), gettext_noop("IP Address"), gettext_noop("Username"),
    gettext_noop("HTTP Accept"), gettext_noop("Path"), gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"), gettext_noop("GET Data"), gettext_noop("POST Data"),
    gettext_noop("Failed Logins"), gettext_noop("Access Attempt"), gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"), gettext_noop("Session key hash (sha256)"),
    # admin (axes.admin)
    gettext_noop("Locked Out"), gettext_noop("Form Data"), gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"), gettext_noop("Not set"), gettext_noop("Attempt Remaining"),
]
