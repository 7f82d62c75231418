"""``oba users ...``, ``oba audit export``, ``oba backup`` and ``oba restore``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from etl.context import AppContext


def _read_password(password_stdin: bool, name: str) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin was given but standard input held no password")
        return password
    return click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)


def _agencies(app: AppContext) -> list[str] | None:
    try:
        return [a.code for a in app.board().agencies]
    except Exception:  # no board file: the agency is checked when the board loads
        return None


@click.group("users")
def users_group() -> None:
    """Dashboard accounts: add, list, disable, enable, reset passwords."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["viewer", "analyst", "submitter", "admin"]),
              help="viewer: read; analyst: also governance and uploads; submitter: one agency's returns; admin: all.")
@click.option("--agency", "agency", metavar="CODE", help="The agency a submitter uploads for.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@click.option("--no-password", is_flag=True, help="Single sign-on only: the account cannot sign in with a password.")
@click.pass_obj
def users_add(app: AppContext, name: str, role: str, agency: str | None, password_stdin: bool,
              no_password: bool) -> None:
    """Create an account NAME with a role (the password is asked for, twice)."""
    from etl.users import add_user, normalise_name

    if no_password and password_stdin:
        raise click.UsageError("give --password-stdin or --no-password, not both")
    engine = app.engine()
    clean = normalise_name(name)
    password = None if no_password else _read_password(password_stdin, clean)
    user = add_user(engine, clean, role, password, agency, _agencies(app))
    where = f" for {user.agency_code}" if user.agency_code else ""
    click.echo(f"Added {user.name} as {user.role}{where}"
               + (" (single sign-on only)" if not user.has_password else "") + ".")


@users_group.command("list")
@click.pass_obj
def users_list(app: AppContext) -> None:
    """List the accounts, their roles and whether they are enabled."""
    from etl.users import list_users

    users = list_users(app.engine())
    if not users:
        click.echo("No accounts yet: the dashboard is open on this computer only. Add the first with "
                   "`oba users add NAME --role admin`.")
        return
    width = max(len(u.name) for u in users)
    for u in users:
        state = "disabled" if u.disabled else "enabled"
        extra = [u.agency_code] if u.agency_code else []
        if not u.has_password:
            extra.append("single sign-on only")
        click.echo(f"{u.name:<{width}}  {u.role:<9}  {state:<8}  {', '.join(extra)}".rstrip())


@users_group.command("disable")
@click.argument("name")
@click.pass_obj
def users_disable(app: AppContext, name: str) -> None:
    """Stop NAME signing in, and sign them out everywhere."""
    from etl.users import disable_user

    user = disable_user(app.engine(), name)
    click.echo(f"Disabled {user.name}; their sessions have ended.")


@users_group.command("enable")
@click.argument("name")
@click.pass_obj
def users_enable(app: AppContext, name: str) -> None:
    """Let a disabled account sign in again."""
    from etl.users import enable_user

    user = enable_user(app.engine(), name)
    click.echo(f"Enabled {user.name}.")


@users_group.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.pass_obj
def users_reset_password(app: AppContext, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (their sessions end)."""
    from etl.users import get_user, reset_password

    engine = app.engine()
    if get_user(engine, name) is None:
        from etl.users import AccountError

        raise AccountError(f"there is no account '{name.strip().lower()}'; `oba users list` shows them")
    user = reset_password(engine, name, _read_password(password_stdin, name.strip().lower()))
    click.echo(f"Reset the password of {user.name}; their sessions have ended.")


@click.group("audit")
def audit_group() -> None:
    """The audit trail of every change and sign-in."""


@audit_group.command("export")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="The CSV file to write.")
@click.option("--action", metavar="CODE", help="Only this action (or a prefix ending in '.', e.g. 'user.').")
@click.option("--actor", metavar="NAME", help="Only what this person did.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="From this day.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="To this day.")
@click.pass_obj
def audit_export(app: AppContext, output: Path, action: str | None, actor: str | None, since, until) -> None:
    """Write the audit trail (oldest first) to a CSV file."""
    from etl.audit import export_csv

    n = export_csv(app.engine(), output, action=action, actor=actor, since=since.date() if since else None,
                   until=until.date() if until else None)
    click.echo(f"Wrote {n} audit event{'s' * (n != 1)} to {output}.")


@click.command("backup")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="The backup file to write (a SQLite database).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.pass_obj
def backup_cmd(app: AppContext, output: Path, force: bool) -> None:
    """Copy the store to FILE while it is in use (SQLite; for PostgreSQL use pg_dump)."""
    from etl.backup import backup

    res = backup(app.db, output, force)
    click.echo(f"Backed up {app.safe_url} to {res.path} ({res.bytes / 1e6:.1f} MB, schema {res.revision}, "
               f"sha256 {res.sha256[:16]}).")


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore_cmd(app: AppContext, file: Path, yes: bool) -> None:
    """Replace the store with a backup FILE (the store as it was is kept beside it)."""
    from etl.backup import restore

    if not yes and not click.confirm(f"Replace the store at {app.safe_url} with {file}?", default=False):
        click.echo("Nothing was changed.")
        sys.exit(1)
    res = restore(app.db, file)
    kept = f" The store as it was is kept as {res.kept}." if res.kept else ""
    click.echo(f"Restored {app.safe_url} from {file} (schema {res.revision}).{kept}")
    if res.needs_upgrade:
        click.echo("The backup is on an older schema: run `oba init` to upgrade it before serving.")
