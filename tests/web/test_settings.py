"""The one settings module: embedded defaults with no environment, real services by variables."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.worker.processes import ROOT, child_env

SHOW = """
import json
import re
from django.conf import settings
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"], "db_name": str(settings.DATABASES["default"]["NAME"]),
    "broker": settings.CELERY_BROKER_URL, "storage": settings.STORAGES["default"]["BACKEND"],
    "transport": getattr(settings, "CELERY_BROKER_TRANSPORT", None),
    "remote_control": getattr(settings, "CELERY_WORKER_ENABLE_REMOTE_CONTROL", True),
    "storage_options": settings.STORAGES["default"]["OPTIONS"], "media": str(settings.MEDIA_ROOT),
    "debug": settings.DEBUG, "key": settings.SECRET_KEY, "max_bytes": settings.DIGITSCAN_MAX_UPLOAD_BYTES,
}))
"""


def settings_with(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=child_env(DJANGO_SETTINGS_MODULE="web.settings", **env))


def shown(**env: str) -> dict:
    run = settings_with(**env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_with_no_environment_everything_is_embedded_under_var(tmp_path):
    var = tmp_path / "var"
    s = shown(DIGITSCAN_VAR_DIR=str(var))
    assert s["db"] == "django.db.backends.sqlite3" and s["db_name"] == str(var / "db.sqlite3")
    assert s["broker"] == f"sqlite:///{var / 'broker.sqlite3'}" and s["transport"] == "web.broker:Transport"
    assert s["remote_control"] is False  # the SQLite queue has no fanout exchange
    assert s["storage"].endswith("FileSystemStorage") and s["media"] == str(var / "media")
    assert s["debug"] is True and s["max_bytes"] == 2 * 1024 * 1024


def test_the_secret_key_is_generated_once_and_kept(tmp_path):
    var = tmp_path / "var"
    first, second = shown(DIGITSCAN_VAR_DIR=str(var)), shown(DIGITSCAN_VAR_DIR=str(var))
    assert first["key"] == second["key"] == (var / "secret_key").read_text().strip()
    assert len(first["key"]) >= 50 and (var / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    run = settings_with(DIGITSCAN_VAR_DIR=str(tmp_path), DJANGO_DEBUG="0")
    assert run.returncode != 0 and "SECRET_KEY must be set" in run.stderr
    s = shown(DIGITSCAN_VAR_DIR=str(tmp_path), DJANGO_DEBUG="0", SECRET_KEY="k" * 60)
    assert s["debug"] is False and s["key"] == "k" * 60


def test_real_services_come_from_the_environment(tmp_path):
    s = shown(DIGITSCAN_VAR_DIR=str(tmp_path), DATABASE_URL="postgres://u@db.example:5432/digitscan",
              CELERY_BROKER_URL="redis://redis.example:6379/0", DIGITSCAN_STORAGE="s3",
              AWS_STORAGE_BUCKET_NAME="scans", AWS_S3_ENDPOINT_URL="http://s3.example:9000")
    assert s["db"] == "django.db.backends.postgresql" and s["db_name"] == "digitscan"
    assert s["broker"] == "redis://redis.example:6379/0" and s["transport"] is None
    assert s["remote_control"] is True
    assert s["storage"] == "storages.backends.s3.S3Storage"
    assert s["storage_options"]["bucket_name"] == "scans"
    assert s["storage_options"]["endpoint_url"] == "http://s3.example:9000"


def test_a_malformed_variable_is_a_clear_error(tmp_path):
    run = settings_with(DIGITSCAN_VAR_DIR=str(tmp_path), DIGITSCAN_MAX_UPLOAD_BYTES="2MB")
    assert run.returncode != 0 and "DIGITSCAN_MAX_UPLOAD_BYTES='2MB' is not an integer" in run.stderr


def test_every_variable_settings_reads_is_documented_in_env_example():
    source = (ROOT / "web" / "settings.py").read_text()
    read = set(re.findall(r'env(?:_str|_bool|_int|_list)?\(\s*"([A-Z0-9_]+)"', source))
    read |= set(re.findall(r'env="([A-Z0-9_]+)"', source))
    documented = set(re.findall(r"^# ?([A-Z0-9_]+)=", (ROOT / "deploy" / "env.example").read_text(), re.M))
    assert "DATABASE_URL" in read and "CELERY_BROKER_URL" in read
    assert read - documented == set(), "document these in deploy/env.example"


def test_every_model_change_has_its_migration(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env=child_env(DJANGO_SETTINGS_MODULE="web.settings", DIGITSCAN_VAR_DIR=tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
