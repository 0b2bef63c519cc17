"""Staff see every upload and every piece of feedback, and accept feedback as training data."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy, ngettext

from web.uploads.models import Batch, Feedback, SiteFeedback, Upload
from web.uploads.presenters import change_lines, training_summary
from web.uploads.services import feedback_set_accepted


class FeedbackInline(admin.TabularInline):
    model = Feedback
    extra = 0
    fields = ["text", "summary", "comment", "author", "accepted", "created"]
    readonly_fields = ["text", "summary", "comment", "author", "created"]

    @admin.display(description=gettext_lazy("changes"))
    def summary(self, feedback: Feedback) -> str:
        return training_summary(feedback.operations)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "source", "status", "text", "model_version", "queued_at", "attempts"]
    list_filter = ["status", "source", "model_version"]
    search_fields = ["id", "text", "owner__username", "batch__id"]
    readonly_fields = [f.name for f in Upload._meta.fields]
    inlines = [FeedbackInline]

    def has_add_permission(self, request) -> bool:
        return False  # uploads come from people, through validation; never typed in here


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "created", "size"]
    readonly_fields = ["id", "owner", "session_key", "created"]
    search_fields = ["id", "owner__username"]

    def has_add_permission(self, request) -> bool:
        return False  # made by people sending several images at once

    @admin.display(description="images")
    def size(self, batch: Batch) -> int:
        return batch.uploads.count()


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

    @admin.display(description=gettext_lazy("model read"))
    def read(self, feedback: Feedback) -> str:
        return feedback.upload.text

    @admin.display(description=gettext_lazy("training data"))
    def summary(self, feedback: Feedback) -> str:
        return training_summary(feedback.operations)

    @admin.display(description=gettext_lazy("what it changes"))
    def changes(self, feedback: Feedback) -> str:
        """Each operation in words, with the box it concerns, so that staff can judge it before accepting."""
        lines = change_lines(feedback.operations, feedback.upload.digits or [])
        return format_html("<ul>{}</ul><p>{}</p>",
                           format_html_join("", "<li>{}</li>", ((line,) for line in lines)),
                           training_summary(feedback.operations))

    @admin.action(description=gettext_lazy("Accept as training data"))
    def accept(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        count = feedback_set_accepted(feedback_ids=ids, accepted=True)
        self.message_user(request, ngettext("%(count)d correction accepted as training data.",
                                            "%(count)d corrections accepted as training data.", count)
                          % {"count": count})

    @admin.action(description=gettext_lazy("Do not use as training data"))
    def reject(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        count = feedback_set_accepted(feedback_ids=ids, accepted=False)
        self.message_user(request, ngettext("%(count)d correction set aside.",
                                            "%(count)d corrections set aside.", count) % {"count": count})


@admin.register(SiteFeedback)
class SiteFeedbackAdmin(admin.ModelAdmin):
    list_display = ["created", "message", "contact", "author", "page", "handled"]
    list_filter = ["handled"]
    search_fields = ["message", "contact", "author__username"]
    readonly_fields = ["author", "session_key", "message", "contact", "page", "created"]
    list_editable = ["handled"]

    def has_add_permission(self, request) -> bool:
        return False  # written by visitors, on the site
