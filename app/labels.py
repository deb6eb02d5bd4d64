"""Words shown for the codes the data model stores (statuses, phases, kinds)."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from .models import (
    DocumentType,
    EvidenceKind,
    IndicatorKind,
    PhaseKind,
    SubmissionStatus,
    Verdict,
    YearStatus,
)

SUBMISSION_STATUS = {
    SubmissionStatus.DRAFT: _l("Draft"),
    SubmissionStatus.RETURNED: _l("Returned for changes"),
    SubmissionStatus.SUBMITTED: _l("Submitted to the unit approver"),
    SubmissionStatus.APPROVED: _l("Approved by the unit"),
    SubmissionStatus.APPRAISAL_1: _l("In appraisal round 1"),
    SubmissionStatus.EXPLANATION: _l("In explanation"),
    SubmissionStatus.APPRAISAL_2: _l("In appraisal round 2"),
    SubmissionStatus.FINALISED: _l("Finalised"),
    SubmissionStatus.PUBLISHED: _l("Published"),
}

PHASE_KIND = {
    PhaseKind.CONTACT: _l("Contact nomination"),
    PhaseKind.SELF_ASSESSMENT: _l("Self-assessment"),
    PhaseKind.APPRAISAL_1: _l("Appraisal round 1"),
    PhaseKind.EXPLANATION: _l("Explanation"),
    PhaseKind.APPRAISAL_2: _l("Appraisal round 2"),
    PhaseKind.PUBLICATION: _l("Publication"),
}

YEAR_STATUS = {
    YearStatus.DRAFT: _l("Being prepared"),
    YearStatus.OPEN: _l("Running"),
    YearStatus.CLOSED: _l("Closed"),
}

INDICATOR_KIND = {
    IndicatorKind.PILLAR: _l("Pillar or group"),
    IndicatorKind.MAIN: _l("Main indicator"),
    IndicatorKind.COMPONENT: _l("Component indicator"),
}

DOCUMENT_TYPE = {
    DocumentType.REPORT: _l("Report"),
    DocumentType.PLAN: _l("Plan"),
    DocumentType.NOTICE: _l("Notice"),
    DocumentType.DECISION: _l("Decision"),
    DocumentType.OTHER: _l("Other document"),
}

EVIDENCE_KIND = {
    EvidenceKind.SCAN: _l("Scan of a paper document"),
    EvidenceKind.SIGNED: _l("Digitally signed document"),
}

VERDICT = {
    Verdict.AGREE: _l("Agree"),
    Verdict.ADJUST: _l("Adjust"),
}


def label(mapping, code):
    """Return the words for a stored code, or the code itself if unknown."""
    if code is None:
        return ""
    for key, words in mapping.items():
        if key == code or key.value == code:
            return str(words)
    return str(code)


def choices(mapping):
    """Return the options of a select field for a code mapping."""
    return [SelectChoice(str(key.value), words) for key, words in mapping.items()]
