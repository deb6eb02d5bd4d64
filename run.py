"""Entry point for `flask` and gunicorn: builds the app, nothing else."""

from app import create_app

app = create_app()
