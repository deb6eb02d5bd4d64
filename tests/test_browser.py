"""End to end in a real browser: Debian's chromium driven by Playwright against
the console served by gunicorn, with CSRF and login limits on, on the demo data."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_serving import ROOT, _free_port, _run, _wait_for

pytestmark = [pytest.mark.browser, pytest.mark.committed, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "Browser@Test2024"
BIN = Path(sys.executable).parent


def _browser_or_skip():
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("DTI_REQUIRE_BROWSER"):
        pytest.fail(f"chromium is required for the browser tests ({CHROMIUM})")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The console with the demo data, served by gunicorn on a free port."""
    _browser_or_skip()
    folder = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "FLASK_APP": "run.py",
        "DATABASE_URL": f"sqlite:///{folder / 'e2e.db'}",
        "DTI_INSTANCE_DIR": str(folder),
        "DTI_DEMO_PASSWORD": PASSWORD,
    }
    _run([BIN / "flask", "db", "upgrade"], env)
    _run([BIN / "flask", "dti", "init-roles"], env)
    _run([BIN / "flask", "dti", "seed", "--demo"], env)

    port = _free_port()
    log = open(folder / "gunicorn.log", "w")
    process = subprocess.Popen(
        [BIN / "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "run:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/login/")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    yield context.new_page()
    context.close()


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()


def _first_ratio(page):
    return (
        page.locator(".dti-component")
        .filter(has=page.locator("input[name$='_b']"))
        .first
    )


def test_specialist_saves_a_component_and_sees_its_score(page, server):
    log_in(page, server, "socongthuong.cv")
    page.goto(f"{server}/self-assessment/")
    component = _first_ratio(page)
    component_id = component.get_attribute("id")

    component.locator("input[name$='_a']").fill("3")
    component.locator("input[name$='_b']").fill("4")
    component.locator("button.dti-save-one").click()
    page.wait_for_load_state()

    saved = page.locator(f"#{component_id}")
    assert page.locator(".alert-success").count() >= 1
    assert saved.locator("input[name$='_a']").input_value() == "3"
    assert "15" in saved.locator(".dti-score").inner_text()


def test_refused_figures_keep_what_was_typed(page, server):
    log_in(page, server, "socongthuong.cv")
    page.goto(f"{server}/self-assessment/")
    component = _first_ratio(page)
    component_id = component.get_attribute("id")

    component.locator("input[name$='_a']").fill("7")
    component.locator("input[name$='_b']").fill("0")
    component.locator("button.dti-save-one").click()
    page.wait_for_load_state()

    refused = page.locator(f"#{component_id}")
    assert refused.locator("input[name$='_a']").input_value() == "7"
    assert refused.locator("input[name$='_b']").input_value() == "0"
    assert "bằng 0" in refused.inner_text()


def test_specialist_uploads_a_pdf_and_opens_it(page, server, tmp_path):
    from tests.factories import make_pdf

    file = tmp_path / "Kế hoạch chuyển đổi số.pdf"
    file.write_bytes(make_pdf(3))
    log_in(page, server, "socongthuong.cv")
    page.goto(f"{server}/self-assessment/")

    page.set_input_files("#evidence-file", str(file))
    page.fill("#evidence-doc_number", "99/KH-SCT")
    page.click(".dti-upload button[type=submit]")
    page.wait_for_load_state()

    row = page.locator(".dti-evidence tr", has_text="Kế hoạch chuyển đổi số.pdf")
    assert row.count() == 1
    assert "3" in row.inner_text()
    with page.expect_popup() as popup:
        row.locator("a").first.click()
    assert popup.value.url.endswith(row.locator("a").first.get_attribute("href"))


def test_approver_signs_the_submitted_dossier_off(page, server):
    log_in(page, server, "sonoivu.duyet")
    page.goto(f"{server}/self-assessment/")

    assert page.locator("input[disabled]").count() > 0
    page.click("form[action$='/approve'] button")
    page.wait_for_load_state()

    assert "Đơn vị đã duyệt" in page.locator(".dti-summary").inner_text()


def test_public_results_render_charts_without_login(page, server):
    page.goto(f"{server}/results/2022")

    assert "Kết quả DTI năm 2022" in page.inner_text("h2")
    assert page.locator("svg").count() >= 3
    page.locator(".dti-rank-table a").first.click()
    page.wait_for_load_state()
    assert page.locator("svg").count() == 3


def test_the_console_switches_to_english(page, server):
    log_in(page, server, "tochuc")
    page.goto(f"{server}/lang/en")
    page.goto(f"{server}/campaign/")

    assert "Campaign board" in page.inner_text("h2")
    assert page.get_attribute("html", "lang") == "en"
