"""The app as the page benchmark serves it (issue 11): ``wsgi.py``'s app plus one route, ``/_bench/floor``.

``gunicorn 'benchmarks.wsgi_bench:create_bench_app()'`` (benchmarks/pages.py starts it). The floor is the
cheapest page the app can serve: the same request handling (session cookie, security headers, the database pool)
with one indexed query (a base by its unique slug) and a trivial template. Pages are measured against it in the
same run. The route exists only in this entry: the product's url_map (wsgi.py) is unchanged.
"""
from flask import render_template_string, request
from sqlalchemy import select

from operator_app import create_app
from operator_app.extensions import db

FLOOR_TEMPLATE = "<!doctype html><title>floor</title><p>{{ name or '-' }}</p>"


def add_floor(app):
    """Add ``GET /_bench/floor?slug=…``: ``SELECT name FROM bases WHERE slug = …`` rendered in a one-line
    template. Returns ``app``."""
    from operator_app.accounts.models import Base

    def bench_floor():
        name = db.session.scalar(select(Base.name).where(Base.slug == request.args.get("slug", "")))
        return render_template_string(FLOOR_TEMPLATE, name=name)

    app.add_url_rule("/_bench/floor", "bench_floor", bench_floor)
    return app


def create_bench_app(env_name=None, overrides=None):
    """The app of ``create_app(env_name, overrides)`` (APP_ENV and the environment by default) with the floor."""
    return add_floor(create_app(env_name, overrides))
