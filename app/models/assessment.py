"""Submissions, their answers and evidence, and the appraisers' notes."""

import enum

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import relationship

from ..services.clock import now
from .indexes import POINTS, AssessmentYear, IndexSet, Indicator
from .organisation import Agency, DtiUser


class SubmissionStatus(enum.IntEnum):
    """Where an agency's dossier is in the round; compare with < and >=."""

    DRAFT = 10  # the specialist is entering figures
    RETURNED = 15  # sent back with a reason; editable again like a draft
    SUBMITTED = 20  # waiting for the unit approver's sign-off
    APPROVED = 30  # signed off by the unit, locked, waiting for appraisal
    APPRAISAL_1 = 40  # appraisers are giving round-1 verdicts
    EXPLANATION = 50  # the agency answers the notes where points were cut
    APPRAISAL_2 = 60  # appraisers settle the disputed components
    FINALISED = 70  # final scores fixed by the organiser
    PUBLISHED = 80  # part of a published ranking


class Submission(Model):
    """One agency's self-assessment dossier for one year."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("agency_id", "year_id", name="uq_submission_agency_year"),
        Index("ix_submission_year_status", "year_id", "status"),
    )

    id = Column(Integer, primary_key=True)
    agency_id = Column(Integer, ForeignKey("agency.id"), nullable=False)
    agency = relationship(Agency, lazy="joined")
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    year = relationship(AssessmentYear, lazy="joined")
    index_set_id = Column(Integer, ForeignKey("index_set.id"), nullable=False)
    index_set = relationship(IndexSet)
    status = Column(Integer, nullable=False, default=SubmissionStatus.DRAFT)

    # Totals kept in step with the answers by the scoring service.
    self_score = Column(POINTS)
    round1_score = Column(POINTS)
    final_score = Column(POINTS)

    submitted_at = Column(DateTime)
    submitted_by_id = Column(Integer, ForeignKey("ab_user.id"))
    approved_at = Column(DateTime)
    approved_by_id = Column(Integer, ForeignKey("ab_user.id"))
    returned_at = Column(DateTime)
    returned_by_id = Column(Integer, ForeignKey("ab_user.id"))
    returned_reason = Column(Text)
    finalised_at = Column(DateTime)
    finalised_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=False, default=now, onupdate=now)

    submitted_by = relationship(DtiUser, foreign_keys=[submitted_by_id])
    approved_by = relationship(DtiUser, foreign_keys=[approved_by_id])
    returned_by = relationship(DtiUser, foreign_keys=[returned_by_id])
    finalised_by = relationship(DtiUser, foreign_keys=[finalised_by_id])

    answers = relationship(
        "Answer", back_populates="submission", cascade="all, delete-orphan"
    )
    evidence = relationship(
        "Evidence", back_populates="submission", cascade="all, delete-orphan"
    )

    @property
    def status_enum(self):
        return SubmissionStatus(self.status)

    @classmethod
    def search_text(cls, text):
        """Return the condition for dossiers whose agency matches typed text."""
        return cls.agency_id.in_(select(Agency.id).where(Agency.search_text(text)))

    def __str__(self):
        return f"#{self.id} {self.agency} – {self.year}"


answer_evidence = Table(
    "answer_evidence",
    Model.metadata,
    Column(
        "answer_id",
        Integer,
        ForeignKey("answer.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "evidence_id",
        Integer,
        ForeignKey("evidence.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_answer_evidence_evidence_id", "evidence_id"),
)


class Answer(Model):
    """What one agency reported for one component indicator, and its scores."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint(
            "submission_id", "indicator_id", name="uq_answer_submission_indicator"
        ),
        Index("ix_answer_indicator_id", "indicator_id"),
    )

    id = Column(Integer, primary_key=True)
    submission_id = Column(Integer, ForeignKey("submission.id"), nullable=False)
    submission = relationship(Submission, back_populates="answers")
    indicator_id = Column(Integer, ForeignKey("indicator.id"), nullable=False)
    indicator = relationship(Indicator, lazy="joined")
    # The inputs the indicator's rule asks for, e.g. {"a": 3, "b": 4}.
    figures = Column(JSON)
    self_score = Column(POINTS)
    # The agency's explanation of its figure (giải trình), required where a
    # scored component needs evidence and has none.
    explanation = Column(Text)
    round1_score = Column(POINTS)
    round2_score = Column(POINTS)
    final_score = Column(POINTS)
    updated_at = Column(DateTime, nullable=False, default=now, onupdate=now)
    updated_by_id = Column(Integer, ForeignKey("ab_user.id"))
    updated_by = relationship(DtiUser)
    # Optimistic locking: a save based on an old version is refused, not merged.
    version = Column(Integer, nullable=False)

    evidence = relationship(
        "Evidence", secondary=answer_evidence, back_populates="answers"
    )
    notes = relationship(
        "AppraisalNote",
        back_populates="answer",
        order_by="AppraisalNote.round",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def search_text(cls, text):
        """Return the condition for answers of an agency or an indicator number."""
        return or_(
            cls.submission_id.in_(
                select(Submission.id).where(Submission.search_text(text))
            ),
            cls.indicator_id.in_(select(Indicator.id).where(Indicator.code == text)),
        )

    def __str__(self):
        return f"#{self.id} {self.indicator.code}"


class EvidenceKind(enum.StrEnum):
    """What the PDF check found the file to be."""

    SCAN = "scan"  # a scanned paper document: no signature field
    SIGNED = "signed"  # an electronic document carrying a digital signature


class DocumentType(enum.StrEnum):
    """The kinds of document the organiser's letter lists as evidence."""

    REPORT = "report"
    PLAN = "plan"
    NOTICE = "notice"
    DECISION = "decision"
    OTHER = "other"


class Evidence(Model):
    """A checked PDF attached to an agency's dossier, linkable to many answers."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("submission_id", "sha256", name="uq_evidence_submission_sha"),
    )

    id = Column(Integer, primary_key=True)
    submission_id = Column(Integer, ForeignKey("submission.id"), nullable=False)
    submission = relationship(Submission, back_populates="evidence")
    doc_type = Column(String(20), nullable=False, default=DocumentType.OTHER)
    doc_number = Column(String(100))
    doc_date = Column(Date)
    issuer = Column(String(255))
    summary = Column(Text)
    original_filename = Column(String(255), nullable=False)
    # Content-addressed storage: identical files are stored once.
    storage_key = Column(String(100), nullable=False)
    size_bytes = Column(BigInteger, nullable=False)
    page_count = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False, index=True)
    kind = Column(String(10), nullable=False)
    signer_name = Column(String(255))
    signed_at = Column(DateTime)
    uploaded_at = Column(DateTime, nullable=False, default=now)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    uploaded_by = relationship(DtiUser)

    answers = relationship(Answer, secondary=answer_evidence, back_populates="evidence")

    def __str__(self):
        label = self.doc_number or self.original_filename
        return f"#{self.id} {label}"


class Verdict(enum.StrEnum):
    """An appraiser's verdict on one component."""

    AGREE = "agree"  # the agency's score stands
    ADJUST = "adjust"  # the appraiser sets another score, with a note


class AppraisalNote(Model):
    """An appraiser's verdict on one answer in one round, and the agency's reply."""

    __tablename__ = "appraisal_note"
    __table_args__ = (
        UniqueConstraint("answer_id", "round", name="uq_appraisal_note_round"),
    )

    id = Column(Integer, primary_key=True)
    answer_id = Column(Integer, ForeignKey("answer.id"), nullable=False)
    answer = relationship(Answer, back_populates="notes")
    round = Column(Integer, nullable=False)
    appraiser_id = Column(Integer, ForeignKey("ab_user.id"))
    appraiser = relationship(DtiUser, foreign_keys=[appraiser_id])
    verdict = Column(String(10), nullable=False)
    proposed_score = Column(POINTS)
    comment = Column(Text)
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=False, default=now, onupdate=now)

    # The agency's explanation in answer to a round-1 cut, and its sign-off.
    reply_text = Column(Text)
    reply_by_id = Column(Integer, ForeignKey("ab_user.id"))
    reply_by = relationship(DtiUser, foreign_keys=[reply_by_id])
    reply_at = Column(DateTime)
    reply_approved_by_id = Column(Integer, ForeignKey("ab_user.id"))
    reply_approved_by = relationship(DtiUser, foreign_keys=[reply_approved_by_id])
    reply_approved_at = Column(DateTime)

    def __str__(self):
        return f"#{self.id} (vòng {self.round})"
