"""Staff see every upload and every piece of feedback, and accept feedback as training data.

A correction is judged by looking: its page draws the boxes it changes on the image and cuts each one out
beside what it says (``web.uploads.admin_display``); the images are the site's own addresses
(``/r/<id>/original.image`` …), which let staff see any upload's.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from web.uploads import admin_display as show
from web.uploads.corrections import training_counts
from web.uploads.models import Batch, Feedback, SiteFeedback, Upload
from web.uploads.presenters import change_lines, failure_message, training_summary
from web.uploads.services import feedback_set_accepted


def _who(user, token: str) -> str:
    """A user's name, or an anonymous session told apart by the start of its token (never all of it)."""
    if user is not None:
        return user.get_username()
    return gettext("anonymous (session %(token)s)") % {"token": show.token_hint(token)}


def _short_id(upload_id) -> str:
    return str(upload_id)[:8] + "…"


def counts_text(operations: list[dict]) -> str:
    """What a correction gives the next model, in a few words for a list column (``2 digits · 1 ×``)."""
    counts = training_counts(operations)
    parts = []
    if counts["digits"]:
        parts.append(ngettext("%(n)d digit", "%(n)d digits", counts["digits"]) % {"n": counts["digits"]})
    if counts["not_a_digit"]:
        parts.append(ngettext("%(n)d not a digit", "%(n)d not digits", counts["not_a_digit"])
                     % {"n": counts["not_a_digit"]})
    if counts["without_box"]:
        parts.append(ngettext("%(n)d without a box", "%(n)d without a box", counts["without_box"])
                     % {"n": counts["without_box"]})
    return " · ".join(parts) or gettext("none")


def current_mark(feedback: Feedback, latest_id: int | None) -> str:
    """Whether ``feedback`` is its upload's corrected reading now (the newest correction) or was replaced."""
    if feedback.id == latest_id:
        return format_html('<span class="ds-current">✔ {}</span>', gettext("current"))
    return format_html('<span class="ds-older">{}</span>', gettext("replaced by a later one"))


