"""The staff-only JSON behind the run pages' live parts (wired as admin URLs in ``admin.RunAdmin``): runs'
progress, which the pages poll while a run is queued or running, and the add form's estimate."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from web.registry import run_pages
from web.registry.estimate import dry_run_images, duration_text, retrain_estimate

MAX_IDS = 100  # a list page shows at most this many runs


def progress_json(request: HttpRequest, runs) -> JsonResponse:
    """``?ids=3,4`` → ``{"runs": [progress of each of those among runs]}``; 400 for ids that are not."""
    try:
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip()][:MAX_IDS]
    except ValueError:
        return JsonResponse({"error": {"code": "bad_ids", "message": _("ids must be run numbers separated "
                                                                        "by commas")}}, status=400)
    found = runs.filter(id__in=ids).order_by("id")
    response = JsonResponse({"runs": [run_pages.progress(run) for run in found]})
    response["Cache-Control"] = "no-store"
    return response


def estimate_answer(params: dict) -> dict:
    """The estimate of a retrain with the checked ``params``, in words, with what it rests on."""
    estimate = retrain_estimate(params=params)
    if params["dry_run"]:
        detail = _("a dry run: two batches (%(images)s training images) of one epoch, then both models "
                   "scored on %(test)s test images") % {"images": f"{dry_run_images(params):,}",
                                                        "test": f"{estimate.test_images:,}"}
    else:
        detail = _("%(epochs)s epochs × %(images)s training images, then both models scored on %(test)s "
                   "test images") % {"epochs": estimate.epochs, "images": f"{estimate.train_images:,}",
                                     "test": f"{estimate.test_images:,}"}
    return {"seconds": round(estimate.seconds, 1), "text": duration_text(estimate.seconds),
            "detail": _("(%(detail)s)") % {"detail": detail},  # brackets of the reader's language
            "basis": estimate.basis.text()}


def estimate_json(form) -> JsonResponse:
    """The add form's fields (a bound ``RetrainForm``) → their estimate, or the form's errors."""
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return JsonResponse({"error": {"code": "bad_params", "message": " ".join(errors)}}, status=400)
    return JsonResponse(estimate_answer(form.params))
