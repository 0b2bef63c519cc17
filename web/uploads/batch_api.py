"""Batches in the JSON API: several images sent together, and one status endpoint that follows them all.

``POST /api/v1/batches/`` with one or more ``image`` parts makes a batch of those that pass the checks
(each file checked on its own, against the upload rate too); ``POST /api/v1/batches/{id}/`` adds more to
it; ``GET /api/v1/batches/{id}/`` answers every item's recognition. One request body stays under
``DIGITSCAN_MAX_REQUEST_BYTES`` (2.5 MiB), so big images go one a request into the same batch.
"""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from web.errors import ApplicationError
from web.uploads.api import ERROR, RecognitionSerializer
from web.uploads.filenames import image_file, unreadable_names
from web.uploads.models import Batch, Upload
from web.uploads.owners import owner_from_request
from web.uploads.presenters import batch_as_dict
from web.uploads.selectors import batch_get_for, batch_list_for
from web.uploads.services import BatchItem, batch_add, batch_create, batch_includable
from web.uploads.throttles import upload_wait


class ItemErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class BatchItemSerializer(serializers.Serializer):
    """One entry per file sent, in order: the recognition it became, or why it was refused."""

    name = serializers.CharField(help_text="the file's name as sent (made safe to show, as the "
                                           "recognition's name)")
    id = serializers.UUIDField(required=False, help_text="the recognition's id (accepted files)")
    status = serializers.CharField(required=False, help_text="queued (accepted files)")
    url = serializers.URLField(required=False, help_text="the recognition's status endpoint")
    error = ItemErrorSerializer(required=False,
                                help_text="why this file was refused (nothing of it is stored)")


def _items(help_text: str) -> serializers.Serializer:
    return BatchItemSerializer(many=True, help_text=help_text)


BATCH_SENT = inline_serializer("BatchSent", {
    "id": serializers.UUIDField(), "url": serializers.URLField(help_text="the batch's status endpoint"),
    "page_url": serializers.URLField(help_text="the batch page for people"),
    "items": _items("one per file sent, in order")})
BATCH_REFUSED = inline_serializer("BatchRefused", {
    "error": inline_serializer("BatchRefusedError", {"code": serializers.CharField(),
                                                     "message": serializers.CharField()}),
    "items": _items("each file's error")})
IMAGES = {"multipart/form-data": inline_serializer("BatchImages", {
    "image": serializers.ListField(child=serializers.FileField(), help_text=(
        "one or more JPEG or PNG files, each as a part named image (2 MB each; 2.5 MiB a request)")),
    "source": serializers.ChoiceField(Upload.Source.choices, required=False),
    "upload": serializers.ListField(child=serializers.UUIDField(), required=False, help_text=(
        "new batches only: ids of your uploads in no batch to put in it with these images (the upload "
        "page sends a first file on its own and makes the batch with the second); left as they are when "
        "no image is accepted"))})}
SENT_RESPONSES = {
    202: OpenApiResponse(BATCH_SENT, description="at least one file accepted; the others' errors in items"),
    400: OpenApiResponse(BATCH_REFUSED, description="no file accepted (the first file's error)"),
    404: OpenApiResponse(ERROR),
    413: OpenApiResponse(ERROR, description="the request body is over the limit"),
    429: OpenApiResponse(BATCH_REFUSED, description="every file over the upload rate; see Retry-After")}


class BatchSerializer(serializers.Serializer):
    """Documentation of the answer; the answer itself is built by ``batch_as_dict``."""

    id = serializers.UUIDField()
    url = serializers.URLField(help_text="this status endpoint")
    page_url = serializers.URLField(help_text="the batch page for people")
    created = serializers.DateTimeField()
    status = serializers.ChoiceField(["running", "done"], help_text="done once every item is done or failed")
    count = serializers.IntegerField(help_text="items in the batch")
    finished = serializers.IntegerField(help_text="items done or failed")
    export_csv_url = serializers.URLField()
    export_json_url = serializers.URLField()
    items = RecognitionSerializer(many=True, help_text="in the order they were sent")


