"""A priority: its indicators by OBA question, each exception's reasons in plain English, small multiples."""

from __future__ import annotations


def test_pri001_groups_by_question_with_reasons(browser, demo, library):
    ds = demo["dataset"]
    browser.open("/priority/neglect")
    assert browser.page.inner_text("h1") == "Neglect"
    browser.page.wait_for_function("document.title === 'Neglect – OBA dashboard'")
    questions = browser.page.locator("h2.question-title").all_inner_texts()
    order = ["How much did we do?", "How well did we do it?", "Is anyone better off?"]
    assert [next(q for q in order if t.startswith(q)) for t in questions] == order
    text = browser.text()
    ex = ds.exceptions[(ds.exceptions["priority_id"] == "neglect") & (ds.exceptions["area_code"] == ds.area_code)]
    for sentence in ex[ex["severity"] != "positive"]["sentence"]:
        assert " ".join(sentence.split()) in text
    n_cards = browser.page.locator("article.indicator-card").count()
    assert n_cards == len([i for i in library.for_priority("neglect") if i.id in set(ds.frame["indicator_id"])])
    assert browser.page.locator("article.indicator-card img.sparkline").count() == n_cards
    browser.screenshot("priority_neglect")


def test_pri002_priority_in_the_query_string(browser):
    browser.open("/priority?priority=cse_missing")
    assert browser.page.inner_text("h1") == "Child Sexual Exploitation and Missing"
    browser.open("/priority")
    assert browser.page.inner_text("h1") == "Board priorities"
    assert browser.page.locator(".priority-card").count() == 5


def test_pri003_unknown_priority(browser):
    browser.open("/priority/neglected")
    assert browser.page.inner_text("h1") == "No such priority"
    assert "Did you mean Neglect?" in browser.text()


def test_pri004_projector(projector):
    projector.open("/priority/early_help")
    assert projector.page.evaluate("document.documentElement.scrollWidth") <= 1024
    projector.screenshot("priority_early_help", full_page=False)
