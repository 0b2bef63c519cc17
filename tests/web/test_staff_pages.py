"""Staff judge uploads and corrections by looking (the image, the boxes, crops), read the admin in their
language with no raw JSON or session tokens, and cannot start a run that has no MNIST to train on."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.utils import timezone

from tests.web.helpers import uploaded
from web.registry.models import ExperimentRun
from web.registry.params import train_params
from web.uploads.owners import Owner
from web.uploads.services import feedback_create, upload_create, upload_finish, upload_start

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
PATH_OR_URL = re.compile(r"(?<![\w<])/(?:tmp|root|home|work|var|usr)/|https?://(?!testserver|www\.w3\.org)|urlopen|\.cache/")


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    return client


def page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return unescape(response.content.decode())


@pytest.fixture
def read_upload(png):
    """An anonymous visitor's upload of the 240×220 test picture, read as 4 at [10, 20, 30, 40] and 7 at
    [120, 110, 60, 80], with its annotated image, screen JPEG and thumbnail stored."""
    upload = upload_create(owner=Owner(session_key="s3cr3t-session-token-abcdef"), image_file=uploaded(png),
                           source="upload")
    upload_start(upload_id=upload.id)
    digits = [{"digit": 4, "confidence": 0.91, "box": [10, 20, 30, 40], "line": 0, "uncertain": False,
               "alternatives": [{"digit": 4, "confidence": 0.91}, {"digit": 9, "confidence": 0.07}]},
              {"digit": 7, "confidence": 0.55, "box": [120, 110, 60, 80], "line": 0, "uncertain": True}]
    return upload_finish(upload_id=upload.id, reading={"text": "47", "lines": ["47"], "digits": digits},
                         timings={"decode": 3.25, "segment": 10.5, "classify": 20.0}, annotated_png=png,
                         screen_jpeg=b"\xff\xd8screen", thumbnail_jpeg=b"\xff\xd8thumb", model_version=None)


def test_the_upload_admin_shows_the_image_its_links_and_the_reading_as_tables(staff_client, read_upload):
    u = read_upload
    html = page(staff_client, f"/admin/uploads/upload/{u.id}/change/")
    # The image at the site's own address (which lets staff see any upload's), and every other one linked.
    assert f'<img src="/r/{u.id}/screen.image"' in html
    for link in (f"/r/{u.id}/", f"/r/{u.id}/original.image", f"/r/{u.id}/annotated.image",
                 f"/r/{u.id}/thumbnail.image"):
        assert f'href="{link}"' in html, link
    assert "/media/" not in html and "uploads/" + str(u.id) not in html  # no storage names
    # The reading as tables and lists, not JSON.
    assert '"confidence"' not in html and '"box"' not in html and '"decode"' not in html
    assert "91.0" in html and "9 (7.0 %)" in html and "<code>47</code>" in html
    assert "finding the digits" in html and "33.8" in html  # the stages' milliseconds and their sum
    assert "240 × 220 pixels" in html
    # The anonymous owner's session token: told apart by its start, never shown whole.
    assert "s3cr…" in html and "s3cr3t-session-token" not in html
    listing = page(staff_client, "/admin/uploads/upload/")
    assert f'src="/r/{u.id}/thumbnail.image"' in listing and "s3cr3t-session-token" not in listing


def test_the_correction_page_draws_the_boxes_on_the_image_and_cuts_each_change_out(staff_client, read_upload):
    u = read_upload
    owner = Owner(session_key="s3cr3t-session-token-abcdef")
    correction = feedback_create(upload=u, owner=owner, operations=[
        {"op": "relabel", "index": 0, "digit": 1}, {"op": "not_a_digit", "index": 1},
        {"op": "add", "digit": 5, "box": [60, 30, 24, 48]}])
    html = page(staff_client, f"/admin/uploads/feedback/{correction.id}/change/")
    frame = html[html.index('class="ds-frame"'):].split("</div>")[0]
    assert f'<img src="/r/{u.id}/original.image"' in frame
    # Each box placed in percent of the original's 240×220 pixels, labelled with what the correction does.
    assert ('class="ds-box relabel" style="left:4.167%;top:9.091%;width:12.500%;height:18.182%"><b>4→1</b>'
            in frame)
    assert 'class="ds-box reject" style="left:50.000%;top:50.000%' in frame and "<b>7→×</b>" in frame
    assert 'class="ds-box add" style="left:25.000%;top:13.636%' in frame and "<b>+5</b>" in frame
    # Beside each change in words, its box cut out of the original (a tile showing that part of it).
    crops = re.findall(r'<span class="ds-crop"[^>]*style="([^"]+)"></span><span>([^<]+)</span>', html)
    assert [text for _, text in crops] == ["box 1, line 1 at [10, 20, 30, 40]: 4 → 1",
                                           "box 2, line 1 at [120, 110, 60, 80]: 7 → not a digit",
                                           "added 5 in line 1 at [60, 30, 24, 48]"]
    style = crops[0][0]
    assert f"background-image:url('/r/{u.id}/original.image')" in style and "height:72px" in style
    assert f'href="/r/{u.id}/"' in html  # its result page
    assert "s3cr3t-session-token" not in html and "anonymous (session s3cr…)" in html


def test_the_list_marks_each_uploads_current_correction(staff_client, read_upload):
    owner = Owner(session_key="s3cr3t-session-token-abcdef")
    first = feedback_create(upload=read_upload, owner=owner, text="41")
    latest = feedback_create(upload=read_upload, owner=owner, text="17")
    html = page(staff_client, "/admin/uploads/feedback/")
    rows = {fid: html[html.index(f'value="{fid}"'):].split("</tr>")[0] for fid in (first.id, latest.id)}
    assert "✔ current" in rows[latest.id] and "replaced by a later one" in rows[first.id]
    chinese = page(staff_client, "/admin/uploads/feedback/", **ZH)
    assert "当前" in chinese and "已被后来的更正取代" in chinese


def test_the_admin_speaks_the_readers_language_in_titles_names_and_messages(staff_client, read_upload):
    run = ExperimentRun.objects.create(kind="train", params=train_params({}), status="done",
                                       finished=timezone.now())
    correction = feedback_create(upload=read_upload, owner=Owner(session_key="x"), text="41")
    index = page(staff_client, "/admin/", **ZH)
    assert "DigitScan 管理" in index and "Django 管理" not in index
    assert "登录锁定" in index and "访问尝试" in index and "Access attempts" not in index
    assert "DigitScan administration" in page(staff_client, "/admin/")
    run_page = page(staff_client, f"/admin/registry/experimentrun/{run.id}/change/", **ZH)
    assert f"重新训练 #{run.id}（已完成）" in run_page and "train #" not in run_page
    upload_page = page(staff_client, f"/admin/uploads/upload/{read_upload.id}/change/", **ZH)
    assert "（已完成）" in upload_page and "(done)" not in upload_page
    feedback_page = page(staff_client, f"/admin/uploads/feedback/{correction.id}/change/", **ZH)
    assert "correction of" not in feedback_page


# --- no run without MNIST -------------------------------------------------------------------------------

@pytest.fixture
def no_mnist(monkeypatch, tmp_path):
    """This machine as one with no copy of MNIST anywhere the training worker looks."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("DIGITSCAN_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.setenv("DIGITSCAN_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("kind, fields", [
    ("experimentrun", {"recipe": "served", "seed": 0, "dry_run": "on"}),
    ("benchmarkrun", {"families": ["logreg"], "seed": 0, "limit": 300, "epochs": 1}),
    ("ablationrun", {"studies": ["pool"], "epochs": 1, "seeds": 1, "seed0": 0, "limit": 300}),
])
def test_a_run_without_mnist_is_refused_at_the_form_in_the_forms_language(staff_client, no_mnist, kind,
                                                                            fields):
    url = f"/admin/registry/{kind}/add/"
    assert "MNIST is not on this server" in page(staff_client, url)  # said before anything is typed
    response = staff_client.post(url, fields)
    html = unescape(response.content.decode())
    assert response.status_code == 200 and "MNIST is not on this server" in html and "MNIST_DIR" in html
    chinese = unescape(staff_client.post(url, fields, **ZH).content.decode())
    assert "这台服务器上没有 MNIST" in chinese
    assert ExperimentRun.objects.count() == 0


