"""Server-rendered pages: upload, result and batch (both poll the JSON API), history, and the
owner-checked files."""

from __future__ import annotations

import json
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from web.errors import ApplicationError, as_sentence
from web.uploads.corrections import training_counts
from web.uploads.filenames import image_file
from web.uploads.limits import SHRINK_SIDE
from web.uploads.models import Upload
from web.uploads.owners import owner_from_request
from web.uploads.presenters import (
    batch_as_dict,
    correction_of,
    digit_rows,
    editor_words,
    shown_lines,
    shown_reading,
    shown_text,
    training_summary,
    upload_as_dict,
)
from web.uploads.selectors import (
    batch_get_for,
    batch_list_for,
    feedback_list_for,
    upload_get_for,
    upload_get_viewable,
    upload_list_for,
)
from web.uploads.services import (
    batch_create,
    feedback_create,
    site_feedback_create,
    upload_create,
    upload_delete,
)
from web.uploads.throttles import SiteFeedbackRateThrottle, upload_wait

HISTORY_PAGE_SIZE = 12
HISTORY_BATCHES = 20  # the latest batches listed above the uploads

# What the pages' scripts say, translated here ({name}: filled in by the script).
UPLOAD_STRINGS = {
    "send_one": gettext_lazy("Read the digits"), "send_many": gettext_lazy("Read the digits of {n} images"),
    "remove": gettext_lazy("Remove"), "shrinking": gettext_lazy("Making the photo smaller for sending…"),
    "shrunk": gettext_lazy("made smaller for sending: {before} → {after}"),
    "megabytes": gettext_lazy("{n} MB"), "kilobytes": gettext_lazy("{n} kB"),
    "sending": gettext_lazy("Sending…"), "sent": gettext_lazy("Sent"),
    "waiting": gettext_lazy("DigitScan takes a limited number of images a minute: sending again in {s} s…"),
    "failed": gettext_lazy("Could not be sent (HTTP {status})."),
    "network": gettext_lazy("The connection failed: check it and send again."),
    "nothing": gettext_lazy("Choose, drop or paste an image first."),
    "some_failed": gettext_lazy("{sent} of {total} sent. The others say why beside them: remove or replace "
                                "them and send again."),
    "none_sent": gettext_lazy("None of the {total} was sent. Each says why beside it: remove or replace "
                              "them and send again."),
    "only_refused": gettext_lazy("The files left were refused as they are (each says why beside it): remove "
                                 "or replace them, or add others."),
    "open_batch": gettext_lazy("Open the batch page"), "open_result": gettext_lazy("Open the result"),
    "pasted": gettext_lazy("pasted-image"), "full_stop": pgettext_lazy("the end of a sentence", "."),
}
BATCH_STRINGS = {
    "queued": gettext_lazy("Waiting in the queue…"), "running": gettext_lazy("Reading the digits…"),
    "done": gettext_lazy("Done"), "empty": gettext_lazy("No digits found"),
    "failed": gettext_lazy("Failed: {message}"),
    "progress": gettext_lazy("{finished} of {count} read"), "all_done": gettext_lazy("All {count} read."),
    "open": gettext_lazy("Open the result"),
}


def _owned(request: HttpRequest, upload_id) -> Upload:
    """The caller's upload or 404: someone else's upload is indistinguishable from none at all."""
    upload = upload_get_for(owner=owner_from_request(request), upload_id=upload_id)
    if upload is None:
        raise Http404("no such upload")
    return upload


def _viewable(request: HttpRequest, upload_id) -> Upload:
    """The caller's upload, or any for staff (to look at, not to change); else 404 as :func:`_owned`."""
    upload = upload_get_viewable(owner=owner_from_request(request), upload_id=upload_id)
    if upload is None:
        raise Http404("no such upload")
    return upload


