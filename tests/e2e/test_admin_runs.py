"""Staff in a real browser (headless Chromium) watch a retrain: its page keeps its percent current by
itself, without reloading, and stops asking once the run has ended; the add form's estimate follows the
fields as they are typed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from web.registry.estimate import retrain_estimate
from web.registry.models import ExperimentRun
from web.registry.params import train_params
from web.registry.services import experiment_run_finish, experiment_run_report, experiment_run_start

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "x-long-password-9"


def db(call, /, **kwargs):
    """``call(**kwargs)`` in a thread of its own, whose connection is closed after it.

    Playwright's sync API keeps an event loop running in the test's thread, where Django refuses ORM
    calls (SynchronousOnlyOperation); the test drives the run's row between browser steps from here.
    """
    def run():
        try:
            return call(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def queued_retrain(**params) -> ExperimentRun:
    params = train_params(params)
    return ExperimentRun.objects.create(kind="train", params=params,
                                        estimate=retrain_estimate(params=params).as_dict())


@pytest.fixture
def staff_page(live_server, browser, django_user_model):
    """A browser page signed in to the admin as staff, through the login form."""
    db(django_user_model.objects.create_superuser, username="staff", password=PASSWORD)
    page = browser.new_page()
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    return page


def percent(page, where: str) -> str:
    return page.inner_text(f"{where} .run-percent")


def test_a_running_retrains_page_updates_its_percent_without_reloading_and_stops_when_it_ends(
        live_server, staff_page):
    run = db(queued_retrain, epochs=1)
    db(experiment_run_start, run_id=run.id)
    db(experiment_run_report, run_id=run.id, progress=0.11225504533489325)
    page = staff_page
    page.set_viewport_size({"width": 1000, "height": 500})
    page.goto(f"{live_server.url}/admin/registry/experimentrun/{run.id}/change/")
    assert percent(page, "#run-summary") == "11 %"
    page.evaluate("window.notReloaded = true; window.scrollTo(0, 300)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0

    # As the worker reports, mid-training.
    db(experiment_run_report, run_id=run.id, progress=0.6, line="epoch 8/13: loss 0.3127")
    page.wait_for_function("() => document.querySelector('#run-summary .run-percent').textContent === '60 %'",
                           timeout=15_000)
    # Not reloaded, and the reader's place kept (a reload would start again at the top).
    assert page.evaluate("window.notReloaded") is True
    assert abs(page.evaluate("window.scrollY") - scrolled) < 40
    assert page.get_attribute("#run-summary progress", "value") == "60"
    assert "left" in page.inner_text("#run-summary .run-text")
    assert page.inner_text("#run-summary .run-line").endswith("epoch 8/13: loss 0.3127")

    db(experiment_run_finish, run_id=run.id, results={})
    page.wait_for_selector(".run-ended:not([hidden])", timeout=15_000)
    assert percent(page, "#run-summary") == "100 %" and page.evaluate("window.notReloaded") is True
    assert page.get_attribute("#run-summary [data-run-progress]", "data-open") == "0"
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/progress/" in request.url else None)
    page.wait_for_timeout(5_000)  # more than two polling intervals
    assert asked == []


def test_the_list_updates_open_runs_in_place(live_server, staff_page):
    run = db(queued_retrain, epochs=1)
    db(experiment_run_start, run_id=run.id)
    page = staff_page
    page.goto(f"{live_server.url}/admin/registry/experimentrun/")
    cell = f'[data-run-progress="{run.id}"]'
    assert percent(page, cell) == "0 %"
    db(experiment_run_report, run_id=run.id, progress=0.42)
    page.wait_for_function(f"() => document.querySelector('{cell} .run-percent').textContent === '42 %'",
                           timeout=15_000)


def test_the_add_forms_estimate_follows_the_fields_as_they_change(live_server, staff_page):
    page = staff_page
    page.goto(f"{live_server.url}/admin/registry/experimentrun/add/")
    first = page.inner_text("#retrain-estimate .estimate-text")
    expected = db(retrain_estimate, params=train_params({"epochs": 2, "limit": 1000}))
    page.fill("#id_epochs", "2")
    page.fill("#id_limit", "1000")
    seconds = round(expected.seconds, 1)
    page.wait_for_function(f"() => Number(document.getElementById('retrain-estimate').dataset.seconds) "
                           f"=== {seconds}", timeout=10_000)
    assert page.inner_text("#retrain-estimate .estimate-text") != first
    assert "2 epochs × 1,000 training images" in page.inner_text("#retrain-estimate")
    page.fill("#id_epochs", "0")
    page.wait_for_selector("#retrain-estimate .estimate-error:not([hidden])", timeout=10_000)
    assert "greater than or equal to 1" in page.inner_text("#retrain-estimate .estimate-error")
