"""Chinese (Simplified) and English: chosen from the browser's language, switched and remembered, and the
same everywhere words reach a person — pages, messages, errors (pages and API), the admin's labels."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ml.study.ablation.grid import STUDY_TITLES
from ml.study.thesis import FAMILY_NAMES
from tests.web.helpers import png_bytes, uploaded
from web.registry.labels import FAMILY_LABELS, STUDY_LABELS
from web.uploads.models import Feedback, Upload
from web.uploads.services import upload_fail, upload_finish, upload_start

pytestmark = pytest.mark.django_db


def lang_of(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.mark.parametrize("accept", ["zh-CN,zh;q=0.9,en;q=0.8", "zh-cn", "zh", "zh-SG", "zh-Hans"])
def test_a_chinese_browser_gets_chinese_pages(client, accept):
    response = client.get("/history/", HTTP_ACCEPT_LANGUAGE=accept)
    html = response.content.decode()
    assert lang_of(html) == "zh-hans" and response["Content-Language"] == "zh-hans"
    assert "<h1>我的上传</h1>" in html and ">历史记录</a>" in html and ">实验</a>" in html
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "fr-FR,fr;q=0.9", ""])
def test_other_browsers_get_english(client, accept):
    html = client.get("/history/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert lang_of(html) == "en" and "<h1>Your uploads</h1>" in html and ">History</a>" in html


def test_the_switch_sets_a_cookie_that_outlasts_the_browsers_language(client):
    html = client.get("/model/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    # The header offers the other language, named in its own words, back to the same page.
    assert 'name="language" value="zh-hans"' in html and "简体中文" in html
    assert 'name="next" value="/model/"' in html
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/model/"},
                           HTTP_ACCEPT_LANGUAGE="en-US")
    assert response.status_code == 302 and response["Location"] == "/model/"
    cookie = response.cookies["django_language"]
    assert cookie.value == "zh-hans" and int(cookie["max-age"]) >= 300 * 24 * 3600
    for path in ("/model/", "/experiments/", "/accounts/login/"):
        html = client.get(path, HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
        assert lang_of(html) == "zh-hans", path
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()) == "en"


def test_pages_in_chinese_have_their_own_words(client, alice):
    client.force_login(alice)
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
    assert "六类分类器在 MNIST 上的对比" in client.get("/experiments/", **zh).content.decode()
    assert "逻辑回归" in client.get("/experiments/", **zh).content.decode()
    assert "<h1>模型</h1>" in client.get("/model/", **zh).content.decode()
    assert "您还没有密钥。" in client.get("/accounts/token/", **zh).content.decode()
    assert "还没有任何记录。" in client.get("/history/", **zh).content.decode()
    client.logout()
    login = client.get("/accounts/login/", **zh).content.decode()
    assert "<h1>登录</h1>" in login and "用户名" in login  # Django's own form labels, in Chinese too
    assert "创建账号" in client.get("/accounts/signup/", **zh).content.decode()


def test_upload_errors_on_the_page_are_in_the_visitors_language(client):
    response = client.post("/", {"image": uploaded(b""), "source": "upload"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 400 and "文件是空的。" in response.content.decode()
    response = client.post("/", {"image": uploaded(b"GIF89a..."), "source": "upload"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert "Only JPEG and PNG images are accepted" in response.content.decode()
    assert Upload.objects.count() == 0


@pytest.mark.parametrize("accept, words", [("zh-CN", "只接受 JPEG 和 PNG 图片"), ("en", "only JPEG and PNG")])
def test_api_errors_keep_their_code_and_speak_the_callers_language(client, accept, words):
    response = client.post("/api/v1/recognitions/", {"image": uploaded(b"not an image")},
                           HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unsupported_type" and error["message"].startswith(words)


def test_errors_answered_before_the_language_middleware_are_in_the_callers_language_too(client):
    # The body cap answers from the headers, before LocaleMiddleware has run.
    response = client.generic("POST", "/api/v1/recognitions/", b"", HTTP_ACCEPT_LANGUAGE="zh-CN",
                              CONTENT_LENGTH=str(50 * 1024 * 1024), content_type="image/png")
    assert response.status_code == 413
    assert response.json()["error"] == {"code": "too_large",
                                         "message": "请求大小为 50.0 MB，每张图片的上限为 2.0 MB"}
    missing = client.get("/api/v1/nothing-here/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert missing.json()["error"] == {"code": "not_found", "message": "此地址没有任何内容"}
    page = client.get("/nothing-here/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "此地址没有任何内容。" in page and lang_of(page) == "zh-hans"


def test_messages_after_a_redirect_are_in_the_chosen_language(client):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    response = client.post("/feedback/", {"message": "   "}, follow=True)
    assert "反馈内容为空：请写下您想告诉我们的内容。" in response.content.decode()
    response = client.post("/feedback/", {"message": "很好用", "page": "/"}, follow=True)
    assert "谢谢！您的反馈已送达团队。" in response.content.decode()


def test_a_failed_reading_is_explained_in_the_readers_language(client):
    client.post("/", {"image": uploaded(png_bytes()), "source": "upload"})
    upload = Upload.objects.get()
    upload_start(upload_id=upload.id)
    upload_fail(upload_id=upload.id, code="too_dense", message="the image holds about 9,000 digit-like marks")
    api = f"/api/v1/recognitions/{upload.id}/"
    assert client.get(api, HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"].startswith(
        "the image holds about 9,000")
    assert client.get(api, HTTP_ACCEPT_LANGUAGE="zh-CN").json()["error"] == {
        "code": "too_dense", "message": "图片中类似数字的笔画过多，无法一次识别：请将其裁剪成几部分分别发送"}


def test_the_admin_shows_our_models_and_fields_in_chinese(admin_client):
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
    index = admin_client.get("/admin/", **zh).content.decode()
    assert "上传与反馈" in index and "模型与实验" in index and "问题反馈" in index and "消融实验运行" in index
    upload = Upload.objects.create(image="uploads/x/original.png", status="done", text="12")
    Feedback.objects.create(upload=upload, text="17")
    changelist = admin_client.get("/admin/uploads/feedback/", **zh).content.decode()
    assert "采纳为训练数据" in changelist and "已采纳" in changelist  # the action, a column
    add = admin_client.get("/admin/registry/benchmarkrun/add/", **zh).content.decode()
    assert "训练轮数" in add and "每个类别只跑两个批次，用于检查流程" in add and "卷积神经网络" in add


def test_every_family_and_study_has_a_translatable_name():
    assert FAMILY_LABELS.keys() == FAMILY_NAMES.keys()
    assert STUDY_LABELS.keys() == STUDY_TITLES.keys()


def test_the_outage_page_speaks_the_visitors_language(rf):
    from web.outage import outage_response

    request = rf.post("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    page = outage_response(request).content.decode()
    assert "马上回来" in page and "这张图片没有保存" in page and lang_of(page) == "zh-hans"
    assert "setlang" not in page  # no switch without a CSRF token to send with it
    api = outage_response(rf.get("/api/v1/recognitions/", HTTP_ACCEPT_LANGUAGE="en")).content.decode()
    assert "the database is briefly unreachable" in api


def test_a_plain_client_with_no_language_reads_english(client):
    # Programs that send no Accept-Language (curl) keep the English they always had.
    response = Client().post("/api/v1/recognitions/", {"image": uploaded(b"")})
    assert response.json()["error"]["message"] == "the file is empty"


def test_the_result_page_speaks_the_readers_language_and_hands_its_words_to_the_script(client, png):
    client.post("/", {"image": uploaded(png), "source": "upload"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    upload = Upload.objects.get()
    upload_start(upload_id=upload.id)
    upload_finish(upload_id=upload.id, reading={"text": "", "lines": [], "digits": []}, timings={},
                  annotated_png=png, model_version=None)
    html = client.get(f"/r/{upload.id}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "完成：没有找到数字。" in html and "删除该上传" in html and "识别结果" in html
    # result.js takes its status words from the page, so a page polled in Chinese stays Chinese.
    assert 'data-queued="正在排队……"' in html and 'data-failed="失败：' in html
    assert "Done: no digits found." not in html
    english = client.get(f"/r/{upload.id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Done: no digits found." in english and 'data-queued="Waiting in the queue…"' in english
