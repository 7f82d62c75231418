"""``oba serve``: run the dashboard."""

from __future__ import annotations

import click

from etl.context import AppContext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for all).")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", "db", default=None, metavar="URL",
              help="Database URL or SQLite file (overrides oba's --db and OBA_DATABASE_URL).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (gunicorn, Linux only); 1 runs waitress in this process.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per process, each answering one request at a time.")
@click.option("--debug", is_flag=True,
              help="Flask's development server with Dash's debug tools (127.0.0.1/localhost only).")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, db: str | None, workers: int, threads: int,
              debug: bool) -> None:
    """Serve the dashboard on http://HOST:PORT.

    Waitress by default; gunicorn with --workers N. On any address but loopback the store must have accounts
    (`oba users add NAME --role admin`); --debug is refused there.
    """
    from dataclasses import replace

    from click.core import ParameterSource

    from dashboard.server import check_settings, choose_port, in_reloader_child, serve

    app = ctx.find_object(AppContext) or AppContext()
    db = db or app.db
    board = app.board_path
    if debug and in_reloader_child():  # the parent process checked and said all this, and holds the port
        serve(db=db, board_path=board, host=host, port=port, debug=True, workers=workers, threads=threads)
        return
    click.echo(replace(app, db=db, from_env=app.from_env if db == app.db else ()).describe(), err=True)
    check_settings(db, host, debug, workers)
    port, note = choose_port(host, port, explicit=ctx.get_parameter_source("port") != ParameterSource.DEFAULT)
    if note:
        click.echo(note)
    how = "Flask's development server (debug)" if debug else (
        f"gunicorn, {workers} workers x {threads} threads" if workers > 1 else f"waitress, {threads} threads")
    click.echo(f"Starting the dashboard on port {port} with {how}…")
    serve(db=db, board_path=board, host=host, port=port, debug=debug, workers=workers, threads=threads,
          say=click.echo)
