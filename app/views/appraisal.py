"""The appraisers' board and verdict page, the agencies' explanation page, and
the organiser's summary where a dossier is finalised or reopened."""

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import labels
from ..extensions import db
from ..models import (
    Agency,
    AgencyLevel,
    Answer,
    AppraisalNote,
    IndicatorKind,
    Submission,
    Verdict,
)
from ..services import appraisal, evidence, notify, permissions, scoring
from ..services.exceptions import DomainError
from .forms import EvidenceForm, ReasonForm

BOARD_LIMIT = 200


def _flash_refusal(error):
    db.session.rollback()
    flash(str(error.message), "danger")
    for problem in error.errors[:20]:
        flash(problem, "warning")


class AppraisalView(BaseView):
    """Where appraisers give verdicts and organisers finalise dossiers."""

    route_base = "/appraisal"
    default_view = "board"
    base_permissions = [
        "can_board",
        "can_answer",
        "can_summary",
        "can_finalise",
        "can_reopen",
        "can_close_explanation",
    ]

    @expose("/")
    @has_access
    def board(self):
        """The components of the user's fields still waiting for a verdict."""
        user = permissions.current_user()
        round_ = 2 if request.args.get("round") == "2" else 1
        agency_id = request.args.get("agency", type=int)
        level = request.args.get("level") or None
        code = request.args.get("code") or None
        statement = appraisal.board_query(user, round_, agency_id, level, code)
        total = db.session.execute(
            select(func.count()).select_from(statement.order_by(None).subquery())
        ).scalar()
        rows = db.session.execute(statement.limit(BOARD_LIMIT)).scalars().all()

        agencies = db.session.execute(
            select(Agency)
            .where(Agency.id.in_(select(Submission.agency_id).where(_visible(user))))
            .order_by(Agency.name)
        ).scalars()
        levels = db.session.execute(select(AgencyLevel).order_by(AgencyLevel.rank))
        return self.render_template(
            "dti/appraisal/board.html",
            rows=rows,
            total=total,
            limit=BOARD_LIMIT,
            round_=round_,
            agencies=list(agencies),
            levels=list(levels.scalars()),
            selected={"agency": agency_id, "level": level, "code": code or ""},
            title=_l("Appraisal board"),
        )

    @expose("/answer/<int:answer_id>", methods=["GET", "POST"])
    @has_access
    def answer(self, answer_id):
        """See an agency's figures and evidence for a component; give a verdict."""
        answer = db.session.get(Answer, answer_id)
        user = permissions.current_user()
        if answer is None or not permissions.can_see(user, answer):
            abort(404)
        typed = {}
        if request.method == "POST":
            typed = {
                "verdict": request.form.get("verdict", ""),
                "score": request.form.get("score", ""),
                "comment": request.form.get("comment", ""),
            }
            entry = appraisal.VerdictInput(**typed)
            try:
                appraisal.record_verdict(answer, user, entry)
            except DomainError as error:
                _flash_refusal(error)
            else:
                notify.deliver()
                flash(str(_l("Verdict saved.")), "success")
                return redirect(request.form.get("next") or url_for(".board"))

        round_ = appraisal.round_of(answer.submission)
        note = appraisal.note_of(answer, round_) if round_ else None
        if not typed and note is not None:
            typed = {
                "verdict": note.verdict,
                "score": scoring.points(note.proposed_score)
                if note.proposed_score is not None
                else "",
                "comment": note.comment or "",
            }
        return self.render_template(
            "dti/appraisal/answer.html",
            answer=answer,
            submission=answer.submission,
            round_=round_,
            typed=typed,
            refusal=appraisal.why_not_appraise(user, answer),
            next_url=request.args.get("next") or request.referrer,
            verdicts=Verdict,
            rule_names=scoring.RULE_NAMES,
            title=_l("Appraise a component"),
        )

    @expose("/submission/<int:submission_id>")
    @has_access
    def summary(self, submission_id):
        """Every component of a dossier with its scores and notes, per round."""
        submission = _load(submission_id)
        user = permissions.current_user()
        components = sorted(
            (
                a
                for a in submission.answers
                if a.indicator.kind == IndicatorKind.COMPONENT
            ),
            key=lambda item: item.indicator.position,
        )
        return self.render_template(
            "dti/appraisal/summary.html",
            submission=submission,
            components=components,
            note_of=appraisal.note_of,
            is_cut=appraisal.is_cut,
            is_disputed=appraisal.is_disputed,
            finalise_refusal=appraisal.why_not_finalise(user, submission),
            can_reopen=appraisal.organises(user, submission) if user else False,
            reopen_form=ReasonForm(prefix="reopen"),
            status_label=labels.label(labels.SUBMISSION_STATUS, submission.status),
            title=_l("Appraisal summary"),
        )

    @expose("/submission/<int:submission_id>/finalise", methods=["POST"])
    @has_access
    def finalise(self, submission_id):
        submission = _load(submission_id)
        try:
            appraisal.finalise(submission, permissions.current_user())
        except DomainError as error:
            _flash_refusal(error)
        else:
            flash(str(_l("Submission #%(id)s finalised.", id=submission.id)), "success")
        return redirect(url_for(".summary", submission_id=submission.id))

    @expose("/submission/<int:submission_id>/reopen", methods=["POST"])
    @has_access
    def reopen(self, submission_id):
        submission = _load(submission_id)
        form = ReasonForm(prefix="reopen")
        try:
            form.validate_on_submit()
            appraisal.reopen(submission, permissions.current_user(), form.reason.data)
        except DomainError as error:
            _flash_refusal(error)
        else:
            flash(str(_l("Submission #%(id)s reopened.", id=submission.id)), "success")
        return redirect(url_for(".summary", submission_id=submission.id))

    @expose("/submission/<int:submission_id>/close-explanation", methods=["POST"])
    @has_access
    def close_explanation(self, submission_id):
        submission = _load(submission_id)
        try:
            appraisal.close_explanation(submission, permissions.current_user())
        except DomainError as error:
            _flash_refusal(error)
        else:
            flash(
                str(_l("Submission #%(id)s moved to round 2.", id=submission.id)),
                "success",
            )
        return redirect(url_for(".summary", submission_id=submission.id))


