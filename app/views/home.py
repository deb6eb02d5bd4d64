"""The landing page: where the round stands and what the user has to do."""

from flask_appbuilder import IndexView, expose

from ..services import dashboard, permissions


class HomeView(IndexView):
    """The console's home page, set as FAB_INDEX_VIEW."""

    route_base = ""
    index_template = "dti/index.html"

    @expose("/")
    def index(self):
        context = dashboard.home(permissions.current_user())
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, **context
        )
