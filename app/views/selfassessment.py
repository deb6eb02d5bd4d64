"""The self-assessment screen: where a specialist answers and its leader signs.

One page per pillar of the agency's index set. Each component shows its method,
the inputs its rule needs, the score as saved, the explanation and the evidence.
A refused save keeps every typed value and says what is wrong, per component.
"""

import logging
from decimal import Decimal

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import labels
from ..extensions import db
from ..models import (
    Evidence,
    IndicatorKind,
    PhaseKind,
    Submission,
    SubmissionStatus,
)
from ..services import calendar, dashboard, evidence, permissions, scoring, workflow
from ..services.exceptions import DomainError
from ..services.workflow import AnswerInput
from .forms import EvidenceForm, ReasonForm

logger = logging.getLogger(__name__)

# The inputs each rule asks for, by form key (see _figures_from_form).
RULE_INPUTS = {
    "yes_no": ("value",),
    "choice": ("choice",),
    "count": ("count",),
    "ratio": ("a", "b"),
    "parts": ("parts",),
    "relative": ("value",),
    "manual": ("points",),
    "not_scored": ("value",),
}


def _number(text):
    """Return a typed number as int or float, keeping what cannot be read as text."""
    text = (text or "").strip().replace(",", ".")
    try:
        value = Decimal(text)
    except ArithmeticError:
        return text
    if not value.is_finite():
        return text
    return int(value) if value == value.to_integral() else float(value)


def figures_from_form(answer, form):
    """Return the figures typed for one answer, or None when nothing was typed."""
    rule = answer.indicator.rule_type
    prefix = f"a{answer.id}_"
    if rule == "parts":
        ticked = form.getlist(prefix + "parts")
        marked = form.get(prefix + "parts_seen")
        return {"parts": ticked} if (ticked or marked) else None

    raw = {
        key: (form.get(prefix + key) or "").strip() for key in RULE_INPUTS.get(rule, ())
    }
    if not any(raw.values()):
        return None
    if rule == "yes_no":
        return {"value": raw["value"] == "1"}
    if rule in ("count", "relative", "manual", "ratio"):
        return {key: _number(value) if value else None for key, value in raw.items()}
    return raw


def _entries(submission, form, only=None):
    ids = [int(value) for value in form.getlist("answer_ids") if value.isdigit()]
    if only is not None:
        ids = [only] if only in ids else []
    by_id = {answer.id: answer for answer in submission.answers}
    entries = []
    for answer_id in ids:
        answer = by_id.get(answer_id)
        if answer is None:
            continue
        prefix = f"a{answer_id}_"
        version = form.get(prefix + "version", "")
        entries.append(
            AnswerInput(
                answer_id=answer_id,
                version=int(version) if version.isdigit() else None,
                figures=figures_from_form(answer, form),
                explanation=form.get(prefix + "explanation", ""),
                evidence_ids=[
                    int(value)
                    for value in form.getlist(prefix + "evidence")
                    if value.isdigit()
                ],
            )
        )
    return entries


def _values_from_answer(answer):
    """Return what the inputs of one component show, from the database."""
    figures = answer.figures or {}
    values = {
        key: figures.get(key) for key in RULE_INPUTS.get(answer.indicator.rule_type, ())
    }
    if answer.indicator.rule_type == "yes_no" and "value" in figures:
        values["value"] = "1" if figures["value"] else "0"
    values["explanation"] = answer.explanation or ""
    values["evidence"] = [item.id for item in answer.evidence]
    values["version"] = answer.version
    return values


def _values_from_form(answer, form):
    """Return what the user typed for one component, to show it again."""
    prefix = f"a{answer.id}_"
    values = {
        key: form.get(prefix + key, "")
        for key in RULE_INPUTS.get(answer.indicator.rule_type, ())
    }
    if answer.indicator.rule_type == "parts":
        values["parts"] = form.getlist(prefix + "parts")
    values["explanation"] = form.get(prefix + "explanation", "")
    values["evidence"] = [
        int(v) for v in form.getlist(prefix + "evidence") if v.isdigit()
    ]
    values["version"] = form.get(prefix + "version", "")
    return values


class Tree:
    """The submission's index set arranged for the screen, with running totals."""

    def __init__(self, submission):
        self.submission = submission
        self.answers = {answer.indicator_id: answer for answer in submission.answers}
        indicators = submission.index_set.indicators
        self.pillars = [
            item for item in indicators if item.kind == IndicatorKind.PILLAR
        ]
        self.children = {}
        for indicator in indicators:
            self.children.setdefault(indicator.parent_id, []).append(indicator)

    def components_of(self, indicator):
        if indicator.kind == IndicatorKind.COMPONENT:
            return [indicator]
        found = []
        for child in self.children.get(indicator.id, []):
            found.extend(self.components_of(child))
        return found

    def total(self, indicator):
        scores = [
            self.answers[item.id].self_score
            for item in self.components_of(indicator)
            if item.id in self.answers and self.answers[item.id].self_score is not None
        ]
        return sum(scores, Decimal(0))

    def answered(self, indicator=None):
        components = (
            self.components_of(indicator)
            if indicator
            else [
                item for pillar in self.pillars for item in self.components_of(pillar)
            ]
        )
        done = sum(
            1
            for item in components
            if item.id in self.answers and self.answers[item.id].figures
        )
        return done, len(components)