class _Sender:
    """The images of one request: each admitted by the upload rate, checked and stored on its own."""

    def __init__(self, request: Request) -> None:
        self.request, self.wait = request, 0
        self.files = request.FILES.getlist("image")
        if not self.files:
            image_file(request, request.FILES)  # bad_file_name when the only file had an unreadable name
            raise ApplicationError("empty", _("no image was sent (expected one or more JPEG or PNG files, "
                                              "each as a part named image)"))
        self.source = request.data.get("source") or Upload.Source.API

    def admit(self) -> ApplicationError | None:
        wait = upload_wait(self.request)
        if wait is None:
            return None
        self.wait = max(self.wait, wait)
        return ApplicationError("throttled", _("over the upload rate: wait %(wait)d s and send this image "
                                               "again") % {"wait": wait})

    def answer(self, batch: Batch | None, items: list[BatchItem]) -> Response:
        """202 with every item when any was accepted; else the first refusal (429: all over the rate)."""
        if unreadable_names(self.request._request):  # noqa: SLF001 - Django's request holds the body head
            items.append(BatchItem(name="?", error=ApplicationError("bad_file_name", _(
                "a file's name is not UTF-8 text, so it could not be taken: rename it and send it again"))))
        listed = [self._item(item) for item in items]
        if batch is None or not any(item.upload for item in items):
            first = next(item.error for item in items if item.error)
            throttled = all(item.error.code == "throttled" for item in items if item.error)
            response = Response({**first.as_dict(), "items": listed},
                                status=status.HTTP_429_TOO_MANY_REQUESTS if throttled else 400)
            if throttled:
                response["Retry-After"] = str(self.wait)
            return response
        page = batch_as_dict(batch, self.request, items=False)
        return Response({"id": page["id"], "url": page["url"], "page_url": page["page_url"], "items": listed},
                        status=status.HTTP_202_ACCEPTED)

    def _item(self, item: BatchItem) -> dict:
        if item.upload is None:
            return {"name": item.name, **item.error.as_dict()}
        url = self.request.build_absolute_uri(reverse("api-recognition-detail", args=[item.upload.id]))
        return {"name": item.name, "id": str(item.upload.id), "status": item.upload.status, "url": url}


class BatchListCreate(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=IMAGES, responses=SENT_RESPONSES, operation_id="v1_batches_create")
    def post(self, request: Request) -> Response:
        """Send several images at once: a batch of those that pass the checks (each checked on its own)."""
        sender, owner = _Sender(request), owner_from_request(request, create=True)
        include = batch_includable(owner=owner, upload_ids=request.data.getlist("upload"))
        batch, items = batch_create(owner=owner, image_files=sender.files, source=sender.source,
                                    admit=sender.admit, include=include)
        return sender.answer(batch, items)

    @extend_schema(operation_id="v1_batches_list", responses={200: inline_serializer("BatchPage", {
        "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": inline_serializer("BatchSummary", {
            "id": serializers.UUIDField(), "url": serializers.URLField(), "page_url": serializers.URLField(),
            "created": serializers.DateTimeField(), "status": serializers.CharField(),
            "count": serializers.IntegerField(), "finished": serializers.IntegerField()}, many=True)}),
        429: OpenApiResponse(ERROR)})
    def get(self, request: Request) -> Response:
        """The caller's batches, newest first, paginated (items: GET each batch)."""
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(batch_list_for(owner=owner_from_request(request)), request, self)
        summaries = [{k: v for k, v in batch_as_dict(b, request, items=False).items() if not k.startswith(
            "export_")} for b in page]
        return paginator.get_paginated_response(summaries)


class BatchDetail(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def _batch(self, request: Request, batch_id) -> Batch:
        batch = batch_get_for(owner=owner_from_request(request), batch_id=batch_id)
        if batch is None:
            raise Http404
        return batch

    @extend_schema(responses={200: BatchSerializer, 404: OpenApiResponse(ERROR), 429: OpenApiResponse(ERROR)})
    def get(self, request: Request, batch_id) -> Response:
        """One of the caller's batches: each item's status and, once done, its reading."""
        return Response(batch_as_dict(self._batch(request, batch_id), request))

    @extend_schema(request=IMAGES, responses=SENT_RESPONSES, operation_id="v1_batches_add")
    def post(self, request: Request, batch_id) -> Response:
        """Add images to one of the caller's batches (big images one a request: the body limit)."""
        batch, sender = self._batch(request, batch_id), _Sender(request)
        items = batch_add(batch=batch, owner=owner_from_request(request), image_files=sender.files,
                          source=sender.source, admit=sender.admit)
        return sender.answer(batch, items)
