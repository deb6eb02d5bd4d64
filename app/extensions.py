"""Unbound Flask extensions, bound to an app in `create_app`."""

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# Named constraints let later migrations alter tables (SQLite rebuilds them).
# FAB's own tables were declared before this line and keep their names.
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# FAB's models and ours share one MetaData, so Alembic sees every table
# (without it, autogenerate proposes dropping FAB's ab_* tables).
db = SQLA(metadata=Model.metadata)

# render_as_batch lets SQLite ALTER tables through copy-and-move.
migrate = Migrate(render_as_batch=True)

# FAB does not switch CSRF protection on; without it a GET can delete a row.
csrf = CSRFProtect()
