"""Staff see every upload, feedback, model version and experiment run in the admin."""

from __future__ import annotations

import pytest

from tests.web.helpers import uploaded
from web.registry.services import model_version_ensure_active
from web.uploads.models import Feedback
from web.uploads.owners import Owner
from web.uploads.services import feedback_create, upload_create, upload_finish, upload_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    return client


def read_upload(alice, png):
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png), source="upload")
    upload_start(upload_id=upload.id)
    return upload_finish(upload_id=upload.id, reading={"text": "47", "lines": ["47"], "digits": [
        {"digit": d, "confidence": 0.9, "box": [10 * i, 0, 8, 8], "line": 0, "uncertain": False}
        for i, d in enumerate([4, 7])]}, timings={}, annotated_png=png, model_version=None)


def test_staff_see_everyones_uploads_and_feedback(staff_client, alice, png):
    upload = read_upload(alice, png)
    feedback = feedback_create(upload=upload, owner=Owner(user=alice), text="42")
    model_version_ensure_active()
    # What the correction changes, box by box, and what of it would train the next model.
    listing = staff_client.get("/admin/uploads/feedback/").content.decode()
    assert "47" in listing and "42" in listing and "1 digit" in listing and "current" in listing
    change = staff_client.get(f"/admin/uploads/feedback/{feedback.id}/change/").content.decode()
    assert "box 2, line 1 at [10, 0, 8, 8]: 7 → 2" in change
    other = feedback_create(upload=upload, owner=Owner(user=alice), operations=[
        {"op": "not_a_digit", "index": 0}, {"op": "add", "digit": 9, "box": [30, 0, 8, 8]},
        {"op": "add", "digit": 3, "line": 0, "position": 0}])
    change = staff_client.get(f"/admin/uploads/feedback/{other.id}/change/").content.decode()
    assert "box 1, line 1 at [0, 0, 8, 8]: 4 → not a digit" in change
    assert "added 9 in line 1 at [30, 0, 8, 8]" in change
    assert "added 3 in line 1 without a box (not training data until marked)" in change
    pages = ["uploads/upload/", f"uploads/upload/{upload.id}/change/", "uploads/feedback/",
             "registry/modelversion/", "registry/experimentrun/"]
    for url in (f"/admin/{page}" for page in pages):
        assert staff_client.get(url).status_code == 200, url
    assert str(upload.id) in staff_client.get("/admin/uploads/upload/").content.decode()


def test_staff_accept_feedback_as_training_data(staff_client, alice, png):
    upload = read_upload(alice, png)
    feedback = feedback_create(upload=upload, owner=Owner(user=alice), text="42")
    staff_client.post("/admin/uploads/feedback/", {"action": "accept", "_selected_action": [feedback.pk]})
    assert Feedback.objects.get().accepted


def test_ordinary_users_cannot_open_the_admin(alice_client):
    assert alice_client.get("/admin/uploads/upload/").status_code == 302


def test_register_model_command_adds_and_activates_a_checkpoint(tmp_path):
    from django.core.management import CommandError, call_command

    from ml.models.checkpoint import save_checkpoint
    from ml.models.classifiers import build
    from web.registry.models import ModelVersion

    path = save_checkpoint(build("cnn", {"channels": (8, 16), "linear": 16}), tmp_path / "mine.pt",
                           metrics={"accuracy": 0.5})
    call_command("register_model", str(path), "--activate")
    assert ModelVersion.objects.get(is_active=True).name == "mine"
    with pytest.raises(CommandError, match="No such file"):
        call_command("register_model", str(tmp_path / "missing.pt"))
