"""PostgreSQL roles for row-level security: the app runs as a role that owns nothing and cannot bypass RLS.

Migrations run as the owner of the tables (``MIGRATION_DATABASE_URL``); the app connects with
``DATABASE_URL`` as another role, which the migration run grants data access to (never DDL, never ownership).
The policies themselves are in migration 3b1f0c2d9e47; ``operator_app.db`` sets the per-transaction scope.
"""
from sqlalchemy import text


def grant_app_role(connection, role):
    """Give ``role`` the rights the app needs on the current schema: read and write rows, use sequences.

    Idempotent; run after every migration so tables added later are covered. ``alembic_version`` stays
    read-only for the app.
    """
    preparer = connection.dialect.identifier_preparer
    quoted = preparer.quote(role)
    schema = preparer.quote(connection.execute(text("SELECT current_schema()")).scalar_one())
    connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}"))
    connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}"))
    connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON {schema}.alembic_version FROM {quoted}"))


def app_role_problems(connection):
    """What makes the connected role unfit to run the app under row-level security (an empty list when fit)."""
    row = connection.execute(text(
        "SELECT r.rolname, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user")).one()
    problems = []
    if row.rolsuper:
        problems.append(f"role {row.rolname} is a superuser: row-level security does not apply to it")
    if row.rolbypassrls:
        problems.append(f"role {row.rolname} has BYPASSRLS")
    owned = connection.execute(text(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner = current_user"
    )).scalar_one()
    if owned:
        problems.append(f"role {row.rolname} owns {owned} tables: run migrations as another role "
                        "(MIGRATION_DATABASE_URL) and the app as one that owns none")
    return problems


def refuse_unfit_role(app):
    """Production on PostgreSQL: refuse to start as a role that row-level security would not bind.

    An unreachable database is only logged here: the pool reconnects once it is back.
    """
    from sqlalchemy.exc import OperationalError

    from .extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                problems = app_role_problems(connection)
            if problems:
                db.engine.dispose()
        except OperationalError:
            app.logger.warning("database unreachable at start; its role is checked at the next start")
            return
    if problems:
        raise RuntimeError("The app's database role is unfit for production (docs/deploy.md, 'Database roles'): "
                           + "; ".join(problems))
