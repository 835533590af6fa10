"""The search vector of a generated conversation, in tsvector's text form (PostgreSQL)."""

from loadgen.world import FOLLOWUPS, REPLIES, SUBJECT_POOL, TEXT_POOL


class PooledVectors:
    """The search vector of a generated conversation, written by Python in tsvector's text form.

    inbox.search builds a conversation's vector as setweight(to_tsvector('simple', subject), 'A')
    followed by to_tsvector('simple', text) of each message, every part's positions shifted past
    the largest position so far (tsvector's `||`). Generated texts all come from the pools above,
    so PostgreSQL parses each pooled text once; a conversation's vector is then its parts'
    lexemes with shifted positions, and PostgreSQL only reads the text form back (it merges a
    lexeme listed twice), which costs a fraction of running the parser on every row.
    tests/loadgen/test_generate_load.py checks the result equals what inbox.search builds."""

    _loaded: "PooledVectors | None" = None

    def __init__(self, parsed: dict):
        self.parsed = parsed  # text -> ([(quoted lexeme, positions)], largest position)
        self.fragments: dict = {}

    @classmethod
    def of(cls, raw) -> "PooledVectors":
        """The pools' vectors, parsed once per process on the psycopg connection `raw`."""
        if cls._loaded is None:
            texts = sorted(
                {"", *FOLLOWUPS, *REPLIES}.union(*TEXT_POOL.values(), *SUBJECT_POOL.values())
            )
            parsed = {text: ([], 0) for text in texts}
            for text, lexeme, positions in raw.execute(
                "SELECT t, v.lexeme, v.positions FROM unnest(%s::text[]) AS t, "
                "unnest(to_tsvector('simple', t)) AS v",
                [texts],
            ):
                entries, top = parsed[text]
                quoted = lexeme.replace("\\", "\\\\").replace("'", "''")
                entries.append((f"'{quoted}':", positions))
                parsed[text] = (entries, max(top, *positions))
            cls._loaded = cls(parsed)
        return cls._loaded

    def fragment(self, text: str, offset: int, weight: str) -> tuple[str, int]:
        """A text's lexemes with positions shifted by offset, and the largest position."""
        key = (text, offset, weight)
        found = self.fragments.get(key)
        if found is None:
            entries, top = self.parsed[text]
            found = self.fragments[key] = (
                " ".join(
                    label + ",".join(f"{p + offset}{weight}" for p in positions)
                    for label, positions in entries
                ),
                offset + top,
            )
        return found

    def vector(self, subject: str, texts: list[str]) -> str:
        parts = []
        part, offset = self.fragment(subject, 0, "A")
        if part:
            parts.append(part)
        for text in texts:
            part, offset = self.fragment(text, offset, "")
            if part:
                parts.append(part)
        return " ".join(parts)
