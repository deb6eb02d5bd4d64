"""Screens over submissions, answers, evidence and appraisal notes."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField

from .. import labels
from ..models import Answer, AppraisalNote, Evidence, Submission
from ..services import submissions
from .base import DtiModelView
from .formatting import format_points


def _label_of(mapping):
    return lambda code: labels.label(mapping, code)


def _figures(value):
    """Show an answer's figures as "a = 3, b = 4"."""
    if not value:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key} = {item}" for key, item in value.items())
    return str(value)


SCORE_FORMATTERS = {
    "self_score": format_points,
    "round1_score": format_points,
    "round2_score": format_points,
    "final_score": format_points,
    "proposed_score": format_points,
}

SCORE_LABELS = {
    "self_score": _l("Self score"),
    "round1_score": _l("Round 1 score"),
    "round2_score": _l("Round 2 score"),
    "final_score": _l("Final score"),
}


class SubmissionModelView(DtiModelView):
    """Every agency's dossier for a year, with its state and totals."""

    datamodel = SQLAInterface(Submission)
    record_label = _l("Submission")
    list_title = _l("Submissions")
    show_title = _l("Submission")
    add_title = _l("Open a submission")
    edit_title = _l("Edit submission")

    list_columns = [
        "agency",
        "year",
        "status",
        "self_score",
        "round1_score",
        "final_score",
        "updated_at",
    ]
    export_columns = [
        "id",
        "agency.code",
        "agency.name",
        "year.year",
        "index_set.name",
        "status",
        "self_score",
        "round1_score",
        "final_score",
        "submitted_at",
        "approved_at",
        "finalised_at",
        "returned_reason",
    ]
    search_columns = ["agency", "year", "status", "index_set"]
    order_columns = [
        "agency",
        "year",
        "status",
        "self_score",
        "final_score",
        "updated_at",
    ]
    base_order = ("updated_at", "desc")
    add_columns = ["agency", "year"]
    edit_columns = ["index_set"]
    show_fieldsets = [
        (_l("Submission"), {"fields": ["agency", "year", "index_set", "status"]}),
        (_l("Scores"), {"fields": ["self_score", "round1_score", "final_score"]}),
        (
            _l("Workflow"),
            {
                "fields": [
                    "submitted_at",
                    "submitted_by",
                    "approved_at",
                    "approved_by",
                    "returned_at",
                    "returned_by",
                    "returned_reason",
                    "finalised_at",
                    "finalised_by",
                ]
            },
        ),
    ]
    label_columns = {
        "id": _l("Number"),
        "agency": _l("Agency"),
        "agency.code": _l("Agency code"),
        "agency.name": _l("Agency"),
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "index_set": _l("Index set"),
        "index_set.name": _l("Index set"),
        "status": _l("State"),
        **SCORE_LABELS,
        "submitted_at": _l("Submitted on"),
        "submitted_by": _l("Submitted by"),
        "approved_at": _l("Approved on"),
        "approved_by": _l("Approved by"),
        "returned_at": _l("Returned on"),
        "returned_by": _l("Returned by"),
        "returned_reason": _l("Reason for return"),
        "finalised_at": _l("Finalised on"),
        "finalised_by": _l("Finalised by"),
        "updated_at": _l("Last change"),
    }
    description_columns = {
        "year": _l(
            "The agency's index set for this year is chosen from its level and group."
        ),
        "index_set": _l("Only while the submission is a draft."),
    }
    formatters_columns = {
        "status": _label_of(labels.SUBMISSION_STATUS),
        **SCORE_FORMATTERS,
    }
    export_formatters = {"status": _label_of(labels.SUBMISSION_STATUS)}
    search_form_extra_fields = {
        "status": SelectField(
            _l("State"), choices=labels.choices(labels.SUBMISSION_STATUS)
        )
    }

    def pre_add(self, item):
        submissions.prepare_submission(item)

    def pre_update(self, item):
        submissions.check_index_set_change(item)
        super().pre_update(item)

    def pre_delete(self, item):
        submissions.check_deletable(item)
        super().pre_delete(item)


