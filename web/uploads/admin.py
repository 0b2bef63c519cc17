"""Staff see every upload and every piece of feedback, and accept feedback as training data."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from web.uploads.models import Feedback, SiteFeedback, Upload
from web.uploads.presenters import change_lines, training_summary
from web.uploads.services import feedback_set_accepted


class FeedbackInline(admin.TabularInline):
    model = Feedback
    extra = 0
    fields = ["text", "summary", "comment", "author", "accepted", "created"]
    readonly_fields = ["text", "summary", "comment", "author", "created"]

    @admin.display(description=_("changes"))
    def summary(self, feedback: Feedback) -> str:
        return training_summary(feedback.operations)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "source", "status", "text", "model_version", "queued_at", "attempts"]
    list_filter = ["status", "source", "model_version"]
    search_fields = ["id", "text", "owner__username"]
    readonly_fields = [f.name for f in Upload._meta.fields]
    inlines = [FeedbackInline]

    def has_add_permission(self, request) -> bool:
        return False  # uploads come from people, through validation; never typed in here


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["upload", "read", "text", "summary", "author", "accepted", "created"]
    list_filter = ["accepted"]
    list_select_related = ["upload"]
    fields = ["upload", "read", "text", "changes", "comment", "author", "session_key", "accepted", "created"]
    readonly_fields = ["upload", "read", "text", "changes", "author", "session_key", "comment", "created"]
    actions = ["accept", "reject"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("model read"))
    def read(self, feedback: Feedback) -> str:
        return feedback.upload.text

    @admin.display(description=_("training data"))
    def summary(self, feedback: Feedback) -> str:
        return training_summary(feedback.operations)

    @admin.display(description=_("what it changes"))
    def changes(self, feedback: Feedback) -> str:
        """Each operation in words, with the box it concerns, so that staff can judge it before accepting."""
        lines = change_lines(feedback.operations, feedback.upload.digits or [])
        return format_html("<ul>{}</ul><p>{}</p>",
                           format_html_join("", "<li>{}</li>", ((line,) for line in lines)),
                           training_summary(feedback.operations))
    @admin.action(description="Accept as training data")
    def accept(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        self.message_user(request, f"{feedback_set_accepted(feedback_ids=ids, accepted=True)} accepted.")

    @admin.action(description="Do not use as training data")
    def reject(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        self.message_user(request, f"{feedback_set_accepted(feedback_ids=ids, accepted=False)} set aside.")


@admin.register(SiteFeedback)
class SiteFeedbackAdmin(admin.ModelAdmin):
    list_display = ["created", "message", "contact", "author", "page", "handled"]
    list_filter = ["handled"]
    search_fields = ["message", "contact", "author__username"]
    readonly_fields = ["author", "session_key", "message", "contact", "page", "created"]
    list_editable = ["handled"]

    def has_add_permission(self, request) -> bool:
        return False  # written by visitors, on the site
