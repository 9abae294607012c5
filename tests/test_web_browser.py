"""The self-check and upload pages in a real headless Chromium (Debian's chromium + chromedriver, selenium).

``scripts/ci/chromium.sh`` installs them; ``scripts/test.sh`` runs it first. Screenshots of the result and the
upload page are written to docs/ (HUIQI_SCREENSHOTS=docs) or to the test's temporary folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.webkit import ROOT, TOKEN, input_rows, results_accounting, serve

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
         "--lang=zh-CN")
SAMPLE = ROOT / "examples" / "batch" / "sample.xlsx"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("serve"), workers=1) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium is not installed: run scripts/ci/chromium.sh (scripts/test.sh does)")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def shots(tmp_path: Path) -> Path:
    folder = os.environ.get("HUIQI_SCREENSHOTS")
    return ROOT / folder if folder else tmp_path


def set_value(driver, element_id: str, value: str) -> None:
    """Date inputs take keys in the browser's locale; set the ISO value the form submits instead."""
    driver.execute_script("document.getElementById(arguments[0]).value = arguments[1]", element_id, value)


def full_page(driver, path: Path) -> None:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, max(600, min(height + 40, 6000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1600)


def test_fuxin_trademark_result_then_english_error_next_to_the_field(site, browser, tmp_path):
    browser.get(site + "/")
    assert "惠企政策自助评估" in browser.title
    browser.find_element(By.ID, "in-credit_code").send_keys("91350100M000100Y43")
    browser.find_element(By.ID, "in-name").send_keys("阜新某新材料有限公司")
    Select(browser.find_element(By.ID, "in-city")).select_by_visible_text("阜新市")
    Select(browser.find_element(By.ID, "in-size_class")).select_by_visible_text("小型")
    browser.find_element(By.ID, "add-event").click()
    Select(browser.find_element(By.ID, "in-ev-0-type")).select_by_visible_text("商标国际注册")
    set_value(browser, "in-ev-0-date", "2016-05-01")
    browser.find_element(By.ID, "in-ev-0-cost").send_keys("12,345.67")
    assert browser.find_element(By.ID, "in-as_of").get_attribute("value")  # prefilled with the browser's date
    set_value(browser, "in-as_of", "2019-12-31")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.ID, "benefits")))
    row = browser.find_element(By.CSS_SELECTOR, 'tr.benefit[data-rule="ln2015.trademark.intl-subsidy"]')
    assert row.find_element(By.CSS_SELECTOR, "td.amount").text == "8,641.97"
    assert "12,345.67 × 70% = 8,641.97" in row.text
    assert "对企业商标国际注册给予70%补助" in row.find_element(By.CSS_SELECTOR, "blockquote.quote").text
    full_page(browser, shots(tmp_path) / "web-result.png")

    browser.find_element(By.ID, "switch-lang").click()
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Huiqi policy self-check"))
    browser.find_element(By.ID, "in-credit_code").send_keys("9135010")
    browser.find_element(By.ID, "in-name").send_keys("Some company")
    Select(browser.find_element(By.ID, "in-city")).select_by_visible_text("Fuxin")
    set_value(browser, "in-as_of", "2019-12-31")
    browser.find_element(By.ID, "submit").click()
    error = WebDriverWait(browser, 60).until(ec.visibility_of_element_located((By.ID, "err-credit_code")))
    assert "18 characters" in error.text
    field = error.find_element(By.XPATH, "..")
    assert field.get_attribute("data-field") == "credit_code"
    assert field.find_element(By.ID, "in-credit_code").get_attribute("value") == "9135010"


def test_bureau_upload_returns_a_results_workbook_whose_rows_add_up(site, browser, tmp_path):
    browser.get(site + "/bureau")
    browser.find_element(By.ID, "in-enterprises").send_keys(str(SAMPLE))
    set_value(browser, "in-as_of", "2019-12-31")
    browser.find_element(By.ID, "in-token").send_keys(TOKEN)
    full_page(browser, shots(tmp_path) / "web-upload.png")
    browser.find_element(By.ID, "submit").click()
    deadline = time.monotonic() + 180
    while not (done := [p for p in browser.downloads.glob("*.xlsx")]):
        assert time.monotonic() < deadline, "no results workbook was downloaded"
        time.sleep(0.5)
    [workbook] = done
    time.sleep(0.5)  # let Chromium finish renaming the .crdownload
    assert workbook.name == "huiqi-results-2019-12-31.xlsx"
    assert results_accounting(workbook) == input_rows(SAMPLE) == {"企业": 304, "事件": 728}