class AnswerModelView(DtiModelView):
    """Every answer: what an agency reported for one component, and its scores."""

    datamodel = SQLAInterface(Answer)
    record_label = _l("Answer")
    list_title = _l("Answers")
    show_title = _l("Answer")
    edit_title = _l("Edit explanation")
    base_permissions = ["can_list", "can_show", "can_edit", "can_csv"]

    list_columns = [
        "submission",
        "indicator",
        "self_score",
        "round1_score",
        "final_score",
        "updated_at",
    ]
    export_columns = [
        "id",
        "submission.id",
        "submission.agency.code",
        "submission.agency.name",
        "indicator.code",
        "indicator.name",
        "figures",
        "self_score",
        "explanation",
        "round1_score",
        "round2_score",
        "final_score",
        "updated_at",
    ]
    search_columns = ["submission", "indicator", "self_score", "final_score"]
    order_columns = ["self_score", "round1_score", "final_score", "updated_at"]
    base_order = ("id", "asc")
    edit_columns = ["explanation"]
    show_columns = [
        "submission",
        "indicator",
        "figures",
        "self_score",
        "explanation",
        "evidence",
        "round1_score",
        "round2_score",
        "final_score",
        "updated_at",
        "updated_by",
    ]
    label_columns = {
        "id": _l("Number"),
        "submission": _l("Submission"),
        "submission.id": _l("Submission"),
        "submission.agency.code": _l("Agency code"),
        "submission.agency.name": _l("Agency"),
        "indicator": _l("Indicator"),
        "indicator.code": _l("Indicator number"),
        "indicator.name": _l("Indicator"),
        "figures": _l("Figures reported"),
        "explanation": _l("Explanation"),
        "evidence": _l("Evidence"),
        "updated_at": _l("Last change"),
        "updated_by": _l("Changed by"),
        **SCORE_LABELS,
    }
    description_columns = {
        "explanation": _l(
            "Explain the figure where evidence is missing or incomplete; the agency "
            "answers for its accuracy."
        ),
    }
    formatters_columns = {**SCORE_FORMATTERS, "figures": _figures}

    def pre_update(self, item):
        submissions.check_answer_editable(item)
        super().pre_update(item)


class EvidenceModelView(DtiModelView):
    """Evidence files attached to dossiers, with what the PDF check found."""

    datamodel = SQLAInterface(Evidence)
    record_label = _l("Evidence")
    list_title = _l("Evidence")
    show_title = _l("Evidence")
    edit_title = _l("Edit evidence description")
    base_permissions = ["can_list", "can_show", "can_edit", "can_delete", "can_csv"]

    list_columns = [
        "submission",
        "doc_type",
        "doc_number",
        "doc_date",
        "original_filename",
        "kind",
        "page_count",
    ]
    export_columns = [
        "id",
        "submission.id",
        "submission.agency.name",
        "doc_type",
        "doc_number",
        "doc_date",
        "issuer",
        "summary",
        "original_filename",
        "kind",
        "signer_name",
        "signed_at",
        "page_count",
        "size_bytes",
        "sha256",
        "uploaded_at",
    ]
    search_columns = ["submission", "doc_type", "doc_number", "issuer", "kind"]
    order_columns = ["doc_type", "doc_number", "doc_date", "uploaded_at"]
    base_order = ("uploaded_at", "desc")
    edit_columns = [
        "doc_type",
        "doc_number",
        "doc_date",
        "issuer",
        "summary",
        "answers",
    ]
    show_fieldsets = [
        (
            _l("Document"),
            {
                "fields": [
                    "submission",
                    "doc_type",
                    "doc_number",
                    "doc_date",
                    "issuer",
                    "summary",
                    "answers",
                ]
            },
        ),
        (
            _l("File check"),
            {
                "fields": [
                    "original_filename",
                    "kind",
                    "signer_name",
                    "signed_at",
                    "page_count",
                    "size_bytes",
                    "sha256",
                    "uploaded_at",
                    "uploaded_by",
                ]
            },
        ),
    ]
    label_columns = {
        "id": _l("Number"),
        "submission": _l("Submission"),
        "submission.id": _l("Submission"),
        "submission.agency.name": _l("Agency"),
        "doc_type": _l("Document type"),
        "doc_number": _l("Document number"),
        "doc_date": _l("Document date"),
        "issuer": _l("Issued by"),
        "summary": _l("Summary"),
        "answers": _l("Backs the answers"),
        "original_filename": _l("File name"),
        "kind": _l("Kind"),
        "signer_name": _l("Signed by"),
        "signed_at": _l("Signed on"),
        "page_count": _l("Pages"),
        "size_bytes": _l("Size (bytes)"),
        "sha256": _l("SHA-256"),
        "uploaded_at": _l("Uploaded on"),
        "uploaded_by": _l("Uploaded by"),
    }
    description_columns = {
        "doc_number": _l("The document's number as printed, e.g. 123/KH-UBND."),
        "kind": _l("Found by the PDF check: a scan, or a digitally signed document."),
    }
    formatters_columns = {
        "doc_type": _label_of(labels.DOCUMENT_TYPE),
        "kind": _label_of(labels.EVIDENCE_KIND),
    }
    export_formatters = formatters_columns
    edit_form_extra_fields = {
        "doc_type": SelectField(
            _l("Document type"), choices=labels.choices(labels.DOCUMENT_TYPE)
        )
    }
    search_form_extra_fields = edit_form_extra_fields

    def pre_update(self, item):
        submissions.check_evidence_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        submissions.check_evidence_editable(item)
        super().pre_delete(item)


