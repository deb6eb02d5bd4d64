"""Request-wide behaviour: error pages, security headers, URL checks, filters."""

import logging
import re
import secrets

from flask import current_app, flash, g, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from . import labels
from .extensions import db
from .models import SubmissionStatus
from .services.exceptions import DomainError
from .views.formatting import format_date, format_datetime, format_points

logger = logging.getLogger(__name__)

# FAB reads these list arguments with int() and would answer a typo with a 500.
_PAGING_ARGUMENT = re.compile(r"^(page|psize)_")


def _csp_nonce():
    if "_csp_nonce" not in g:
        g._csp_nonce = secrets.token_urlsafe(16)
    return g._csp_nonce


def _check_paging_arguments():
    """Answer 400 to a page or page-size argument that is not a whole number."""
    for name, value in request.args.items():
        if _PAGING_ARGUMENT.match(name) and not value.isdigit():
            message = _l("The page number or page size in the address is not valid.")
            return render_template("dti/error.html", code=400, message=message), 400
    return None


def _security_headers(response):
    """Add the headers every page should carry."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    nonce = g.get("_csp_nonce")
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src {script}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "font-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'",
    )
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _error_page(code, message):
    return render_template("dti/error.html", code=code, message=message), code


def _handle_http_error(error):
    messages = {
        400: _l("The request could not be understood."),
        403: _l("You do not have access to this page."),
        404: _l("The page or record does not exist, or you do not have access to it."),
        405: _l("This action is not allowed here."),
        413: _l("The file is too large."),
        429: _l("Too many attempts. Wait a minute and try again."),
    }
    message = messages.get(error.code, error.description)
    return _error_page(error.code, message)


def _handle_server_error(error):
    """Roll the session back so the failed transaction does not leak."""
    db.session.rollback()
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return _error_page(500, _l("Something went wrong. The error has been logged."))


def _handle_domain_error(error):
    """Show a refusal from a custom view: back to where the user was."""
    db.session.rollback()
    if error.status_code in (403, 404):
        return _error_page(error.status_code, error.message)
    flash(str(error.message), "danger")
    return redirect(request.referrer or "/")


def _template_context():
    """Give every template what FAB's base layout expects."""
    appbuilder = current_app.appbuilder
    return {"appbuilder": appbuilder, "base_template": appbuilder.base_template}


def init_app(app):
    """Register the hooks, handlers and template helpers on the app."""
    app.context_processor(_template_context)
    app.before_request(_check_paging_arguments)
    app.after_request(_security_headers)
    app.register_error_handler(DomainError, _handle_domain_error)
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, _handle_http_error)
    app.register_error_handler(500, _handle_server_error)
    app.jinja_env.globals["csp_nonce"] = _csp_nonce
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "vi")
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["points"] = format_points
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["SubmissionStatus"] = SubmissionStatus
    app.jinja_env.globals["label"] = labels.label
