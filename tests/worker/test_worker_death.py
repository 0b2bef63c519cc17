"""Workers die mid-task (SIGKILL) and every upload still completes, exactly once, with no one's help."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.worker.processes import children, wait_for
from web.uploads.models import Upload

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def big_page(side: int = 4000) -> bytes:
    """A large page (16 MP) dense with small digits (about 1,700: under ml's budget of boxes per reading),
    which the reader must take at full resolution: it takes seconds to read, time to kill."""
    import cv2
    import numpy as np

    page = np.full((side, side, 3), 255, np.uint8)
    for i, y in enumerate(range(60, side - 20, 100)):
        for j, x in enumerate(range(20, side - 60, 90)):
            cv2.putText(page, str((i + j) % 10), (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    return cv2.imencode(".png", page)[1].tobytes()


def send_big_page_and_wait_until_running(client) -> str:
    response = client.post("/api/v1/recognitions/", {"image": SimpleUploadedFile("big.png", big_page())})
    assert response.status_code == 202, response.content
    upload_id = response.json()["id"]
    wait_for(lambda: Upload.objects.filter(id=upload_id, status="running").exists(),
             timeout=30, interval=0.02, what="upload running")
    return upload_id


def finished(upload_id: str, worker, timeout: float = 90) -> Upload:
    return wait_for(lambda: Upload.objects.filter(id=upload_id, status__in=["done", "failed"]).first(),
                    timeout=timeout, what=f"upload finished\n{worker.output()}")


def test_a_pool_process_killed_mid_task_is_replaced_and_the_upload_completes_once(client, start_worker):
    worker = start_worker()
    upload_id = send_big_page_and_wait_until_running(client)
    (child,) = children(worker.proc.pid)
    os.kill(child, signal.SIGKILL)  # the pool process dies mid-read, its message not yet acknowledged

    upload = finished(upload_id, worker)
    assert upload.status == "done", (upload.error_code, upload.error_message)
    assert upload.attempts == 2  # the killed delivery, and the one re-queued after it (reject_on_worker_lost)
    log = worker.output()
    assert "WorkerLostError" in log and log.count("succeeded") == 1
    assert log.count("loaded model version") == 2  # the replacement process loaded its own copy
    time.sleep(1)  # no third delivery arrives later
    assert Upload.objects.get(id=upload_id).attempts == 2


def test_a_whole_worker_killed_mid_task_leaves_the_message_to_the_next_worker(client, start_worker):
    # A short visibility timeout stands in for the hour a real deployment waits before redelivering
    # a message whose worker vanished without a word.
    first = start_worker(CELERY_VISIBILITY_TIMEOUT=8)
    upload_id = send_big_page_and_wait_until_running(client)
    os.killpg(first.proc.pid, signal.SIGKILL)  # main process and pool: nobody left to re-queue anything
    first.proc.wait(timeout=10)

    second = start_worker(CELERY_VISIBILITY_TIMEOUT=8)
    upload = finished(upload_id, second, timeout=120)
    assert upload.status == "done", (upload.error_code, upload.error_message)
    assert upload.attempts == 2
    # The page is read once. On a slow machine the second worker may still be reading when the short
    # visibility timeout passes, and the message is delivered once more: that delivery must find the
    # upload taken and do nothing ('skipped'), not read it again.
    done = [line for line in second.output().splitlines() if "succeeded" in line]
    assert len([line for line in done if not line.endswith("'skipped'")]) == 1, done


def send_big_page_with_limits(*, soft: int | None, hard: int) -> str:
    """Queue the big page with these time limits: Celery stamps them into the message where it is sent
    (the web's settings), and the worker enforces what the message says."""
    from django.core.files.base import ContentFile

    from worker.tasks import recognize

    # The row is made by hand so that upload_create's own enqueue (with the default limits) stays out.
    upload = Upload(session_key="s", source="api", width=4000, height=4000)
    upload.image.save("original.png", ContentFile(big_page()))
    recognize.apply_async(args=[str(upload.id)], soft_time_limit=soft, time_limit=hard)
    return str(upload.id)


def test_the_soft_time_limit_fails_the_upload_with_timeout(start_worker):
    worker = start_worker()
    upload = finished(send_big_page_with_limits(soft=1, hard=30), worker)
    assert (upload.status, upload.error_code) == ("failed", "timeout"), worker.output()
    assert upload.error_message == "reading took longer than 1 s" and upload.attempts == 1


def test_the_hard_time_limit_fails_the_upload_with_timeout(start_worker):
    # No soft limit at all (0 = none): the process is killed without warning, as for a stuck C call.
    worker = start_worker(CELERY_TASK_SOFT_TIME_LIMIT=0)
    upload_id = send_big_page_with_limits(soft=None, hard=1)
    upload = finished(upload_id, worker)
    assert (upload.status, upload.error_code) == ("failed", "timeout"), worker.output()
    assert upload.error_message == "reading took longer than 1 s and was stopped", worker.output()
    assert upload.attempts == 1
    time.sleep(1)  # the message was acknowledged: no second delivery
    assert Upload.objects.get(id=upload_id).attempts == 1
