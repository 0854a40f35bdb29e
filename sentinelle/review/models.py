"""The case database: accounts, the alert queue's state, decisions, cases and the audit log.

What detection found lives in the warehouse (DuckDB); what people do about it lives here,
in a SQLite file by default or PostgreSQL for a team. A party is named the way the
warehouse names it: (role, provider, party_id). Nothing here is ever deleted: a decision
is a new row, a status change is a new row, a file is stored once under its SHA-256.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("analyst", "investigator", "supervisor", "auditor", "admin")
ALERT_STATUSES = ("new", "assigned", "escalated", "false_positive", "needs_information")
DECISIONS = {"escalate": "escalated", "false_positive": "false_positive",
             "needs_information": "needs_information"}
CASE_STATUSES = ("open", "investigating", "referred", "closed")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # one of ROLES
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Every attempt, for throttling by account and by address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class AlertState(Base):
    """Where an alert stands in the queue: its status and who has it."""

    __tablename__ = "alert_states"
    __table_args__ = (UniqueConstraint("role", "provider", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(200))
    party_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), default="new")  # one of ALERT_STATUSES
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class Disposition(Base):
    """A decision on an alert, with its reason. Later decisions add rows; the latest
    counts. Dispositions are the labels the glass-box model learns from."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(20), index=True)
    provider: Mapped[str] = mapped_column(String(200))
    party_id: Mapped[str] = mapped_column(String(200), index=True)
    decision: Mapped[str] = mapped_column(String(30))  # a key of DECISIONS
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # detection run
    score: Mapped[float | None] = mapped_column(nullable=True)  # the score then
    scorer: Mapped[str | None] = mapped_column(String(40), nullable=True)  # model version


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(30), default="open")  # one of CASE_STATUSES
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    members: Mapped[list[CaseMember]] = relationship(back_populates="case")
    subjects: Mapped[list[CaseSubject]] = relationship(back_populates="case")
    notes: Mapped[list[CaseNote]] = relationship(back_populates="case",
                                                 order_by="CaseNote.created_at")
    files: Mapped[list[CaseFile]] = relationship(back_populates="case")
    history: Mapped[list[CaseStatusChange]] = relationship(
        back_populates="case", order_by="CaseStatusChange.changed_at")


class CaseMember(Base):
    """Need to know: a case is visible to its members and to supervisors only."""

    __tablename__ = "case_members"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime)

    case: Mapped[Case] = relationship(back_populates="members")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class CaseSubject(Base):
    __tablename__ = "case_subjects"
    __table_args__ = (UniqueConstraint("case_id", "role", "provider", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    role: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(200))
    party_id: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime)

    case: Mapped[Case] = relationship(back_populates="subjects")


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class CaseFile(Base):
    """An attached file, stored once under its SHA-256 and never altered."""

    __tablename__ = "case_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)

    case: Mapped[Case] = relationship(back_populates="files")


class CaseStatusChange(Base):
    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    old_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    new_status: Mapped[str] = mapped_column(String(30))
    changed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="history")


class AuditEntry(Base):
    """One line of the append-only, hash-chained audit log.

    ``hash`` = SHA-256 of the previous entry's hash and this entry's canonical content
    (seq, at, username, role, action, target, detail, ip). Changing, inserting or
    deleting an entry breaks the chain at that entry; ``sentinelle audit verify`` says
    where. The database refuses UPDATE and DELETE on the table (triggers), so tampering
    needs a privileged hand that bypasses them — and the chain still shows it.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)  # "-" for the system
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    ip: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ModelVersion(Base):
    """A glass-box model trained on judged cases: a candidate until a supervisor adopts
    it; adopting one retires the role's previous model. Detection with ``--scorer model``
    scores with the adopted version and records its number with every score."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="candidate")  # MODEL_STATUSES
    source: Mapped[str] = mapped_column(String(300))  # "decisions" or the labels file
    trained_at: Mapped[datetime] = mapped_column(DateTime)
    trained_by: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(32))  # the detection run it learned from
    catalogue_digest: Mapped[str] = mapped_column(String(32))
    n_labels: Mapped[int] = mapped_column(Integer)
    n_positive: Mapped[int] = mapped_column(Integer)
    intercept: Mapped[float] = mapped_column(Float)
    coefficients: Mapped[str] = mapped_column(Text)  # JSON: indicator id -> coefficient
    quality: Mapped[str] = mapped_column(Text)  # JSON: cross-validated figures
    adopted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    adopted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


