"""``oba serve``: run the dashboard."""

from __future__ import annotations

import click

from etl.context import AppContext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for all).")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", "db", default=None, metavar="URL",
              help="Database URL or SQLite file (overrides oba's --db and OBA_DATABASE_URL).")
@click.option("--debug", is_flag=True, help="Dash debug mode: reload on change, show errors in the browser.")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, db: str | None, debug: bool) -> None:
    """Serve the dashboard on http://HOST:PORT."""
    from dashboard.app import serve

    app = ctx.find_object(AppContext) or AppContext()
    db = db or app.db
    board = app.board_path
    click.echo(f"Serving the dashboard for {AppContext(db=db).safe_url} on http://{host}:{port} (Ctrl+C to stop)")
    serve(db=db, board_path=board, host=host, port=port, debug=debug)
