"""Upload: one image and what DigitScan read in it; Feedback: its owner's correction."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from web.registry.models import ModelVersion
from web.status import JobStatus


def original_path(upload: Upload, filename: str) -> str:
    # The extension comes from the content check (filename is "original.jpg"/"original.png" by then),
    # never from what the client called its file.
    return f"uploads/{upload.id}/{filename}"


class Upload(models.Model):
    """An image someone sent, its place in the queue, and the reading the worker wrote back."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "file upload"
        CANVAS = "canvas", "drawn on the canvas"
        API = "api", "API"

    Status = JobStatus

    # A random id: URLs cannot be guessed, and workers can be handed it before any lookup.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="uploads")
    # For anonymous visitors: a random token kept in their session (not Django's session key, which
    # changes at login, exactly when we need to find their uploads to move them to the account).
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    image = models.FileField(upload_to=original_path, max_length=300)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.UPLOAD)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    text = models.TextField(blank=True, help_text="the lines read, joined by spaces")
    lines = models.JSONField(default=list, blank=True)
    digits = models.JSONField(default=list, blank=True)
    display = models.JSONField(default=list, blank=True,
                               help_text="each line as written, separators in place (1.500,00)")
    separators = models.JSONField(default=list, blank=True, help_text="the . , - found between digits")
    timings = models.JSONField(default=dict, blank=True, help_text="milliseconds per stage")
    annotated_image = models.FileField(blank=True, max_length=300)
    # A small JPEG of the annotated image for the history page (which would otherwise load full images).
    thumbnail = models.FileField(blank=True, max_length=300)
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="uploads")
    queued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="deliveries to a worker so far")
    # Delivery bookkeeping (docs/web.md, "Delivery guarantees"): when a message for it was last handed to
    # the broker (null: none was, e.g. the broker was down; the sweeper sends one), which process claimed
    # it ("host:pid:token", a new token per claim), and when that process last said it was still reading.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["owner", "-queued_at"], name="upload_owner_recent"),
            models.Index(fields=["session_key", "-queued_at"], name="upload_session_recent"),
        ]

    def __str__(self) -> str:
        return f"upload {self.id} ({self.status})"

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

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="feedback")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    session_key = models.CharField(max_length=64, blank=True)
    # Text: a correction of one box of a 2,000-digit reading is as long as the reading.
    text = models.TextField(blank=True, help_text="the corrected digits, lines separated by spaces")
    # What the correction changes, digit by digit, against the reading as the model made it (each
    # correction is complete: the latest is the upload's corrected reading): relabel, not_a_digit and add
    # operations, checked by web.uploads.corrections.checked_operations.
    operations = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    accepted = models.BooleanField(default=False, help_text="use as training data")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"correction of {self.upload_id}: {self.text!r}"


class SiteFeedback(models.Model):
    """What a visitor tells us about the site itself (the home page's "问题反馈 / feedback" form)."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    session_key = models.CharField(max_length=64, blank=True)
    message = models.TextField(help_text="what the visitor wrote")
    contact = models.CharField(max_length=200, blank=True, help_text="an address to answer, if given")
    page = models.CharField(max_length=200, blank=True, help_text="the page it was sent from")
    handled = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "site feedback"
        verbose_name_plural = "site feedback"

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d}: {self.message[:60]}"
