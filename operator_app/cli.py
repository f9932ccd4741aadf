"""Command-line commands: ``flask demo load`` fills an empty database with the demo base."""
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
