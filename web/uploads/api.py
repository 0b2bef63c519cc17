"""The JSON API under /api/v1/ (DESIGN.md's HTTP contract): parse, call one service or selector, answer.

Every error, ours or DRF's, has one shape: ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import json

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from web.errors import ApplicationError
from web.uploads.corrections import training_counts
from web.uploads.filenames import image_file
from web.uploads.models import Upload
from web.uploads.owners import owner_from_request
from web.uploads.presenters import corrected_as_dict, training_summary, upload_as_dict
from web.uploads.selectors import upload_get_for, upload_get_viewable, upload_list_for
from web.uploads.services import feedback_create, upload_create, upload_delete
from web.uploads.throttles import UploadRateThrottle


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, with every error answered as ``{"error": {"code", "message"}}``."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "invalid"
        message = exc.detail if isinstance(exc.detail, str) else _flatten(exc.detail)
        response.data = {"error": {"code": str(code), "message": str(message)}}
    return response


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(v) for v in detail)
    return str(detail)


ERROR = inline_serializer("Error", {"error": inline_serializer("ErrorBody", {
    "code": serializers.CharField(), "message": serializers.CharField()})})


class AlternativeSerializer(serializers.Serializer):
    digit = serializers.IntegerField()
    confidence = serializers.FloatField()


class DigitSerializer(serializers.Serializer):
    digit = serializers.IntegerField()
    confidence = serializers.FloatField()
    box = serializers.ListField(child=serializers.IntegerField(), help_text="x, y, w, h in pixels")
    line = serializers.IntegerField()
    uncertain = serializers.BooleanField()
    alternatives = AlternativeSerializer(many=True, help_text=(
        "the likeliest digits (at most three), best first: the digit read with its confidence, then the "
        "others; together at most 1"))


class SeparatorSerializer(serializers.Serializer):
    char = serializers.ChoiceField([".", ",", "-"], help_text="never a digit, never in text or lines")
    box = serializers.ListField(child=serializers.IntegerField(), help_text="x, y, w, h in pixels")
    line = serializers.IntegerField()


class CorrectedDigitSerializer(serializers.Serializer):
    digit = serializers.IntegerField()
    box = serializers.ListField(child=serializers.IntegerField(), allow_null=True,
                                help_text="x, y, w, h in pixels; null for a digit added without a box")
    line = serializers.IntegerField(help_text="its line in the corrected lines")
    read_line = serializers.IntegerField(help_text="the reading's line it belongs to (a new one: the count "
                                                   "of the reading's lines or more)")
    index = serializers.IntegerField(allow_null=True, help_text="its place in digits (null: added)")
    read = serializers.IntegerField(allow_null=True, help_text="the digit the model read there")
    uncertain = serializers.BooleanField(help_text="read as uncertain and left alone by the correction")
    change = serializers.ChoiceField(["", "relabel", "confirm", "add"])


class TrainingCountsSerializer(serializers.Serializer):
    digits = serializers.IntegerField(help_text="labelled digits (relabelled, confirmed, added with a box)")
    not_a_digit = serializers.IntegerField(help_text="boxes that hold no digit: not-a-digit samples")
    without_box = serializers.IntegerField(help_text="digits added without a box: not training data "
                                                     "until boxed")


class CorrectionOperationSerializer(serializers.Serializer):
    """One operation of a correction (checked by ``web.uploads.corrections``; documentation only)."""

    op = serializers.ChoiceField(["relabel", "not_a_digit", "add"])
    index = serializers.IntegerField(required=False, help_text="relabel, not_a_digit: the box, as its "
                                                               "place in the recognition's digits (from 0)")
    digit = serializers.IntegerField(required=False, min_value=0, max_value=9,
                                     help_text="relabel, add: the digit it really is")
    box = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True,
                                min_length=4, max_length=4,
                                help_text="add: x, y, w, h in pixels of the original image (at least 3×3, "
                                          "inside it); without a box the digit corrects the text only")
    line = serializers.IntegerField(required=False, help_text="add: the reading's line (from 0; the count of "
                                                              "its lines or more: a new line after them); "
                                                              "found from the box when left out")
    position = serializers.IntegerField(required=False, min_value=0,
                                        help_text="add without a box: its place in the line (from 0)")


class CorrectedSerializer(serializers.Serializer):
    feedback_id = serializers.IntegerField()
    created = serializers.DateTimeField()
    accepted = serializers.BooleanField(help_text="accepted by staff as training data")
    text = serializers.CharField()
    lines = serializers.ListField(child=serializers.CharField())
    display = serializers.ListField(child=serializers.CharField())
    marked = serializers.ListField(child=serializers.CharField(),
                                   help_text="as written, ? after each digit still uncertain and uncorrected")
    digits = CorrectedDigitSerializer(many=True)
    not_a_digit = serializers.ListField(child=serializers.IntegerField(),
                                        help_text="the boxes (places in digits) that hold no digit")
    operations = CorrectionOperationSerializer(many=True)
    training = TrainingCountsSerializer()


class RecognitionSerializer(serializers.Serializer):
    """Documentation of the answer; the answer itself is built by ``upload_as_dict``."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(Upload.Status.choices)
    url = serializers.URLField(help_text="this status endpoint")
    page_url = serializers.URLField(help_text="the result page for people")
    name = serializers.CharField(help_text="the file's name as sent (without any path, control characters "
                                           "removed, at most 120 characters); only shown, never a path")
    source = serializers.ChoiceField(Upload.Source.choices)
    text = serializers.CharField()
    lines = serializers.ListField(child=serializers.CharField(), help_text="each line's digits only")
    digits = DigitSerializer(many=True)
    display = serializers.ListField(child=serializers.CharField(),
                                    help_text="each line as written, its separators in place (1.500,00)")
    marked = serializers.ListField(child=serializers.CharField(),
                                   help_text="each line as written, ? after each uncertain digit (1.5?00,00)")
    separators = SeparatorSerializer(many=True)
    annotated_image_url = serializers.URLField(allow_null=True,
                                               help_text="the annotated image at full size (PNG)")
    screen_image_url = serializers.URLField(allow_null=True, help_text=(
        "the annotated image sized for a screen (JPEG, longest side 1,600 px); null for uploads read "
        "before it existed"))
    thumbnail_url = serializers.URLField(allow_null=True, help_text="a 320 px JPEG of the annotated image")
    image_url = serializers.URLField()
    model_version = serializers.CharField(allow_null=True)
    timings_ms = serializers.DictField(child=serializers.FloatField(), help_text="per stage of reading")
    attempts = serializers.IntegerField(help_text="deliveries to a worker so far")
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    error = inline_serializer("RecognitionError", {"code": serializers.CharField(),
                                                   "message": serializers.CharField()}, allow_null=True)
    corrected = CorrectedSerializer(allow_null=True, help_text="the owner's latest correction applied to "
                                    "the reading (text, lines, digits above stay what the model read)")


