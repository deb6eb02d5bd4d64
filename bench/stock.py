"""Stock FAB list views over the console's models: the benchmark's baseline.

Each view is a plain `flask_appbuilder.ModelView` with FAB's defaults (every
relation in search_columns, a dropdown per relation filter, lazy loading) and
the same list columns as the console's view of that model. They live in their
own app, built by `create_app` like the console and added before any request.
"""

import logging

from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app import create_app
from app.models import ActivityLog, Answer, Evidence, Submission
from app.services import roles
from app.views import (
    ActivityLogModelView,
    AnswerModelView,
    EvidenceModelView,
    SubmissionModelView,
)

logger = logging.getLogger(__name__)


class StockSubmissionView(ModelView):
    """Submissions as FAB lists them out of the box."""

    datamodel = SQLAInterface(Submission)
    list_columns = SubmissionModelView.list_columns


class StockAnswerView(ModelView):
    """Answers as FAB lists them out of the box."""

    datamodel = SQLAInterface(Answer)
    list_columns = AnswerModelView.list_columns


class StockEvidenceView(ModelView):
    """Evidence as FAB lists it out of the box."""

    datamodel = SQLAInterface(Evidence)
    list_columns = EvidenceModelView.list_columns


class StockActivityLogView(ModelView):
    """The activity log as FAB lists it out of the box."""

    datamodel = SQLAInterface(ActivityLog)
    list_columns = ActivityLogModelView.list_columns


# The console's view of each model → the stock view it is compared with.
STOCK_VIEWS = {
    SubmissionModelView: StockSubmissionView,
    AnswerModelView: StockAnswerView,
    EvidenceModelView: StockEvidenceView,
    ActivityLogModelView: StockActivityLogView,
}


def create_stock_app(config):
    """Return the console app with the stock views added and Admin allowed them."""
    app = create_app(config)
    with app.app_context():
        for view in STOCK_VIEWS.values():
            app.appbuilder.add_view_no_menu(view)
        # Creates the stock views' permissions; Admin receives every permission.
        roles.sync_permissions()
        roles.sync_roles()
    return app