class SelfAssessmentView(BaseView):
    """The specialist's and the unit approver's screen over one submission."""

    route_base = "/self-assessment"
    default_view = "index"
    base_permissions = [
        "can_index",
        "can_page",
        "can_save",
        "can_submit",
        "can_approve",
        "can_send_back",
        "can_upload",
        "can_remove_evidence",
        "can_download",
    ]

    # --- Loading ---

    def _load(self, submission_id):
        """Return the submission if the user may see it; else answer 404."""
        submission = db.session.get(Submission, submission_id)
        user = permissions.current_user()
        if submission is None or not permissions.can_see(user, submission):
            abort(404)
        return submission

    @expose("/")
    @has_access
    def index(self):
        """Open the user's own agency's dossier of the running year."""
        user = permissions.current_user()
        year = dashboard.current_year()
        if user.agency is not None and year is not None:
            submission = workflow.submission_for(user.agency, year)
            if submission is not None:
                return redirect(url_for(".page", submission_id=submission.id))
        return redirect(url_for("SubmissionModelView.list"))

    # --- The page ---

    @expose("/<int:submission_id>")
    @has_access
    def page(self, submission_id):
        submission = self._load(submission_id)
        return self._render(submission)

    def _render(self, submission, form=None, result=None, status=200):
        user = permissions.current_user()
        tree = Tree(submission)
        pillar_code = request.args.get("pillar") or request.form.get("pillar")
        pillar = next(
            (item for item in tree.pillars if item.code == pillar_code),
            tree.pillars[0] if tree.pillars else None,
        )
        values = {}
        for answer in submission.answers:
            typed = form is not None and str(answer.id) in form.getlist("answer_ids")
            values[answer.id] = (
                _values_from_form(answer, form)
                if typed
                else _values_from_answer(answer)
            )

        window = calendar.window(
            submission.year, PhaseKind.SELF_ASSESSMENT, submission.agency
        )
        evidence_form = EvidenceForm(prefix="evidence")
        return (
            self.render_template(
                "dti/selfassessment/page.html",
                submission=submission,
                tree=tree,
                pillar=pillar,
                values=values,
                result=result,
                window=window,
                missing=workflow.missing_items(submission),
                edit_refusal=permissions.why_not_edit_submission(user, submission),
                can_edit=permissions.can_edit_submission(user, submission),
                can_submit=permissions.can_submit(user, submission),
                can_approve=permissions.can_approve(user, submission),
                can_return=permissions.can_return(user, submission),
                evidence_form=evidence_form,
                return_form=ReasonForm(prefix="return"),
                rule_names=scoring.RULE_NAMES,
                kinds=IndicatorKind,
                statuses=SubmissionStatus,
                status_label=labels.label(labels.SUBMISSION_STATUS, submission.status),
                title=_l("Self-assessment"),
            ),
            status,
        )

    # --- Saving ---

    @expose("/<int:submission_id>", methods=["POST"])
    @has_access
    def save(self, submission_id):
        """Save the components of the page, or only the one whose button was used."""
        submission = self._load(submission_id)
        user = permissions.current_user()
        only = request.form.get("only", "")
        entries = _entries(
            submission, request.form, int(only) if only.isdigit() else None
        )
        try:
            result = workflow.save_answers(submission, user, entries)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return self._render(submission, form=request.form, status=409)

        if result.ok:
            flash(
                str(_l("%(count)s components saved.", count=len(result.saved))),
                "success",
            )
            return redirect(
                url_for(
                    ".page",
                    submission_id=submission.id,
                    pillar=request.form.get("pillar"),
                )
            )

        if result.saved:
            flash(
                str(_l("%(count)s components saved.", count=len(result.saved))),
                "success",
            )
        if result.errors:
            flash(
                str(
                    _l(
                        "%(count)s components were not saved: correct the figures "
                        "marked below.",
                        count=len(result.errors),
                    )
                ),
                "danger",
            )
        if result.conflicts:
            flash(
                str(
                    _l(
                        "%(count)s components were changed by someone else since you "
                        "opened the page; their new values are shown beside yours.",
                        count=len(result.conflicts),
                    )
                ),
                "warning",
            )
        return self._render(submission, form=request.form, result=result, status=409)

    # --- Workflow ---

    def _act(self, submission, action, *arguments):
        try:
            action(submission, permissions.current_user(), *arguments)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            for problem in error.errors[:30]:
                flash(problem, "warning")
            return False
        return True

    @expose("/<int:submission_id>/submit", methods=["POST"])
    @has_access
    def submit(self, submission_id):
        """Send the dossier to the unit approver."""
        submission = self._load(submission_id)
        if self._act(submission, workflow.submit):
            flash(str(_l("Submitted to the unit approver.")), "success")
        return redirect(url_for(".page", submission_id=submission.id))

    @expose("/<int:submission_id>/approve", methods=["POST"])
    @has_access
    def approve(self, submission_id):
        """Sign the self-assessment off."""
        submission = self._load(submission_id)
        if self._act(submission, workflow.approve):
            flash(str(_l("Self-assessment approved; it goes to appraisal.")), "success")
        return redirect(url_for(".page", submission_id=submission.id))

    @expose("/<int:submission_id>/return", methods=["POST"])
    @has_access
    def send_back(self, submission_id):
        """Return the dossier to its specialist with a reason."""
        submission = self._load(submission_id)
        form = ReasonForm(prefix="return")
        if not form.validate_on_submit():
            flash(str(_l("Give the reason for returning the submission.")), "danger")
            return redirect(url_for(".page", submission_id=submission.id))
        if self._act(submission, workflow.return_to_agency, form.reason.data):
            flash(str(_l("Returned to the specialist with your reason.")), "success")
        return redirect(url_for(".page", submission_id=submission.id))

    # --- Evidence ---

    @expose("/<int:submission_id>/evidence", methods=["POST"])
    @has_access
    def upload(self, submission_id):
        """Check an uploaded PDF and attach it to the dossier."""
        submission = self._load(submission_id)
        user = permissions.current_user()
        form = EvidenceForm(prefix="evidence")
        reason = permissions.why_not_edit_submission(user, submission)
        if reason is not None:
            flash(str(reason), "danger")
            return redirect(url_for(".page", submission_id=submission.id))
        if not form.validate_on_submit():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "danger")
            return redirect(url_for(".page", submission_id=submission.id))

        upload = form.file.data
        answer_ids = {
            int(v) for v in request.form.getlist("evidence-answers") if v.isdigit()
        }
        linked = [answer for answer in submission.answers if answer.id in answer_ids]
        try:
            item = evidence.add_evidence(
                submission,
                upload.read(),
                upload.filename or "tai-lieu.pdf",
                user,
                doc_type=form.doc_type.data,
                doc_number=form.doc_number.data or None,
                doc_date=form.doc_date.data,
                issuer=form.issuer.data or None,
                summary=form.summary.data or None,
                answers=linked,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            flash(
                str(
                    _l(
                        "Evidence #%(id)s checked and attached (%(kind)s, "
                        "%(pages)s pages).",
                        id=item.id,
                        kind=labels.label(labels.EVIDENCE_KIND, item.kind),
                        pages=item.page_count,
                    )
                ),
                "success",
            )
        return redirect(
            url_for(
                ".page", submission_id=submission.id, pillar=request.form.get("pillar")
            )
        )

    @expose("/<int:submission_id>/evidence/<int:evidence_id>/remove", methods=["POST"])
    @has_access
    def remove_evidence(self, submission_id, evidence_id):
        """Remove a file from a dossier that is still being prepared."""
        submission = self._load(submission_id)
        item = db.session.get(Evidence, evidence_id)
        if item is None or item.submission_id != submission.id:
            abort(404)
        reason = permissions.why_not_edit_submission(
            permissions.current_user(), submission
        )
        if reason is not None:
            flash(str(reason), "danger")
        else:
            evidence.remove_evidence(item)
            db.session.commit()
            flash(str(_l("Evidence #%(id)s removed.", id=evidence_id)), "success")
        return redirect(url_for(".page", submission_id=submission.id))

    @expose("/evidence/<int:evidence_id>")
    @has_access
    def download(self, evidence_id):
        """Send an evidence file to a user allowed to read its dossier."""
        item = db.session.get(Evidence, evidence_id)
        user = permissions.current_user()
        # The record decides, not the view permission: FAB's own download does not.
        if item is None or not permissions.can_see(user, item):
            abort(404)
        path = evidence.path_of(item)
        if not path.exists():
            logger.error("evidence %s: stored file %s is missing", item.id, path)
            abort(404)
        return send_file(
            path,
            mimetype="application/pdf",
            as_attachment=request.args.get("download") == "1",
            download_name=item.original_filename,
            max_age=0,
        )


def submissions_waiting(user):
    """Return the dossiers waiting for this unit approver's signature."""
    if user is None or user.agency_id is None:
        return []
    return (
        db.session.execute(
            select(Submission).where(
                Submission.agency_id == user.agency_id,
                Submission.status == SubmissionStatus.SUBMITTED,
            )
        )
        .scalars()
        .all()
    )
