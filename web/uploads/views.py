"""Server-rendered pages: upload, result (polls the JSON API), history, and the owner-checked files."""

from __future__ import annotations

import json
import mimetypes

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from web.errors import ApplicationError
from web.uploads.corrections import training_counts
from web.uploads.filenames import image_file
from web.uploads.models import Upload
from web.uploads.owners import owner_from_request
from web.uploads.presenters import digit_rows, editor_words, shown_text, training_summary, upload_as_dict
from web.uploads.selectors import feedback_list_for, latest_correction, upload_get_for, upload_list_for
from web.uploads.services import feedback_create, site_feedback_create, upload_create, upload_delete
from web.uploads.throttles import SiteFeedbackRateThrottle, upload_wait

HISTORY_PAGE_SIZE = 12


def _owned(request: HttpRequest, upload_id) -> Upload:
    """The caller's upload or 404: someone else's upload is indistinguishable from none at all."""
    upload = upload_get_for(owner=owner_from_request(request), upload_id=upload_id)
    if upload is None:
        raise Http404("no such upload")
    return upload


@require_http_methods(["GET", "POST"])
def upload_page(request: HttpRequest) -> HttpResponse:
    """Pick, drag or draw an image; on success go to its result page."""
    if request.method == "GET":
        return render(request, "uploads/upload.html")
    wait = upload_wait(request)
    if wait is not None:
        messages.error(request, f"You are sending images faster than DigitScan takes them: wait {wait} s "
                       "and send this one again.")
        response = render(request, "uploads/upload.html", {"error_code": "throttled"}, status=429)
        response["Retry-After"] = str(wait)
        return response
    source = request.POST.get("source") or Upload.Source.UPLOAD
    try:
        upload = upload_create(owner=owner_from_request(request, create=True),
                               image_file=image_file(request, request.FILES), source=source)
    except ApplicationError as exc:
        messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
        return render(request, "uploads/upload.html", {"error_code": exc.code}, status=400)
    return redirect("result", upload_id=upload.id)


@require_GET
def result_page(request: HttpRequest, upload_id) -> HttpResponse:
    upload = _owned(request, upload_id)
    data = upload_as_dict(upload, request)
    return render(request, "uploads/result.html", {
        "upload": upload, "data": data, "marked_text": shown_text(upload),
        "lines": (data["corrected"] or data)["marked"], "feedback": feedback_list_for(upload=upload),
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
        messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
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
        upload.marked_text = shown_text(upload)  # corrected if it was, with its ? marks, as everywhere
        upload.corrected = latest_correction(upload) is not None
    return render(request, "uploads/history.html", {"page": page})


@require_GET
def upload_file(request: HttpRequest, upload_id, kind: str) -> FileResponse:
    """The original or annotated image, streamed from storage to its owner only (no public media URL)."""
    upload = _owned(request, upload_id)
    field = {"original": upload.image, "annotated": upload.annotated_image,
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
        messages.error(request, "Thank you, but that is a lot of feedback at once: try again in "
                       f"{wait // 60 + 1} minutes.")
        return redirect("upload")
    try:
        site_feedback_create(owner=owner_from_request(request, create=True),
                             message=request.POST.get("message", ""), contact=request.POST.get("contact", ""),
                             page=request.POST.get("page", ""))
        messages.success(request, "Thank you: your feedback reaches the team.")
    except ApplicationError as exc:
        messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
    return redirect("upload")


@require_POST
def upload_delete_page(request: HttpRequest, upload_id) -> HttpResponse:
    """Delete one of the caller's uploads and its files; back to the history."""
    upload = _owned(request, upload_id)
    try:
        upload_delete(upload=upload)
        messages.success(request, "The upload and its images are deleted.")
    except ApplicationError as exc:
        messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
        return redirect("result", upload_id=upload.id)
    return redirect("history")
