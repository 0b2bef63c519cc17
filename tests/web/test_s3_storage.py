"""django-storages against a real S3-compatible server (moto's, on 127.0.0.1): upload, read back, serve."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from tests.web.helpers import uploaded
from web.uploads.models import Upload
from web.uploads.owners import Owner
from web.uploads.services import upload_create, upload_finish, upload_start

BUCKET = "digitscan-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server in its own process, with one empty bucket."""
    import boto3

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.1)
        boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                     aws_secret_access_key="test").create_bucket(Bucket=BUCKET)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def s3_storage(settings, s3_server):
    """Point default storage at the bucket, exactly as DIGITSCAN_STORAGE=s3 does in settings."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": s3_server, "region_name": "us-east-1",
                    "access_key": "test", "secret_key": "test", "default_acl": None,
                    "querystring_auth": True, "file_overwrite": True},
    }}
    import boto3

    return boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")


@pytest.mark.django_db
def test_uploads_and_annotations_live_in_the_bucket_and_are_served_to_their_owner(s3_storage, alice_client,
                                                                                 alice, png):
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png), source="upload")
    stored = s3_storage.get_object(Bucket=BUCKET, Key=upload.image.name)["Body"].read()
    assert stored == png
    upload_start(upload_id=upload.id)
    upload_finish(upload_id=upload.id, reading={"text": "", "lines": [], "digits": []}, timings={},
                  annotated_png=png, model_version=None)
    keys = {o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {f"uploads/{upload.id}/original.png", f"uploads/{upload.id}/annotated.png"} <= keys
    response = alice_client.get(f"/r/{upload.id}/annotated.image")
    assert response.status_code == 200 and b"".join(response.streaming_content) == png
    assert Upload.objects.get().annotated_image.name == f"uploads/{upload.id}/annotated.png"


@pytest.mark.django_db
def test_a_model_version_checkpoint_is_stored_in_the_bucket_and_loaded_from_it(s3_storage, tmp_path,
                                                                               settings):
    from web.registry.services import model_version_ensure_active
    from worker import model_cache

    settings.VAR_DIR = tmp_path
    version = model_version_ensure_active()
    assert s3_storage.head_object(Bucket=BUCKET, Key=version.checkpoint.name)["ContentLength"] > 0
    assert model_cache.local_checkpoint(version).parent == tmp_path / "model-cache"
    assert model_cache.load(version).model.family == "cnn"
