"""URLs: pages at the top, the JSON API under /api/v1/, the schema at /api/schema/."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from web import http_errors
from web.registry import views as registry_views
from web.uploads import api, batch_api, exports, views

api_v1 = [
    path("recognitions/", api.RecognitionListCreate.as_view(), name="api-recognition-list"),
    path("recognitions/<uuid:upload_id>/", api.RecognitionDetail.as_view(), name="api-recognition-detail"),
    path("recognitions/<uuid:upload_id>/feedback/", api.RecognitionFeedback.as_view(),
         name="api-recognition-feedback"),
    path("batches/", batch_api.BatchListCreate.as_view(), name="api-batch-list"),
    path("batches/<uuid:batch_id>/", batch_api.BatchDetail.as_view(), name="api-batch-detail"),
    path("token/", api.TokenCreate.as_view(), name="api-token"),
]

urlpatterns = [
    path("", views.upload_page, name="upload"),
    path("r/<uuid:upload_id>/", views.result_page, name="result"),
    path("r/<uuid:upload_id>/feedback/", views.feedback_submit, name="feedback"),
    path("r/<uuid:upload_id>/delete/", views.upload_delete_page, name="upload-delete"),
    path("r/<uuid:upload_id>/<str:kind>.image", views.upload_file, name="upload-file"),
    path("b/<uuid:batch_id>/", views.batch_page, name="batch"),
    path("b/<uuid:batch_id>/export.csv", exports.batch_csv, name="batch-csv"),
    path("b/<uuid:batch_id>/export.json", exports.batch_json, name="batch-json"),
    path("history/", views.history_page, name="history"),
    path("feedback/", views.site_feedback, name="site-feedback"),
    path("history/export.csv", exports.history_csv, name="history-csv"),
    path("history/export.json", exports.history_json, name="history-json"),
    path("experiments/", registry_views.experiments_page, name="experiments"),
    path("experiments/runs/<int:run_id>/<str:name>", registry_views.experiment_file, name="experiment-file"),
    path("experiments/committed/<str:folder>/<str:name>", registry_views.committed_file,
         name="experiment-committed-file"),
    path("model/", registry_views.model_page, name="model"),
    path("model/<int:version_id>/confusion.png", registry_views.confusion_image, name="model-confusion"),
    path("accounts/", include("web.accounts.urls")),
    # The header's language switch: Django's set_language (POST language, next), remembered in a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Interactive docs, every file from this site (works offline).
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # A handful of small files: served by Django itself (also under gunicorn) so that no extra server
    # or package is needed; a CDN or reverse proxy may take this over at scale.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]

# Django's own errors (no URL matched, a crash, a bad request): JSON under /api/, a page elsewhere.
handler400, handler403, handler404, handler500 = (http_errors.error_view(s) for s in (400, 403, 404, 500))
