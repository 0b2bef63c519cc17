"""Upload: one image and what DigitScan read in it; Batch: several sent together; Feedback: a correction."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from web.registry.models import ModelVersion
from web.status import JobStatus


def original_path(upload: Upload, filename: str) -> str:
    # The extension comes from the content check (filename is "original.jpg"/"original.png" by then),
    # never from what the client called its file.
    return f"uploads/{upload.id}/{filename}"


class Batch(models.Model):
    """Several images sent together (picked, dropped or pasted at once): one page follows them all.

    Owned exactly like an :class:`Upload` (a user, or an anonymous session's token), and moved with the
    uploads at login.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="batches", verbose_name=_("owner"))
    session_key = models.CharField(_("session token"), max_length=64, blank=True, db_index=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")

    def __str__(self) -> str:
        return gettext("batch %(id)s") % {"id": self.id}


class Upload(models.Model):
    """An image someone sent, its place in the queue, and the reading the worker wrote back."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("file upload")
        CANVAS = "canvas", _("drawn on the canvas")
        API = "api", _("API")

    Status = JobStatus

    # A random id: URLs cannot be guessed, and workers can be handed it before any lookup.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="uploads", verbose_name=_("owner"))
    # For anonymous visitors: a random token kept in their session (not Django's session key, which
    # changes at login, exactly when we need to find their uploads to move them to the account).
    session_key = models.CharField(_("session token"), max_length=64, blank=True, db_index=True)
    image = models.FileField(_("image"), upload_to=original_path, max_length=300)
    # What the person called the file (web.uploads.filenames.shown_name: made safe, at most 120
    # characters): shown beside its reading so that a batch's results can be matched to the files. Never
    # part of a storage path.
    name = models.CharField(_("file name"), max_length=200, blank=True,
                            help_text=_("the name of the file as sent, only shown"))
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.UPLOAD)
    # Null for an image sent on its own. Deleting a batch would leave its uploads in the history.
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads",
                              verbose_name=_("batch"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    text = models.TextField(_("text"), blank=True, help_text=_("the lines read, joined by spaces"))
    lines = models.JSONField(_("lines"), default=list, blank=True)
    digits = models.JSONField(_("digits"), default=list, blank=True)
    display = models.JSONField(_("lines as written"), default=list, blank=True,
                               help_text=_("each line as written, separators in place (1.500,00)"))
    separators = models.JSONField(_("separators"), default=list, blank=True,
                                  help_text=_("the . , - found between digits"))
    timings = models.JSONField(_("timings"), default=dict, blank=True, help_text=_("milliseconds per stage"))
    # The annotated image at full size (PNG: every pixel as read), for download and zooming in.
    annotated_image = models.FileField(_("annotated image"), blank=True, max_length=300)
    # The same as a JPEG sized for a screen (longest side 1,600 px, a few hundred kB): what pages show.
    # Empty for uploads read before it existed; pages fall back to the full-size image.
    screen_image = models.FileField(_("screen image"), blank=True, max_length=300)
    # A small JPEG of the annotated image for the history page (which would otherwise load full images).
    thumbnail = models.FileField(_("thumbnail"), blank=True, max_length=300)
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="uploads", verbose_name=_("model version"))
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0,
                                                help_text=_("deliveries to a worker so far"))
    # Delivery bookkeeping (docs/web.md, "Delivery guarantees"): when a message for it was last handed to
    # the broker (null: none was, e.g. the broker was down; the sweeper sends one), which process claimed
    # it ("host:pid:token", a new token per claim), and when that process last said it was still reading.
    enqueued_at = models.DateTimeField(_("sent to the queue at"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        indexes = [
            models.Index(fields=["owner", "-queued_at"], name="upload_owner_recent"),
            models.Index(fields=["session_key", "-queued_at"], name="upload_session_recent"),
        ]

    def __str__(self) -> str:
        # In the reader's language (the admin's titles, lists and messages): made when shown.
        return gettext("upload %(id)s (%(status)s)") % {"id": self.id, "status": self.get_status_display()}

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class SweepMark(models.Model):
    """When the upload sweeper last ran (one row): a long gap means the database or the broker was down,
    and a row that could not report meanwhile is not taken for dead (web.uploads.delivery)."""

    name = models.CharField(max_length=32, primary_key=True)
    ran_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"sweep {self.name} at {self.ran_at:%H:%M:%S}"


class Feedback(models.Model):
    """The digits an upload really shows, according to its owner; staff accept it as training data."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="feedback",
                               verbose_name=_("upload"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("author"))
    session_key = models.CharField(_("session token"), max_length=64, blank=True)
    # Text: a correction of one box of a 2,000-digit reading is as long as the reading.
    text = models.TextField(_("text"), blank=True,
                            help_text=_("the corrected digits, lines separated by spaces"))
    # What the correction changes, digit by digit, against the reading as the model made it (each
    # correction is complete: the latest is the upload's corrected reading): relabel, not_a_digit and add
    # operations, checked by web.uploads.corrections.checked_operations.
    operations = models.JSONField(_("operations"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    accepted = models.BooleanField(_("accepted"), default=False, help_text=_("use as training data"))
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")

    def __str__(self) -> str:
        return gettext("correction of %(upload)s: “%(text)s”") % {"upload": self.upload_id, "text": self.text}


class SiteFeedback(models.Model):
    """What a visitor tells us about the site itself (the home page's "问题反馈 / feedback" form)."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("author"))
    session_key = models.CharField(_("session token"), max_length=64, blank=True)
    message = models.TextField(_("message"), help_text=_("what the visitor wrote"))
    contact = models.CharField(_("contact"), max_length=200, blank=True,
                               help_text=_("an address to answer, if given"))
    page = models.CharField(_("page"), max_length=200, blank=True, help_text=_("the page it was sent from"))
    handled = models.BooleanField(_("handled"), default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("site feedback")
        verbose_name_plural = _("site feedback")

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d}: {self.message[:60]}"
