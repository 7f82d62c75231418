"""Building a page from the current view, with a friendly message instead of a traceback when it cannot be."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dashboard import data
from dashboard.components.layout import problem

log = logging.getLogger(__name__)


def with_view(build: Callable[[data.View], Any]) -> Any:
    """``build(view)``, or a page saying what to do when there is no data or something went wrong."""
    try:
        v = data.view()
    except data.DataUnavailable as exc:
        return problem(exc.title, exc.message, exc.details)
    except Exception:
        log.exception("could not read the store")
        return problem("The data could not be read",
                       "Something went wrong reading the store; the details are in the dashboard's log. "
                       "Check that `oba init` has been run against this database.")
    try:
        return build(v)
    except Exception:
        log.exception("could not build the page")
        return problem("This page could not be shown",
                       "Something unexpected went wrong building this page; the details are in the dashboard's "
                       "log. Other pages may still work.")