class FeedbackInput(serializers.Serializer):
    """A correction: ``text`` or ``operations`` (checked by the service, which names what is wrong)."""

    text = serializers.CharField(max_length=1000, required=False,
                                 help_text="the digits the image shows, lines separated by spaces, aligned "
                                           "to the boxes by edit distance; a ? left after a digit keeps it "
                                           "uncertain")
    operations = serializers.JSONField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if ("text" in attrs) == ("operations" in attrs):
            raise serializers.ValidationError("send either text or operations")
        if isinstance(attrs.get("operations"), str):  # a form field holds JSON text
            try:
                attrs["operations"] = json.loads(attrs["operations"])
            except ValueError as exc:
                raise serializers.ValidationError({"operations": f"not JSON: {exc}"}) from exc
        return attrs


class CorrectionSerializer(serializers.Serializer):
    """What ``FeedbackInput`` takes, as the schema shows it."""

    text = serializers.CharField(max_length=1000, required=False, help_text=(
        "the digits the image shows, lines separated by spaces (\"12 3\"), aligned to the boxes by edit "
        "distance: a changed digit relabels its box, a missing one marks its box not a digit, an extra one "
        "is a missed digit added without a box; a ? left after a digit keeps it uncertain"))
    operations = CorrectionOperationSerializer(many=True, required=False, help_text=(
        "instead of text: the correction digit by digit, against the digits as the model read them"))
    comment = serializers.CharField(required=False, allow_blank=True)


