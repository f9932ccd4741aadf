"""The WSGI entry point: ``gunicorn wsgi:app`` (APP_ENV=production) or ``flask --app wsgi run``."""
from operator_app import create_app

app = create_app()