def _visible(user):
    scope = permissions.row_scope(Submission, user)
    return scope if scope is not None else Submission.id.isnot(None)


def _load(submission_id):
    submission = db.session.get(Submission, submission_id)
    if submission is None or not permissions.can_see(
        permissions.current_user(), submission
    ):
        abort(404)
    return submission


class ExplanationView(BaseView):
    """Where an agency answers the notes that cut its points."""

    route_base = "/explanation"
    default_view = "page"
    base_permissions = ["can_page", "can_reply", "can_sign_off", "can_add_evidence"]

    @expose("/<int:submission_id>")
    @has_access
    def page(self, submission_id):
        submission = _load(submission_id)
        user = permissions.current_user()
        notes = [
            appraisal.note_of(answer, 1)
            for answer in sorted(submission.answers, key=lambda a: a.indicator.position)
        ]
        notes = [note for note in notes if note is not None]
        return self.render_template(
            "dti/appraisal/explanation.html",
            submission=submission,
            notes=notes,
            is_cut=appraisal.is_cut,
            reply_refusal=appraisal.why_not_explain(user, submission),
            sign_off_refusal=appraisal.why_not_sign_off(user, submission),
            status_label=labels.label(labels.SUBMISSION_STATUS, submission.status),
            evidence_form=EvidenceForm(prefix="evidence"),
            title=_l("Explanations"),
        )

    @expose("/<int:submission_id>/reply/<int:note_id>", methods=["POST"])
    @has_access
    def reply(self, submission_id, note_id):
        submission = _load(submission_id)
        note = db.session.get(AppraisalNote, note_id)
        if note is None or note.answer.submission_id != submission.id:
            abort(404)
        try:
            appraisal.reply(note, permissions.current_user(), request.form.get("reply"))
        except DomainError as error:
            _flash_refusal(error)
        else:
            flash(str(_l("Explanation saved.")), "success")
        return redirect(url_for(".page", submission_id=submission.id) + f"#n{note.id}")

    @expose("/<int:submission_id>/sign-off", methods=["POST"])
    @has_access
    def sign_off(self, submission_id):
        submission = _load(submission_id)
        try:
            appraisal.sign_off(submission, permissions.current_user())
        except DomainError as error:
            _flash_refusal(error)
        else:
            flash(
                str(_l("Explanations signed off; the dossier goes to round 2.")),
                "success",
            )
        return redirect(url_for(".page", submission_id=submission.id))

    @expose("/<int:submission_id>/evidence/<int:note_id>", methods=["POST"])
    @has_access
    def add_evidence(self, submission_id, note_id):
        """Attach a new PDF to the answer of a cut, while explaining it."""
        submission = _load(submission_id)
        note = db.session.get(AppraisalNote, note_id)
        user = permissions.current_user()
        if note is None or note.answer.submission_id != submission.id:
            abort(404)
        refusal = appraisal.why_not_explain(user, submission)
        form = EvidenceForm(prefix="evidence")
        if refusal is not None:
            flash(str(refusal), "danger")
        elif not form.validate_on_submit():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "danger")
        else:
            upload = form.file.data
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
                    answers=[note.answer],
                )
                db.session.commit()
            except DomainError as error:
                _flash_refusal(error)
            else:
                flash(
                    str(_l("Evidence #%(id)s checked and attached.", id=item.id)),
                    "success",
                )
        return redirect(url_for(".page", submission_id=submission.id) + f"#n{note.id}")