MODEL_STATUSES = ("candidate", "adopted", "retired")


class RecordJudgement(Base):
    """A person's judgement on two records entity resolution compared: the same person,
    not the same, or unsure — with who, when and why. Source records are never changed;
    a judgement outranks the model at the next clustering (resolve/clusters.py). Undoing
    one marks it undone (who, when, why) and keeps it; a later judgement on the same pair
    adds a row, and the latest one not undone counts."""

    __tablename__ = "record_judgements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_l: Mapped[str] = mapped_column(String(300), index=True)  # record_l < record_r
    record_r: Mapped[str] = mapped_column(String(300), index=True)
    verdict: Mapped[str] = mapped_column(String(20))  # a key of VERDICTS
    reason: Mapped[str] = mapped_column(Text)
    judged_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    judged_at: Mapped[datetime] = mapped_column(DateTime)
    # What the model said when the pair was judged, and in which resolution run.
    match_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    resolve_run: Mapped[int | None] = mapped_column(Integer, nullable=True)
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    undo_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


VERDICTS = {"same": "the same person", "not_same": "not the same person",
            "unsure": "cannot tell (the model decides; the pair leaves the review list)"}


class HandleLink(Base):
    """A person's judgement that a communications handle (a platform's account, a phone
    number in a call log) belongs to a party or a subject — with who, when and why. The
    links that equality and entity resolution find are computed in the warehouse
    (``comm_handle_parties``); these are the ones only a person can make (a display name,
    a national number, a seized phone's owner). Undoing one marks it undone (who, when,
    why) and keeps it."""

    __tablename__ = "handle_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(100))
    handle: Mapped[str] = mapped_column(String(300), index=True)
    # The party as the warehouse names it; provider ``subject`` for a subject.
    role: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(200))
    party_id: Mapped[str] = mapped_column(String(200), index=True)
    reason: Mapped[str] = mapped_column(Text)
    linked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(DateTime)
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    undo_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


REPORT_STATUSES = ("draft", "submitted", "returned", "approved", "exported")
REPORT_SCOPES = ("subject", "case")


class ReportDraft(Base):
    """A report drafted, reviewed and approved in the application before it leaves (four
    eyes: the approver is not the author), then exported once. What it covers is fixed when
    it is drafted — the subjects and the detection run — so the approver approves what will
    be exported; the narrative is kept as drafted and as edited. The export's bytes are
    stored once under their SHA-256, and downloaded again by it."""

    __tablename__ = "report_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String(40))  # a name in report.export.EXPORTERS
    scope: Mapped[str] = mapped_column(String(20))  # one of REPORT_SCOPES
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True,
                                                index=True)
    # The subject (scope "subject"), as the warehouse names it.
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(200), nullable=True)
    party_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    subjects: Mapped[str] = mapped_column(Text)  # JSON [[role, provider, party_id], ...]
    title: Mapped[str] = mapped_column(String(400))
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # detection run
    narrative_drafted: Mapped[str | None] = mapped_column(Text, nullable=True)
    narrative: Mapped[str | None] = mapped_column(Text, nullable=True)  # as edited
    status: Mapped[str] = mapped_column(String(20), default="draft")  # REPORT_STATUSES
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    exported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    export_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    export_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    export_filename: Mapped[str | None] = mapped_column(String(300), nullable=True)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    exporter: Mapped[User | None] = relationship(foreign_keys=[exported_by])
    events: Mapped[list[ReportEvent]] = relationship(back_populates="draft",
                                                     order_by="ReportEvent.id")


class ReportEvent(Base):
    """A report's history: each edit and change of status, by whom, when, with the comment
    (a return's reason)."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("report_drafts.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))  # create, edit, submit, approve, ...
    old_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    new_status: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")

    draft: Mapped[ReportDraft] = relationship(back_populates="events")
    user: Mapped[User] = relationship()
