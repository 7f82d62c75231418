"""Getting around: the navigation bar from the page registry, the skip link, the keyboard, the URL."""

from __future__ import annotations

import re


def test_nav001_skip_link_is_first_and_visible_on_focus(browser):
    browser.open("/about")
    browser.page.keyboard.press("Tab")
    focused = browser.page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    box = browser.page.locator(".skip-link").bounding_box()
    assert box["y"] >= 0, "the skip link shows when it has focus"
    outline = browser.page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert outline and outline != "none", "focus is visible"
    browser.page.keyboard.press("Enter")
    assert browser.page.evaluate("document.activeElement.id") == "main-content"


def test_nav002_navigation_keeps_the_quarter_and_marks_the_page(browser, demo):
    earlier = str(demo["dataset"].period - 1)
    browser.open(f"/?period={earlier.replace(' ', '+')}")
    link = browser.page.get_by_role("link", name="Agency returns")
    assert link.get_attribute("href") == f"/returns?period={earlier.replace(' ', '+')}"
    link.click()
    browser.page.wait_for_url(re.compile(r"/returns\?period="))
    # the old page's heading is still there until the new page's callback answers
    browser.page.wait_for_function("document.querySelector('h1').innerText === 'Agency returns'")
    browser.ready()
    assert "active" in browser.page.get_by_role("link", name="Agency returns").get_attribute("class")
    browser.page.go_back()
    browser.page.wait_for_function("document.querySelector('h1').innerText.startsWith('This quarter')")
    assert browser.page.url.endswith(f"/?period={earlier.replace(' ', '+')}")


def test_nav003_period_can_be_chosen_with_the_keyboard(browser, demo):
    browser.open("/priority/voice_of_child")
    label = browser.page.locator("label[for='priority-period']").inner_text()
    assert label == "Quarter"
    browser.page.focus("#priority-period")
    browser.page.keyboard.press("ArrowDown")  # the next (earlier) quarter
    earlier = str(demo["dataset"].period - 1)
    browser.page.wait_for_url(re.compile(r"period=" + re.escape(earlier.replace(" ", "+"))))
    assert "priority/voice_of_child" in browser.page.url


def test_nav004_about_page(browser):
    browser.open("/about")
    text = browser.text()
    for heading in ("Exceptions", "Statistical process control (SPC)", "Comparisons", "Forecasts: the baseline"):
        assert heading in text
    browser.screenshot("about")


def test_nav005_unknown_address(browser):
    browser.open("/no/such/page")
    assert browser.page.inner_text("h1") == "Page not found"


def test_nav006_about_on_a_projector(projector):
    projector.open("/about")
    assert projector.page.evaluate("document.documentElement.scrollWidth") <= 1024
    projector.screenshot("about", full_page=False)