class AppraisalNoteModelView(DtiModelView):
    """Appraisers' verdicts per answer and round, and the agencies' replies."""

    datamodel = SQLAInterface(AppraisalNote)
    record_label = _l("Appraisal note")
    # Verdicts are given on the appraisal page, which applies the rules.
    base_permissions = ["can_list", "can_show", "can_csv"]
    list_title = _l("Appraisal notes")
    show_title = _l("Appraisal note")
    add_title = _l("Add appraisal note")
    edit_title = _l("Edit appraisal note")

    list_columns = [
        "answer",
        "round",
        "verdict",
        "proposed_score",
        "appraiser",
        "updated_at",
    ]
    export_columns = [
        "id",
        "answer.submission.agency.name",
        "answer.indicator.code",
        "round",
        "verdict",
        "proposed_score",
        "comment",
        "appraiser.username",
        "reply_text",
        "reply_at",
        "updated_at",
    ]
    search_columns = ["answer", "round", "verdict", "appraiser"]
    order_columns = ["round", "verdict", "proposed_score", "updated_at"]
    base_order = ("updated_at", "desc")
    add_columns = ["answer", "round", "verdict", "proposed_score", "comment"]
    edit_columns = ["verdict", "proposed_score", "comment"]
    show_columns = [
        "answer",
        "round",
        "verdict",
        "proposed_score",
        "comment",
        "appraiser",
        "created_at",
        "updated_at",
        "reply_text",
        "reply_by",
        "reply_at",
        "reply_approved_by",
        "reply_approved_at",
    ]
    label_columns = {
        "id": _l("Number"),
        "answer": _l("Answer"),
        "answer.submission.agency.name": _l("Agency"),
        "answer.indicator.code": _l("Indicator number"),
        "round": _l("Round"),
        "verdict": _l("Verdict"),
        "proposed_score": _l("Appraised score"),
        "comment": _l("Note"),
        "appraiser": _l("Appraiser"),
        "appraiser.username": _l("Appraiser"),
        "created_at": _l("Created on"),
        "updated_at": _l("Last change"),
        "reply_text": _l("Agency's explanation"),
        "reply_by": _l("Explained by"),
        "reply_at": _l("Explained on"),
        "reply_approved_by": _l("Explanation signed off by"),
        "reply_approved_at": _l("Explanation signed off on"),
    }
    description_columns = {
        "proposed_score": _l("Within 0 and the indicator's maximum."),
        "comment": _l("Required whenever points are cut."),
    }
    formatters_columns = {
        "verdict": _label_of(labels.VERDICT),
        "proposed_score": format_points,
    }
    export_formatters = {"verdict": _label_of(labels.VERDICT)}
    add_form_extra_fields = {
        "verdict": SelectField(_l("Verdict"), choices=labels.choices(labels.VERDICT)),
        "round": SelectField(
            _l("Round"),
            choices=[SelectChoice("1", "1"), SelectChoice("2", "2")],
            coerce=int,
        ),
    }
    edit_form_extra_fields = {"verdict": add_form_extra_fields["verdict"]}
    search_form_extra_fields = {"verdict": add_form_extra_fields["verdict"]}
