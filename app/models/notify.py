"""Notices to users: the in-console inbox and the mail outbox."""

import enum

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from ..services.clock import now
from .organisation import DtiUser


class MailStatus(enum.StrEnum):
    """Where a mail is on its way out."""

    QUEUED = "queued"  # written, not tried yet
    SENT = "sent"  # accepted by the SMTP server
    FAILED = "failed"  # refused or unreachable; retried until attempts run out


class Notification(Model):
    """One notice in one user's inbox."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    user = relationship(DtiUser)
    created_at = Column(DateTime, nullable=False, default=now)
    # A dotted event name such as "submission.returned" or "deadline.moved".
    event = Column(String(60), nullable=False)
    subject = Column(String(255), nullable=False)
    body = Column(Text, nullable=False)
    # Where the notice leads in the console, e.g. the self-assessment page.
    link = Column(String(500))
    read_at = Column(DateTime)

    def __str__(self):
        return self.subject


class MailMessage(Model):
    """One e-mail the console sent or tried to send, kept as proof of notice."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status", "status"),)

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, nullable=False, default=now)
    notification_id = Column(
        Integer, ForeignKey("notification.id", ondelete="SET NULL")
    )
    notification = relationship(Notification)
    event = Column(String(60), nullable=False)
    recipient = Column(String(320), nullable=False)
    subject = Column(String(255), nullable=False)
    body = Column(Text, nullable=False)
    status = Column(String(10), nullable=False, default=MailStatus.QUEUED)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    sent_at = Column(DateTime)

    def __str__(self):
        return f"#{self.id} {self.recipient}: {self.subject}"