class RecognitionListCreate(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def get_throttles(self):
        """Sending an image counts against the client's upload rate too (web/uploads/throttles.py)."""
        extra = [UploadRateThrottle()] if self.request.method == "POST" else []
        return super().get_throttles() + extra

    @extend_schema(
        request={"multipart/form-data": inline_serializer("RecognitionCreate", {
            "image": serializers.FileField(), "source": serializers.ChoiceField(
                Upload.Source.choices, required=False)})},
        responses={202: inline_serializer("RecognitionQueued", {
            "id": serializers.UUIDField(), "status": serializers.CharField(), "url": serializers.URLField()}),
            400: OpenApiResponse(ERROR, description="bad input, answered at once and never queued"),
            413: OpenApiResponse(ERROR, description="the request body is over the limit (refused unread)"),
            429: OpenApiResponse(ERROR, description="over the upload rate; Retry-After says when to retry")},
    )
    def post(self, request: Request) -> Response:
        """Queue an image for reading (JPEG or PNG, by content)."""
        owner = owner_from_request(request, create=True)
        source = request.data.get("source") or Upload.Source.API
        upload = upload_create(owner=owner, image_file=image_file(request, request.FILES), source=source)
        url = request.build_absolute_uri(reverse("api-recognition-detail", args=[upload.id]))
        return Response({"id": str(upload.id), "status": upload.status, "url": url},
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(operation_id="v1_recognitions_list", responses={200: inline_serializer("RecognitionPage", {
        "count": serializers.IntegerField(help_text="uploads in all"),
        "next": serializers.URLField(allow_null=True, help_text="the next (older) page"),
        "previous": serializers.URLField(allow_null=True),
        "results": RecognitionSerializer(many=True, help_text="20 a page, newest first")}),
        429: OpenApiResponse(ERROR)})
    def get(self, request: Request) -> Response:
        """The caller's own uploads, newest first, paginated."""
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(upload_list_for(owner=owner_from_request(request)), request, self)
        return paginator.get_paginated_response([upload_as_dict(u, request) for u in page])


class RecognitionDetail(APIView):
    @extend_schema(responses={200: RecognitionSerializer, 404: OpenApiResponse(ERROR),
                              429: OpenApiResponse(ERROR)})
    def get(self, request: Request, upload_id) -> Response:
        """One of the caller's uploads (staff: any upload): its status and, once done, the reading."""
        upload = upload_get_viewable(owner=owner_from_request(request), upload_id=upload_id)
        if upload is None:
            raise Http404
        return Response(upload_as_dict(upload, request))

    @extend_schema(responses={204: None, 400: OpenApiResponse(ERROR, description="still being read (busy)"),
                              404: OpenApiResponse(ERROR)})
    def delete(self, request: Request, upload_id) -> Response:
        """Delete one of the caller's finished uploads, its corrections and its images."""
        upload = upload_get_for(owner=owner_from_request(request), upload_id=upload_id)
        if upload is None:
            raise Http404
        upload_delete(upload=upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecognitionFeedback(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=CorrectionSerializer, responses={201: inline_serializer("FeedbackCreated", {
        "id": serializers.IntegerField(), "text": serializers.CharField(help_text="the corrected digits"),
        "corrected": CorrectedSerializer(), "training": TrainingCountsSerializer(),
        "message": serializers.CharField(help_text="what of it will train the next model, in words")}),
        400: OpenApiResponse(ERROR, description="not_done, bad_feedback, bad_correction (names the operation "
                                                "and what is wrong), no_change, invalid"),
        404: OpenApiResponse(ERROR)})
    def post(self, request: Request, upload_id) -> Response:
        """Correct the digits read in one of the caller's uploads: typed text, or digit by digit.

        Each correction is complete and replaces the one before; once staff accept it, it is training data.
        """
        owner = owner_from_request(request)
        upload = upload_get_for(owner=owner, upload_id=upload_id)
        if upload is None:
            raise Http404
        data = FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = feedback_create(upload=upload, owner=owner, **data.validated_data)
        return Response({"id": feedback.id, "text": feedback.text,
                         "corrected": corrected_as_dict(upload, feedback),
                         "training": training_counts(feedback.operations),
                         "message": training_summary(feedback.operations)}, status=status.HTTP_201_CREATED)


class TokenCreate(APIView):
    """An integrator's key: ``POST {"username", "password"}`` → ``{"token"}``, the same key each time."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]
    authentication_classes: list = []

    @extend_schema(request=AuthTokenSerializer, responses={200: inline_serializer("Token", {
        "token": serializers.CharField(help_text='send as the header "Authorization: Token <token>"')}),
        400: OpenApiResponse(ERROR, description="missing_credentials, bad_credentials"),
        429: OpenApiResponse(ERROR, description="sign-ins locked out")})
    def post(self, request: Request) -> Response:
        # Django's request, not DRF's: the sign-in lock-out marks it, and its middleware answers 429.
        data = AuthTokenSerializer(data=request.data, context={"request": request._request})
        if not data.is_valid():
            # One sentence in the reader's language, not DRF's "non_field_errors: Unable to log in with
            # provided credentials." (and never which of the two was wrong).
            if not (request.data.get("username") and request.data.get("password")):
                raise ApplicationError("missing_credentials", gettext("send both username and password"))
            raise ApplicationError("bad_credentials", gettext("that user name and password do not match an "
                                                              "account"))
        token, _ = Token.objects.get_or_create(user=data.validated_data["user"])
        return Response({"token": token.key})