def _upload_form(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    """The upload page, with the limits its script shrinks big photos to (and says in its messages)."""
    limits = {"max_bytes": settings.DIGITSCAN_MAX_UPLOAD_BYTES, "max_pixels": settings.DIGITSCAN_MAX_PIXELS,
              "shrink_side": SHRINK_SIDE}
    return render(request, "uploads/upload.html", {"limits": limits, "upload_strings": UPLOAD_STRINGS,
                                                   **context}, status=status)


@require_http_methods(["GET", "POST"])
def upload_page(request: HttpRequest) -> HttpResponse:
    """Pick, drag, paste or draw images; one goes to its result page, several to their batch's.

    The page's script sends files through the API (keeping the selection after an error); this is the
    form's own submission, for browsers without it.
    """
    if request.method == "GET":
        return _upload_form(request)
    source = request.POST.get("source") or Upload.Source.UPLOAD
    files = request.FILES.getlist("image")
    if len(files) > 1:
        return _batch_from_form(request, files, source)
    wait = upload_wait(request)
    if wait is not None:
        messages.error(request, _("You are sending images faster than DigitScan takes them: wait "
                                  "%(seconds)d s and send this one again.") % {"seconds": wait})
        response = _upload_form(request, 429, error_code="throttled")
        response["Retry-After"] = str(wait)
        return response
    try:
        upload = upload_create(owner=owner_from_request(request, create=True),
                               image_file=image_file(request, request.FILES), source=source)
    except ApplicationError as exc:
        messages.error(request, as_sentence(exc.message))
        return _upload_form(request, 400, error_code=exc.code)
    return redirect("result", upload_id=upload.id)


def _batch_from_form(request: HttpRequest, files: list, source: str) -> HttpResponse:
    def admit() -> ApplicationError | None:
        wait = upload_wait(request)
        return None if wait is None else ApplicationError("throttled", _(
            "you are sending images faster than DigitScan takes them: wait %(wait)d s and send it "
            "again") % {"wait": wait})

    try:
        batch, items = batch_create(owner=owner_from_request(request, create=True), image_files=files,
                                    source=source, admit=admit)
    except ApplicationError as exc:
        messages.error(request, as_sentence(exc.message))
        return _upload_form(request, 400, error_code=exc.code)
    for item in items:
        if item.error is not None:
            messages.error(request, f"{item.name}: {item.error.message}")
    if batch is None:
        return _upload_form(request, 400, error_code="no_image_accepted")
    return redirect("batch", batch_id=batch.id)


@require_GET
def batch_page(request: HttpRequest, batch_id) -> HttpResponse:
    """A batch's images as their readings come in (the page polls the batch's status endpoint)."""
    batch = batch_get_for(owner=owner_from_request(request), batch_id=batch_id)
    if batch is None:
        raise Http404("no such batch")
    data = batch_as_dict(batch, request)
    shown = [" ".join(shown_lines(item)) for item in data["items"]]
    return render(request, "uploads/batch.html", {"batch": batch, "data": data, "strings": BATCH_STRINGS,
                                                  "items": list(zip(data["items"], shown))})


@require_GET
def result_page(request: HttpRequest, upload_id) -> HttpResponse:
    upload = _viewable(request, upload_id)
    data = upload_as_dict(upload, request)
    # Staff looking at someone else's upload see it as it is, without its owner's editor and delete button.
    mine = upload_get_for(owner=owner_from_request(request), upload_id=upload.id) is not None
    return render(request, "uploads/result.html", {
        "upload": upload, "data": data, "mine": mine, "marked_text": shown_text(upload),
        "lines": shown_lines(data), "feedback": feedback_list_for(upload=upload),
        "rows": digit_rows(data), "words": editor_words(),
    })


@require_POST
def feedback_submit(request: HttpRequest, upload_id) -> HttpResponse:
    """The result page's correction: digit by digit (``operations``, JSON from the page's editor) or typed
    text aligned to the boxes; the thanks say what of it will train the next model."""
    upload = _owned(request, upload_id)
    try:
        operations = json.loads(request.POST["operations"]) if request.POST.get("operations") else None
    except ValueError:
        messages.error(request, _("The correction could not be read; please send it again."))
        return redirect("result", upload_id=upload.id)
    try:
        feedback = feedback_create(upload=upload, owner=owner_from_request(request),
                                   text=None if operations is not None else request.POST.get("text", ""),
                                   operations=operations, comment=request.POST.get("comment", ""))
    except ApplicationError as exc:
        messages.error(request, as_sentence(exc.message))
        return redirect("result", upload_id=upload.id)
    summary = training_summary(feedback.operations)
    messages.success(request, _("Thank you: your correction is saved. Once staff accept it, it teaches the "
                                "next model (%(summary)s).") % {"summary": summary})
    if training_counts(feedback.operations)["without_box"]:
        messages.warning(request, _("Mark where each added digit is on the image below (\"Mark on the "
                                    "image\"): only then can it teach the next model."))
    return redirect("result", upload_id=upload.id)


@require_GET
def history_page(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(upload_list_for(owner=owner_from_request(request)), HISTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    for upload in page.object_list:
        upload.marked_text = shown_reading(upload)  # corrected if it was, with its ? marks, as everywhere
        upload.corrected = correction_of(upload) is not None
    # (A batch whose uploads were all deleted is left out: there is nothing in it to see.)
    batches = batch_list_for(owner=owner_from_request(request)).filter(size__gt=0)[:HISTORY_BATCHES]
    return render(request, "uploads/history.html", {"page": page, "batches": batches})


@require_GET
def upload_file(request: HttpRequest, upload_id, kind: str) -> FileResponse:
    """The original or annotated image, streamed from storage to its owner (or staff) only: no public
    media URL."""
    upload = _viewable(request, upload_id)
    field = {"original": upload.image, "annotated": upload.annotated_image, "screen": upload.screen_image,
             "thumbnail": upload.thumbnail}.get(kind)
    if not field or not default_storage.exists(field.name):
        raise Http404("no such file")
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    extension = mimetypes.guess_extension(content_type) or ""
    # ?download: saved as a file (digitscan-<id>-annotated.png) rather than shown.
    response = FileResponse(default_storage.open(field.name, "rb"), content_type=content_type,
                            as_attachment="download" in request.GET,
                            filename=f"digitscan-{upload.id}-{kind}{extension}")
    # Private: a shared cache must never hand one person's image to another.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def site_feedback(request: HttpRequest) -> HttpResponse:
    """The home page's "问题反馈 / feedback" form: stored for staff (the admin's Site feedback)."""
    wait = upload_wait(request, SiteFeedbackRateThrottle())
    if wait is not None:
        messages.error(request, _("Thank you, but that is a lot of feedback at once: try again in "
                                  "%(minutes)d minutes.") % {"minutes": wait // 60 + 1})
        return redirect("upload")
    try:
        site_feedback_create(owner=owner_from_request(request, create=True),
                             message=request.POST.get("message", ""), contact=request.POST.get("contact", ""),
                             page=request.POST.get("page", ""))
        messages.success(request, _("Thank you: your feedback reaches the team."))
    except ApplicationError as exc:
        messages.error(request, as_sentence(exc.message))
    return redirect("upload")


@require_POST
def upload_delete_page(request: HttpRequest, upload_id) -> HttpResponse:
    """Delete one of the caller's uploads and its files; back to the history."""
    upload = _owned(request, upload_id)
    try:
        upload_delete(upload=upload)
        messages.success(request, _("The upload and its images are deleted."))
    except ApplicationError as exc:
        messages.error(request, as_sentence(exc.message))
        return redirect("result", upload_id=upload.id)
    return redirect("history")