def test_the_estimate_says_at_once_that_mnist_is_missing(staff_client, no_mnist):
    response = staff_client.get("/admin/registry/experimentrun/estimate/", {"recipe": "served", "seed": 0})
    assert response.status_code == 400
    assert "MNIST is not on this server" in response.json()["error"]["message"]


def test_the_form_starts_a_run_with_a_start_button_and_a_finished_run_offers_no_save(staff_client):
    add = page(staff_client, "/admin/registry/experimentrun/add/", **ZH)
    assert 'value="开始重新训练"' in add and "保存并增加另一个" not in add and "MNIST 不在" not in add
    assert 'value="Start the benchmark"' in page(staff_client, "/admin/registry/benchmarkrun/add/")
    assert 'value="Start the ablation"' in page(staff_client, "/admin/registry/ablationrun/add/")
    run = ExperimentRun.objects.create(kind="train", params=train_params({}), status="done")
    record = page(staff_client, f"/admin/registry/experimentrun/{run.id}/change/")
    assert not re.findall(r'name="_(?:save|continue|addanother)"', record)


# --- a failed run says why in a sentence ------------------------------------------------------------------

LEGACY_ERROR = ("DataNotFoundError: MNIST not found. Tried:\n  - /tmp/shared/datasets/mnist (missing or "
                "incomplete)\n  - /srv/cache/digitscan/mnist/MNIST/raw (missing or incomplete)\n  - "
                "torchvision download into /srv/cache/digitscan/mnist (RuntimeError: Error downloading "
                "train-images-idx3-ubyte.gz:\nTried https://ossci-datasets.s3.amazonaws.com/mnist/, got:\n"
                "<urlopen error [Errno -3] Temporary failure in name resolution>)")


