"""Technical logging: one format for the console, gunicorn and the CLI."""

import logging
import os


def init_app(app):
    """Send the console's log lines to stderr at the configured level."""
    level = os.environ.get("DTI_LOG_LEVEL", "INFO").upper()
    root = logging.getLogger("app")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(handler)
    root.setLevel(level)
    # FAB logs every permission check it refuses at INFO; keep its warnings only.
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)
