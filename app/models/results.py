"""Results: rolled-up scores, rankings, bands and published snapshots."""

from flask_appbuilder import Model
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from ..services.clock import now
from .indexes import POINTS, AssessmentYear
from .mixins import TrackedMixin
from .organisation import Agency, DtiUser

# The national DTI value: points ÷ maximum on a 0–1 scale, four decimals.
VALUE = Numeric(6, 4)

# The node code of a dossier's grand total in the roll-up and the rankings.
TOTAL = "TOTAL"


class Band(TrackedMixin, Model):
    """A classification band of a year (Tốt, Khá…) from a minimum DTI value."""

    __tablename__ = "band"
    __table_args__ = (UniqueConstraint("year_id", "name", name="uq_band_year_name"),)

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    year = relationship(AssessmentYear)
    name = Column(String(100), nullable=False)
    # The lowest DTI value (0–1) that earns this band.
    min_value = Column(VALUE, nullable=False)

    def __str__(self):
        return self.name


class ScoreRollup(Model):
    """A pillar or the total of one dossier, its points summed and capped.

    Main indicators are capped on the way but not kept: rebuilt in one pass of
    set-based statements by `flask dti rank`.
    """

    __tablename__ = "score_rollup"
    __table_args__ = (
        UniqueConstraint("submission_id", "node_code", name="uq_score_rollup_node"),
        Index("ix_score_rollup_year_node", "year_id", "node_code"),
    )

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    submission_id = Column(
        Integer, ForeignKey("submission.id", ondelete="CASCADE"), nullable=False
    )
    agency_id = Column(Integer, ForeignKey("agency.id"), nullable=False)
    # The pillar; empty for the grand total.
    node_id = Column(Integer, ForeignKey("indicator.id", ondelete="CASCADE"))
    node_code = Column(String(20), nullable=False)
    tier = Column(Integer, nullable=False)  # 0 total, 1 pillar
    self_points = Column(POINTS)
    round1_points = Column(POINTS)
    final_points = Column(POINTS)
    max_points = Column(POINTS, nullable=False)


class Ranking(Model):
    """One agency's place among its peers, overall or on one pillar."""

    __tablename__ = "ranking"
    __table_args__ = (
        Index("ix_ranking_year_scope", "year_id", "scope", "node_code", "rank"),
        Index("ix_ranking_agency", "agency_id"),
    )

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    submission_id = Column(
        Integer, ForeignKey("submission.id", ondelete="CASCADE"), nullable=False
    )
    agency_id = Column(Integer, ForeignKey("agency.id"), nullable=False)
    agency = relationship(Agency)
    # Who is compared: "department:G1", "district", "commune", "commune:<district id>".
    scope = Column(String(40), nullable=False)
    node_code = Column(String(20), nullable=False)
    points = Column(POINTS, nullable=False)
    max_points = Column(POINTS, nullable=False)
    value = Column(VALUE, nullable=False)
    rank = Column(Integer, nullable=False)
    band = Column(String(100))


class Publication(Model):
    """A dated, immutable publication of a year's results (or one district's)."""

    __tablename__ = "publication"
    __table_args__ = (
        UniqueConstraint("year_id", "scope", "version", name="uq_publication_version"),
    )

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    year = relationship(AssessmentYear)
    # "city" for departments and districts; "district:<id>" for its communes.
    scope = Column(String(40), nullable=False)
    version = Column(Integer, nullable=False)
    published_at = Column(DateTime, nullable=False, default=now)
    published_by_id = Column(Integer, ForeignKey("ab_user.id"))
    published_by = relationship(DtiUser)
    # Why a later version corrects an earlier one.
    reason = Column(Text)
    superseded_at = Column(DateTime)

    results = relationship(
        "PublishedResult", back_populates="publication", cascade="all, delete-orphan"
    )

    def __str__(self):
        return f"{self.year} – {self.scope} v{self.version}"


class PublishedResult(Model):
    """One row of a publication, copied with the names as they were then."""

    __tablename__ = "published_result"
    __table_args__ = (
        Index(
            "ix_published_result_lookup", "publication_id", "ranking_scope", "node_code"
        ),
    )

    id = Column(Integer, primary_key=True)
    publication_id = Column(
        Integer, ForeignKey("publication.id", ondelete="CASCADE"), nullable=False
    )
    publication = relationship(Publication, back_populates="results")
    agency_id = Column(Integer, ForeignKey("agency.id"), nullable=False)
    agency_code = Column(String(20), nullable=False)
    agency_name = Column(String(255), nullable=False)
    level_code = Column(String(20), nullable=False)
    group_code = Column(String(10))
    district_name = Column(String(255))
    ranking_scope = Column(String(40), nullable=False)
    node_code = Column(String(20), nullable=False)
    node_name = Column(Text, nullable=False)
    self_points = Column(POINTS)
    round1_points = Column(POINTS)
    final_points = Column(POINTS, nullable=False)
    max_points = Column(POINTS, nullable=False)
    value = Column(VALUE, nullable=False)
    rank = Column(Integer)
    band = Column(String(100))