@pytest.mark.parametrize("error, english, chinese", [
    (LEGACY_ERROR, "MNIST was not found on the training worker", "训练工作进程上找不到 MNIST"),
    ("OSError: [Errno 28] No space left on device: '/var/lib/x'",
     "the run stopped on an unexpected error (OSError)", "意外错误（OSError）"),
    ("killed after the hard time limit of 3060 s", "after the hard time limit of 3060 s", "3060 秒"),
])
def test_a_failed_runs_reason_is_a_sentence_without_paths_in_the_readers_language(staff_client, error,
                                                                                 english, chinese):
    run = ExperimentRun.objects.create(kind="train", params=train_params({}), status="failed", error=error,
                                       finished=timezone.now())
    url = f"/admin/registry/experimentrun/{run.id}/change/"
    for headers, words in (({}, english), (ZH, chinese)):
        html = page(staff_client, url, **headers)
        assert words in html and PATH_OR_URL.findall(html) == [], PATH_OR_URL.findall(html)
        failure = html[html.index('id="run-failure"'):].split("</p>")[0]  # said under the progress
        assert words in failure
        assert "Errno" not in html and "Traceback" not in html


def test_a_retrain_that_cannot_find_mnist_fails_with_that_sentence_and_logs_the_places(no_mnist, caplog,
                                                                                       staff_client):
    """The worker's own job, in this process: the run says what is missing; the log keeps where it looked."""
    from web.registry.services import model_version_ensure_active
    from worker.tasks import NO_MNIST, train_model

    model_version_ensure_active()
    params = train_params({"dry_run": True, "feedback": False})
    run = ExperimentRun.objects.create(kind="train", params=params)
    assert train_model(run.id) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and run.error == NO_MNIST
    assert "MNIST not found" in caplog.text and "datasets" in caplog.text  # the places: the server's log
    html = page(staff_client, f"/admin/registry/experimentrun/{run.id}/change/", **ZH)
    assert "训练工作进程上找不到 MNIST" in html and PATH_OR_URL.findall(html) == []


def test_staff_open_any_uploads_result_page_and_images_where_the_admin_links_them(staff_client,
                                                                                  read_upload):
    """The admin links the site's own addresses; they let staff in (the visitor-facing side's change: until
    it is merged, staff get 404 there like any stranger)."""
    u = read_upload
    for url in (f"/r/{u.id}/", *(f"/r/{u.id}/{kind}.image" for kind in ("original", "annotated", "screen",
                                                                        "thumbnail"))):
        assert staff_client.get(url).status_code == 200, url


def test_a_runs_log_and_progress_line_read_in_the_readers_language(staff_client):
    """Lines as the worker writes them (ml.progress for epochs, worker.training for the corrections), shown
    translated on the run's page and in the progress JSON; English readers get them as written."""
    from ml.progress import to_report
    from worker.training import _samples_line

    lines: list[str] = []
    epoch = to_report(lambda progress=None, line="": line and lines.append(line), label="pool avg seed 1")
    epoch({"event": "epoch", "epoch": 1, "epochs": 2, "loss": 0.5, "accuracy": 0.9})
    lines.append(_samples_line({"feedback": True, "samples": 7, "sample_digits": 5, "sample_not_a_digit": 2,
                                "not_a_digit_left_out": 2, "left_out": 1,
                                "left_out_reasons": [f"upload {'0' * 8}-0000-0000-0000-{'0' * 12}: added 3 "
                                                     "has no box"]}))
    lines.append("new model: MNIST test accuracy 11.00%")
    run = ExperimentRun.objects.create(kind="train", params=train_params({}), status="running",
                                       started=timezone.now(),
                                       log="".join(f"04:12:0{i} {line}\n" for i, line in enumerate(lines)))
    html = page(staff_client, f"/admin/registry/experimentrun/{run.id}/change/", **ZH)
    assert "每个卷积块后的池化，平均池化，随机种子 1：第 1/2 轮：损失 0.5000，训练图片上的准确率 90.00%" \
        in html
    assert "已采纳的更正提供了 7 个样本：5 个数字，2 个“不是数字”；2 个“不是数字”样本未参与训练" in html
    assert "补上的 3 没有框" in html and "新模型正确识别了 11.00% 的 MNIST 测试图片" in html
    progress = staff_client.get(f"/admin/registry/experimentrun/progress/?ids={run.id}", **ZH).json()
    assert progress["runs"][0]["last_line"] == "04:12:02 新模型正确识别了 11.00% 的 MNIST 测试图片"
    english = page(staff_client, f"/admin/registry/experimentrun/{run.id}/change/")
    assert all(line in english for line in lines)
