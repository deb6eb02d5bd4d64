"""DTI Console: the application factory, which only wires the parts together."""

from flask import Flask
from flask_appbuilder import AppBuilder
from werkzeug.middleware.proxy_fix import ProxyFix

from . import database, logs, web
from .extensions import csrf, db, migrate


def create_app(config_object="config.Config"):
    """Build the console app from a config object or its import path."""
    app = Flask(__name__)
    app.config.from_object(config_object)
    app.instance_path = app.config.get("DTI_INSTANCE_DIR", app.instance_path)
    logs.init_app(app)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)

    proxies = app.config.get("DTI_PROXY_COUNT", 0)
    if proxies:
        # Behind a load balancer: trust its X-Forwarded-* for client IPs.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    with app.app_context():
        from . import models  # noqa: F401  (map every table before FAB starts)
        from .views import register_views

        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)

    web.init_app(app)

    from . import cli

    cli.init_app(app)
    return app
