"""The data model, grouped by domain; importing this package maps every table."""

from .assessment import (
    Answer,
    AppraisalNote,
    DocumentType,
    Evidence,
    EvidenceKind,
    Submission,
    SubmissionStatus,
    Verdict,
    answer_evidence,
)
from .audit import ActivityLog
from .indexes import (
    AssessmentYear,
    Field,
    IndexSet,
    Indicator,
    IndicatorKind,
    Phase,
    PhaseExtension,
    PhaseKind,
    YearStatus,
    field_appraiser,
)
from .notify import MailMessage, MailStatus, Notification
from .organisation import Agency, AgencyLevel, DepartmentGroup, DtiUser
from .results import (
    TOTAL,
    Band,
    Publication,
    PublishedResult,
    Ranking,
    ScoreRollup,
)

__all__ = [
    "TOTAL",
    "Band",
    "Publication",
    "PublishedResult",
    "Ranking",
    "ScoreRollup",
    "ActivityLog",
    "Agency",
    "AgencyLevel",
    "Answer",
    "AppraisalNote",
    "AssessmentYear",
    "DepartmentGroup",
    "DocumentType",
    "DtiUser",
    "Evidence",
    "EvidenceKind",
    "Field",
    "IndexSet",
    "Indicator",
    "IndicatorKind",
    "MailMessage",
    "MailStatus",
    "Notification",
    "Phase",
    "PhaseExtension",
    "PhaseKind",
    "Submission",
    "SubmissionStatus",
    "Verdict",
    "YearStatus",
    "answer_evidence",
    "field_appraiser",
]
