"""The campaign board: the phase calendar, progress per phase, late agencies."""

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import AssessmentYear
from ..services import campaign, dashboard, permissions


class CampaignView(BaseView):
    """Where the organiser (or a district, for its communes) watches the round."""

    route_base = "/campaign"
    default_view = "board"
    base_permissions = ["can_board"]

    @expose("/")
    @has_access
    def board(self):
        years = (
            db.session.execute(
                select(AssessmentYear).order_by(AssessmentYear.year.desc())
            )
            .scalars()
            .all()
        )
        chosen = request.args.get("year", type=int)
        year = next((item for item in years if item.id == chosen), None)
        year = year or dashboard.current_year()
        data = campaign.board(permissions.current_user(), year) if year else None
        return self.render_template(
            "dti/campaign/board.html",
            years=years,
            year=year,
            board=data,
            title=_l("Campaign board"),
        )
