"""Disputes: a member says a listing is wrong (a legitimate customer, its own number, a reassigned number); the
listing weighs less while the dispute is open, and an admin upholds it (the listing goes, its reporters' reputation
drops) or rejects it (the listing stays)."""

from ringfence.disputes.models import Dispute, DisputeReason, DisputeStatus, Outcome
from ringfence.disputes.service import DisputeService

__all__ = ["Dispute", "DisputeReason", "DisputeService", "DisputeStatus", "Outcome"]
