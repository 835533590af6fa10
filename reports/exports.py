"""Each report as CSV rows: the table behind every chart."""

import csv
import io

from reports.selectors import SLA_TARGETS


def _cell(value) -> str:
    if isinstance(value, int | float):
        return str(value)  # a number, even a negative NPS, is no formula
    text = "" if value is None else str(value)
    # A cell starting with = + - @ (or a tab or CR) runs as a formula in spreadsheet programs.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _volume(data):
    yield ["period", "created", "resolved", "reopened", "backlog"]
    for r in data["rows"]:
        yield [r["period"], r["created"], r["resolved"], r["reopened"], r["backlog"]]


def _response_times(data):
    head = ["period"]
    for m in ("first_response", "resolution"):
        head += [f"{m}_count", f"{m}_median_seconds", f"{m}_p90_seconds"]
    yield head
    for r in data["rows"]:
        line = [r["period"]]
        for m in ("first_response", "resolution"):
            line += [r[m]["count"], r[m]["median_seconds"], r[m]["p90_seconds"]]
        yield line


def _sla(data):
    head = ["period"]
    for t in SLA_TARGETS:
        head += [f"{t}_met", f"{t}_missed", f"{t}_share_met"]
    yield head
    for r in data["rows"]:
        line = [r["period"]]
        for t in SLA_TARGETS:
            line += [r[t]["met"], r[t]["missed"], r[t]["share_met"]]
        yield line


def _sla_breaches(data):
    yield ["team", "severity", *SLA_TARGETS, "total"]
    for b in data["breaches"]:
        yield [b["team"] or "", b["severity"], *(b[t] for t in SLA_TARGETS), b["total"]]


def _fcr(data):
    yield ["period", "resolved", "first_contact", "rate"]
    for r in data["rows"]:
        yield [r["period"], r["resolved"], r["first_contact"], r["rate"]]


def _csat(data):
    yield ["period", "sent", "answered", "average_score"]
    for r in data["rows"]:
        yield [r["period"], r["sent"], r["answered"], r["average_score"]]


def _workload(data):
    yield ["kind", "name", "assigned", "resolved", "median_handle_seconds"]
    for kind in ("agents", "teams"):
        for r in data[kind]:
            yield [kind[:-1], r["name"], r["assigned"], r["resolved"], r["median_handle_seconds"]]


def _tags(data):
    yield ["period", "tag", "created"]
    for r in data["rows"]:
        for tag, n in r["counts"].items():
            yield [r["period"], tag, n]


def _phrases(data):
    yield ["phrase", "conversations"]
    for p in data["phrases"]:
        yield [p["phrase"], p["conversations"]]


def _busiest(data):
    yield ["weekday", *(f"{h:02d}:00" for h in range(24))]
    for r in data["rows"]:
        yield [r["weekday"], *r["hours"]]


_NPS = ["answered", "promoters", "passives", "detractors", "nps"]


def _survey_table(data, columns, distribution: bool):
    """Per period, then per team, agent, channel and tag: one table, its first column saying
    which grouping the row belongs to."""
    scale = list(data["totals"]["distribution"]) if distribution else []
    yield ["grouping", "key", "sent", *columns, *(f"score_{s}" for s in scale)]

    def line(grouping, key, row, sent=""):
        spread = [row["distribution"][s] for s in scale]
        return [grouping, key, sent, *(row[c] for c in columns), *spread]

    for r in data["rows"]:
        yield line("period", r["period"], r, r["sent"])
    for grouping, rows in data["breakdown"].items():
        for r in rows:
            yield line(grouping, r["name"] or "", r)


def _nps(data):
    return _survey_table(data, _NPS, distribution=False)


def _ces(data):
    return _survey_table(data, ["answered", "average"], distribution=True)


def _comments(surveys):
    yield ["answered_at", "conversation", "subject", "score", "comment", "channel", "team", "agent"]
    for s in surveys:
        c = s.conversation
        yield [
            s.answered_at.isoformat(),
            c.pk,
            c.subject,
            s.score,
            s.comment,
            s.channel.slug,
            getattr(c.team, "slug", ""),
            getattr(c.assignee, "username", ""),
        ]


WRITERS = {
    "volume": ("volume", _volume),
    "response-times": ("response-times", _response_times),
    "sla": ("sla", _sla),
    "sla-breaches": ("sla", _sla_breaches),
    "first-contact-resolution": ("first-contact-resolution", _fcr),
    "csat": ("csat", _csat),
    "workload": ("workload", _workload),
    "tags": ("tags", _tags),
    "phrases": ("phrases", _phrases),
    "busiest-hours": ("busiest-hours", _busiest),
    "nps": ("nps", _nps),
    "ces": ("ces", _ces),
}


def to_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def comments_csv(surveys) -> str:
    return to_csv(_comments(surveys))
