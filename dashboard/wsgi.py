"""The WSGI entry point for a production server: ``gunicorn --preload ... dashboard.wsgi:server``.

Importing this module builds the app and its dataset before the server takes its first request (the store
from ``OBA_DATABASE_URL``, the board from ``OBA_BOARD``). With gunicorn's ``--preload`` the dataset is built
once in the master and every worker starts with it (copy-on-write); without it each worker builds its own
before it accepts requests. Either way no request meets a cold start. When the store cannot be read yet, the
pages say what is wrong; the server still starts.
"""

from __future__ import annotations

import logging

from dashboard import data
from dashboard.app import create_app

log = logging.getLogger(__name__)

app = create_app()
try:
    data.source().view().returns()
except Exception as exc:  # noqa: BLE001 - e.g. no store yet: the pages say so, with what to do
    log.warning("the dataset could not be built at start-up (%s); the pages will say why", type(exc).__name__)
server = app.server
