"""The orderings the conversation list offers. Each is a keyset: its fields, then id, so that
paging by cursor is exact and index-backed. `first_response_due` puts conversations with no
due time last."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Ordering:
    field: str
    descending: bool
    nullable: bool = False

    def order_by(self):
        from django.db.models import F

        # NULLS LAST only where a value can be missing: on a NOT NULL column it would not match
        # the index's order, and PostgreSQL would sort every visible row instead of reading an index.
        nulls_last = True if self.nullable else None
        expr = (
            F(self.field).desc(nulls_last=nulls_last)
            if self.descending
            else F(self.field).asc(nulls_last=nulls_last)
        )
        tiebreak = "-id" if self.descending else "id"
        return [expr, tiebreak]


ORDERINGS = {
    "-last_message_at": Ordering("last_message_at", descending=True),
    "last_message_at": Ordering("last_message_at", descending=False),
    "-created_at": Ordering("created_at", descending=True),
    "created_at": Ordering("created_at", descending=False),
    "first_response_due": Ordering("first_response_due", descending=False, nullable=True),
    # "severity" reads as "by severity": the most severe first.
    "severity": Ordering("severity", descending=True),
}
DEFAULT_ORDERING = "-last_message_at"
