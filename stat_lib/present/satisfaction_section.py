"""The department packet's resident satisfaction section (the ``surveys`` kind).

Numbers come from :mod:`stat_lib.metrics.satisfaction` (share satisfied, margin, status, the
``survey_margin`` verdict read through :func:`stat_lib.metrics.methods.assess`); this module
arranges them, every data string escaped. Comments are shown in internal packets only.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from ..core.periods import Period
from ..metrics import satisfaction as sat
from ..metrics.methods import CONCERNING, IMPROVING, VERDICT_TEXT, assess
from ..metrics.moved import moved_row, ranked
from ..metrics.scoring import target_for
from ..store.surveys import load_responses
from .html import HTML, STATUS_BADGE, badge, esc, table

QUARTERS = 8  # the trend "what moved" reads (two years)
MARK = {"met": "✓", "missed": "✗", sat.TOO_CLOSE: "≈", sat.TOO_FEW: "few", None: "—"}


def status_html(status) -> str:
    """A status badge: met / missed as everywhere, otherwise its words on grey."""
    if status in ("met", "missed"):
        return badge(status)
    background, color, _ = STATUS_BADGE["n/a"]
    return (f'<span class="stat-badge" style="background:{background};color:{color}">'
            f'{esc(sat.STATUS_TEXT.get(status, status))}</span>')


class SatisfactionSection:
    """One department's survey results for the latest complete quarter at ``period``'s end."""

    def __init__(self, params, department, period: Period, audience):
        self.params, self.department, self.audience = params, department, audience
        self.survey = params.city.survey
        self.quarter = sat.survey_quarter(period, params.city.timezone)
        self.responses = load_responses(params, department.slug)
        t = target_for(department, "satisfaction")
        self.target = t.target if t else None

    @property
    def has_responses(self) -> bool:
        return not self.responses.empty

    @cached_property
    def trend(self) -> pd.DataFrame:
        return sat.satisfaction_trend(self.responses, self.survey, self.quarter,
                                      self.department.slug, n=QUARTERS)

    @cached_property
    def assessment(self):
        return assess(self.trend, "satisfaction", direction="higher", target=self.target)

    def moved(self) -> pd.DataFrame:
        """The satisfaction "what moved" row (ranked form), for page one; empty without data."""
        if not self.has_responses:
            return ranked([])
        return ranked([moved_row(self.trend, self.department.slug, "satisfaction",
                                 self.assessment)])

    # --- the section --------------------------------------------------------------------------

    def outputs(self) -> list:
        """Heading, the figure with its margin and status, the change, districts, method,
        comments (internal only); [] for a department without survey responses."""
        from IPython.display import Markdown
        if not self.has_responses:
            return []
        return [Markdown("## Resident satisfaction (survey)"),
                HTML('<div class="stat-satisfaction">' + self.headline() + self.change()
                     + self.districts() + self.method() + self.comments() + "</div>")]

    def headline(self) -> str:
        last = self.trend.iloc[-1]
        label = self.quarter.describe()
        if not last["responses"]:
            return f'<p class="stat-lede">No survey responses in {esc(label)}.</p>'
        n = int(last["responses"])
        status = sat.judge(last["value"], last["margin"], n, self.target,
                           self.survey.min_responses)
        figure = (f"{last['value']:.0%} satisfied ±{last['margin'] * 100:.1f} points, "
                  f"{n:,} responses, {label}"
                  if status != sat.TOO_FEW else
                  f"{last['value']:.0%} satisfied, {n:,} responses, {label}: too few to judge")
        against = (f" Target {self.target:.0%}: {status_html(status)}"
                   if self.target is not None and status != sat.TOO_FEW else "")
        return f'<p class="stat-lede">{esc(figure)}.{against}</p>'

    def change(self) -> str:
        """The change since the previous quarter and the verdict, in the method's words."""
        a = self.assessment
        if a.variation in (IMPROVING, CONCERNING):
            word = "a real rise" if a.variation == IMPROVING else "a real drop"
            text = f"{a.signals[0]}: {word}."
        elif a.reason:
            text = f"{a.reason}." + (" No change to report." if "within" in a.reason else "")
        else:
            text = f"{VERDICT_TEXT[a.variation]}."
        return f"<p>{esc(text[0].upper() + text[1:])}</p>"

    def districts(self) -> str:
        """One column per district (compact): share, margin, responses, a mark against the
        target; too few responses marked and never judged (the public edition shows no share
        of too few, and no count of 1 to ``public.withhold_up_to``)."""
        now = sat.in_quarter(self.responses, self.quarter)
        if now.empty or now["district"].isna().all():
            return ""
        g = sat.by_group(now, self.survey, "district")
        g = g.iloc[sorted(range(len(g)), key=lambda i: _district_order(g["group"].iloc[i]))]
        marks = [MARK[sat.judge(s, m, n, self.target, self.survey.min_responses)]
                 for s, m, n in zip(g["share"], g["margin"], g["responses"])]
        public, small = self.audience.public, self.params.city.public.withhold_up_to
        cells = {"Satisfied": [("—" if public else f"({s:.0%})") if f else f"{s:.0%}"
                               for s, f in zip(g["share"], g["too_few"])],
                 "± points": ["—" if f else f"{m * 100:.0f}" for m, f in
                              zip(g["margin"], g["too_few"])],
                 "Responses": [f"≤{small}" if public and n <= small else f"{n:,}"
                               for n in g["responses"]],
                 "Against target" if self.target is None else
                 f"Against {self.target:.0%}": marks}
        cols = [f"d{i}" for i in range(len(g))]
        rows = pd.DataFrame([{"row": k, **dict(zip(cols, v))} for k, v in cells.items()])
        legend = (f"✓ met, ✗ missed (the whole margin beyond the target), ≈ too close to "
                  f"call; few: under {self.survey.min_responses} responses, too few to judge "
                  + ("(not published)." if public else "(share in brackets)."))
        return (table(rows, {"row": "District", **dict(zip(cols, map(str, g["group"])))},
                      caption=f"By district, {self.quarter.label}")
                + f'<p class="stat-note">{esc(legend)}</p>')

    def method(self) -> str:
        weighted = (self.responses["weight"] != 1).any()
        how = ("weighted by the survey weights; the margin uses Kish's effective sample size "
               "n_eff = (Σw)² / Σw²" if weighted else "unweighted (n_eff = n)")
        text = (f"Satisfied: answered {self.survey.box_text()}, {how}. ±: 95% margin of "
                f"error, 1.96 × √(p(1 − p) / n_eff). A target is met or missed only when the "
                f"whole interval clears it, otherwise too close to call; a change counts only "
                f"beyond the combined margin √(m₁² + m₂²); fewer than "
                f"{self.survey.min_responses} responses: too few to judge.")
        return f'<p class="stat-note">{esc(text)}</p>'

    def comments(self, n: int = 4) -> str:
        """The latest comments of the quarter, escaped; nothing in a public edition."""
        if not self.audience.personal_data:
            return ""
        got = sat.recent_comments(self.responses, self.quarter, n)
        if got.empty:
            return ""
        tz = self.params.city.timezone
        items = "".join(
            f"<li>{esc(f'{pd.Timestamp(r.responded_at).tz_convert(tz):%Y-%m-%d}')}, district "
            f"{esc(r.district or '—')}, answered {esc(r.answer)}: “{esc(r.comment)}”</li>"
            for r in got.itertuples())
        return (f'<p class="stat-note">Recent comments (internal packet only; never '
                f'published):</p><ul class="stat-comments">{items}</ul>')


def _district_order(key):
    """Districts in number order when they are numbers ("2" before "10")."""
    text = str(key)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)
