"""Command-line commands: demo data, platform admins, backup and restore, the scheduler process and scheduled
jobs."""
import logging
import signal
import sqlite3
from datetime import datetime
from pathlib import Path

import click

from .extensions import db


def register(app):
    @app.cli.group()
    def demo():
        """Demo data."""

    @demo.command("load")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
    def demo_load(if_empty):
        """Load the demo operator, base and users, and print the demo logins."""
        from .accounts.services import count_users
        from .demo import DEMO_PASSWORD, DEMO_USERS, load_demo

        if count_users():
            if not if_empty:
                raise click.ClickException("The database already has users; demo data is for an empty one.")
            click.echo("Database already has data; demo not loaded.")
        else:
            base = load_demo()
            db.session.commit()
            click.echo(f"Demo base loaded: {base.name} (/b/{base.slug}/)")
        click.echo("Demo logins (password for all: %s):" % DEMO_PASSWORD)
        for email, name, role, _ in DEMO_USERS:
            click.echo(f"  {role:8} {name}  {email}")


    @app.cli.group()
    def users():
        """User accounts."""

    @users.command("make-admin")
    @click.argument("email")
    def make_admin(email):
        """Make the account with EMAIL a platform admin (it can then enter working-day calendars)."""
        from sqlalchemy import select

        from .accounts.models import User
        from .accounts.services import normalise_email

        user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise click.ClickException(f"No account with the email {email}.")
        user.is_platform_admin = True
        db.session.commit()
        click.echo(f"{user.name} <{user.email}> is now a platform admin.")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(path_type=Path))
    def backup_command(path):
        """Write the SQLite database and the uploaded files to the archive PATH (a .tar.gz; a folder gets a
        dated name), safely while the app runs. PostgreSQL: pg_dump, see docs/deploy.md."""
        from .backup import BackupError, create_backup

        try:
            written, manifest = create_backup(path)
        except (BackupError, OSError, sqlite3.Error) as error:
            raise click.ClickException(str(error)) from None
        files = sum(1 for name in manifest["checksums"] if name.startswith("files/"))
        click.echo(f"Backup written: {written}")
        click.echo(f"  revision {manifest['alembic_revision']}, {sum(manifest['tables'].values())} rows in "
                   f"{len(manifest['tables'])} tables, {files} files, made {manifest['created_at']}")
        for key in manifest["missing_files"]:
            click.echo(f"  warning: {key} is recorded in stored_files but was not in the upload folder", err=True)

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True,
                  help="Replace a database that has rows or an upload folder that has files (both kept aside).")
    def restore_command(path, force):
        """Restore the SQLite database and the uploaded files from the archive PATH made by `flask backup`,
        after checking it whole. Stop the web app and the scheduler first."""
        from .backup import BackupError, restore_backup

        try:
            restored = restore_backup(path, force=force)
        except (BackupError, OSError, sqlite3.Error) as error:
            raise click.ClickException(str(error)) from None
        manifest = restored.manifest
        files = sum(1 for name in manifest["checksums"] if name.startswith("files/"))
        click.echo(f"Restored {path} (made {manifest['created_at']}): {sum(manifest['tables'].values())} rows in "
                   f"{len(manifest['tables'])} tables, {files} files.")
        if restored.upgraded_from:
            click.echo(f"  the database was upgraded from revision {restored.upgraded_from} to this version's.")
        for kept in restored.kept:
            click.echo(f"  what it replaced is kept at {kept}")


    @app.cli.command("scheduler")
    def scheduler_process():
        """Run the scheduled jobs in the foreground until stopped (production: a process of its own)."""
        from apscheduler.schedulers.blocking import BlockingScheduler

        from .scheduler import JOBS, TIMEZONE, init_scheduler

        # The job results and failures go to the process's stderr (the journal under systemd).
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        scheduler = init_scheduler(app, BlockingScheduler)
        click.echo(f"Scheduler started ({TIMEZONE.key}); each job runs now to catch up, then on its trigger:")
        for job in JOBS.values():
            click.echo(f"  {job.name:32} {_describe_trigger(job)}")
        # SIGTERM (systemd's and Docker's stop) and SIGINT (Ctrl-C, KillSignal=SIGINT) both stop it gently, even
        # when SIGINT came ignored from a shell that started it in the background.
        signal.signal(signal.SIGTERM, _stop_scheduler)
        signal.signal(signal.SIGINT, _stop_scheduler)
        try:
            scheduler.start()
        except KeyboardInterrupt:
            scheduler.shutdown()  # waits for a running job, so no base's work is cut off
            click.echo("Scheduler stopped.")

    @app.cli.group()
    def jobs():
        """Scheduled jobs."""

    @jobs.command("list")
    def jobs_list():
        """List the registered jobs with their triggers."""
        from .scheduler import JOBS

        if not JOBS:
            click.echo("No jobs registered.")
        for job in JOBS.values():
            click.echo(f"{job.name:32} {_describe_trigger(job)}")

    @jobs.command("run")
    @click.argument("name")
    @click.option("--now", callback=_parse_now, metavar="ISO-DATETIME",
                  help="Run as if it were this moment, with its UTC offset: 2026-11-23T02:00:00+08:00.")
    def jobs_run(name, now):
        """Run the job NAME for every base now, and print which bases were done, skipped or failed."""
        from .scheduler import get_job, run_job

        try:
            get_job(name)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
        result = run_job(name, now)
        click.echo(f"{name}: {result}")
        if result.failed:
            raise click.exceptions.Exit(1)  # the failures are logged above; cron and monitors see the status

    @app.cli.group()
    def bench():
        """Benchmark data (the generator in benchmarks/, run from the project's folder)."""

    @bench.command("generate")
    @click.option("--scale", "scale_name", default="small", show_default=True,
                  type=click.Choice(["province", "small", "base300"]),
                  help="province: 200 bases x 100 companies; small: 10 x 100; base300: 1 x 300.")
    @click.option("--bases", type=click.IntRange(min=1), help="Override the scale's number of bases.")
    @click.option("--companies", type=click.IntRange(min=1), help="Override the companies per base.")
    @click.option("--months", type=click.IntRange(min=1), help="Override the months of monthly reports.")
    @click.option("--seed", type=int, default=1, show_default=True, help="The same seed makes the same data.")
    @click.option("--copy/--no-copy", "use_copy", default=None,
                  help="PostgreSQL: load with COPY (default: when the role bypasses row-level security).")
    def bench_generate(scale_name, bases, companies, months, seed, use_copy):
        """Fill this EMPTY database with realistic bases, companies, reports, ledger, attendance and bills.

        Every generated user's password is printed at the end; a base's manager logs in as
        manager.<base slug>@bench.example.com."""
        from benchmarks.generate import PASSWORD, SCALES, GeneratorRefused, base_slug, generate, manager_email

        scale = SCALES[scale_name].with_overrides(bases=bases, companies=companies, months=months)
        try:
            result = generate(app, scale, seed=seed, progress=click.echo, use_copy=use_copy)
        except GeneratorRefused as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Generated {result['rows']:,} rows in {result['elapsed']:.1f} s "
                   f"({result['write_seconds']:.1f} s in the database's writes"
                   f"{', COPY' if result['copy'] else ''}); {result['files']:,} files placed.")
        for table, rows in result["tables"].items():
            click.echo(f"  {table:28} {rows:>12,}")
        click.echo(f"Log in as {manager_email(base_slug(0))} (any base: manager.<slug>@…), password {PASSWORD}.")


def _stop_scheduler(signum, frame):
    """A stop signal to `flask scheduler`: end its main loop as Ctrl-C does, in the main thread."""
    raise KeyboardInterrupt


def _describe_trigger(job):
    """The job's cron trigger as APScheduler prints it, with the timezone it is read in."""
    from .scheduler import TIMEZONE, cron_trigger

    return f"{cron_trigger(job.trigger)} ({TIMEZONE.key})"


def _parse_now(ctx, param, value):
    """The --now option as an aware datetime; a time without its UTC offset is ambiguous, so refused."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date and time.") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the UTC offset too, for example 2026-11-23T02:00:00+08:00.")
    return moment