class FeedbackInline(admin.TabularInline):
    model = Feedback
    extra = 0
    fields = ["text", "summary", "comment", "who", "accepted", "created"]
    readonly_fields = ["text", "summary", "comment", "who", "created"]
    show_change_link = True  # to the correction's own page, where its boxes are drawn on the image

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a correction is its owner's, sent from the result page

    @admin.display(description=gettext_lazy("changes"))
    def summary(self, feedback: Feedback) -> str:
        return training_summary(feedback.operations)

    @admin.display(description=gettext_lazy("author"))
    def who(self, feedback: Feedback) -> str:
        return _who(feedback.author, feedback.session_key)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    change_form_template = "admin/uploads/change_form.html"
    change_list_template = "admin/uploads/change_list.html"
    list_display = ["short_id", "picture", "who", "source", "status", "text", "model_version", "queued_at",
                    "attempts"]
    list_display_links = ["short_id"]
    list_filter = ["status", "source", "model_version"]
    list_select_related = ["owner", "model_version"]
    search_fields = ["id", "text", "owner__username", "batch__id"]
    fieldsets = [
        (None, {"fields": ["figure", "who", "source", "batch", "status", "failure", "model_version"]}),
        (_("Reading"), {"fields": ["text", "lines_shown", "digits_shown", "timings_shown"]}),
        (_("Image and delivery"), {"fields": ["size", "queued_at", "enqueued_at", "started_at", "finished_at",
                                              "attempts", "claimed_by", "heartbeat_at"]}),
    ]
    readonly_fields = ["figure", "who", "failure", "lines_shown", "digits_shown", "timings_shown", "size",
                       *(f.name for f in Upload._meta.fields)]
    inlines = [FeedbackInline]

    def has_add_permission(self, request) -> bool:
        return False  # uploads come from people, through validation; never typed in here

    @admin.display(description=_("image"))
    def picture(self, upload: Upload) -> str:
        return show.thumbnail_html(upload)

    @admin.display(description=_("upload"), ordering="queued_at")
    def short_id(self, upload: Upload) -> str:
        return _short_id(upload.id)

    @admin.display(description=_("image"))
    def figure(self, upload: Upload) -> str:
        return show.upload_figure(upload)

    @admin.display(description=_("owner"), ordering="owner__username")
    def who(self, upload: Upload) -> str:
        return _who(upload.owner, upload.session_key)

    @admin.display(description=_("error"))
    def failure(self, upload: Upload) -> str:
        if not upload.error_code:
            return "—"
        return f"{upload.error_code}: {failure_message(upload)}"

    @admin.display(description=_("lines"))
    def lines_shown(self, upload: Upload) -> str:
        return show.lines_list(upload)

    @admin.display(description=_("digits"))
    def digits_shown(self, upload: Upload) -> str:
        return show.digits_table(upload)

    @admin.display(description=_("timings"))
    def timings_shown(self, upload: Upload) -> str:
        return show.timings_table(upload.timings)

    @admin.display(description=_("size"))
    def size(self, upload: Upload) -> str:
        return gettext("%(w)s × %(h)s pixels") % {"w": upload.width, "h": upload.height} if upload.width \
            else "—"


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["short_id", "who", "created", "size"]
    fields = ["batch_id", "who", "created"]
    readonly_fields = ["batch_id", "who", "created"]
    search_fields = ["id", "owner__username"]

    def has_add_permission(self, request) -> bool:
        return False  # made by people sending several images at once

    @admin.display(description=_("batch"), ordering="created")
    def short_id(self, batch: Batch) -> str:
        return _short_id(batch.id)

    @admin.display(description=_("owner"))
    def who(self, batch: Batch) -> str:
        return _who(batch.owner, batch.session_key)

    @admin.display(description=_("batch"))
    def batch_id(self, batch: Batch) -> str:
        return str(batch.id)

    @admin.display(description=_("images"))
    def size(self, batch: Batch) -> int:
        return batch.uploads.count()


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    change_form_template = "admin/uploads/change_form.html"
    change_list_template = "admin/uploads/change_list.html"
    # Narrow columns, so that all of them fit beside the admin's menu and the filter at 1,280 px.
    list_display = ["upload_short", "reading", "summary", "current", "who", "accepted", "when"]
    list_display_links = ["upload_short"]
    list_filter = ["accepted"]
    list_select_related = ["upload", "author"]
    search_fields = ["upload__id", "text", "author__username"]
    fields = ["upload_link", "figure", "read", "text", "training", "current", "comment", "who", "accepted",
              "created"]
    readonly_fields = ["upload_link", "figure", "read", "text", "training", "current", "who", "comment",
                       "created"]
    actions = ["accept", "reject"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        # The newest correction of each row's upload, in the same query: it is the upload's reading now.
        latest = Feedback.objects.filter(upload=OuterRef("upload")).order_by("-created", "-id")
        latest = latest.values("id")[:1]
        return super().get_queryset(request).annotate(latest_id=Subquery(latest))

    @admin.display(description=_("upload"), ordering="upload__queued_at")
    def upload_short(self, feedback: Feedback) -> str:
        return _short_id(feedback.upload_id)

    @admin.display(description=_("read → corrected"))
    def reading(self, feedback: Feedback) -> str:
        return format_html('{} <span class="ds-arrow">→</span> <strong>{}</strong>',
                           feedback.upload.text or "—", feedback.text or "—")

    @admin.display(description=_("sent"), ordering="created")
    def when(self, feedback: Feedback) -> str:
        return f"{timezone.localtime(feedback.created):%m-%d %H:%M}"

    @admin.display(description=_("upload"))
    def upload_link(self, feedback: Feedback) -> str:
        upload = feedback.upload
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>',
                           reverse("admin:uploads_upload_change", args=[upload.id]), upload.id,
                           reverse("result", args=[upload.id]), gettext("result page"))

    @admin.display(description=_("image"))
    def picture(self, feedback: Feedback) -> str:
        return show.thumbnail_html(feedback.upload)

    @admin.display(description=_("what it changes"))
    def figure(self, feedback: Feedback) -> str:
        """The image with the boxes drawn, each change in words beside a crop of its box."""
        lines = change_lines(feedback.operations, feedback.upload.digits or [])
        return show.correction_figure(feedback.upload, feedback.operations, lines)

    @admin.display(description=_("model read"))
    def read(self, feedback: Feedback) -> str:
        return feedback.upload.text

    @admin.display(description=_("training data"))
    def summary(self, feedback: Feedback) -> str:
        return counts_text(feedback.operations)

    @admin.display(description=_("training data"))
    def training(self, feedback: Feedback) -> str:
        return training_summary(feedback.operations)

    @admin.display(description=_("current"))
    def current(self, feedback: Feedback) -> str:
        return current_mark(feedback, getattr(feedback, "latest_id", None))

    @admin.display(description=_("author"), ordering="author__username")
    def who(self, feedback: Feedback) -> str:
        return _who(feedback.author, feedback.session_key)

    @admin.action(description=_("Accept as training data"))
    def accept(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        count = feedback_set_accepted(feedback_ids=ids, accepted=True)
        self.message_user(request, ngettext("%(count)d correction accepted as training data.",
                                            "%(count)d corrections accepted as training data.", count)
                          % {"count": count})

    @admin.action(description=_("Do not use as training data"))
    def reject(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        count = feedback_set_accepted(feedback_ids=ids, accepted=False)
        self.message_user(request, ngettext("%(count)d correction set aside.",
                                            "%(count)d corrections set aside.", count) % {"count": count})


@admin.register(SiteFeedback)
class SiteFeedbackAdmin(admin.ModelAdmin):
    list_display = ["created", "message", "contact", "who", "page", "handled"]
    list_filter = ["handled"]
    search_fields = ["message", "contact", "author__username"]
    fields = ["message", "contact", "page", "who", "created", "handled"]
    readonly_fields = ["who", "message", "contact", "page", "created"]
    list_editable = ["handled"]

    def has_add_permission(self, request) -> bool:
        return False  # written by visitors, on the site

    @admin.display(description=_("author"))
    def who(self, feedback: SiteFeedback) -> str:
        return _who(feedback.author, feedback.session_key)
