"""An advisory readability score for editors, with the formula that suits each language.

Shown on the resource change form, never enforced: a formula only counts sentence and word
length, so it cannot tell whether a text is clear, kind or correct. It nudges editors towards
the short sentences and common words that tired readers need.

| language | formula (textstat) | scale |
| --- | --- | --- |
| en | Flesch reading ease | 0-100, higher is easier |
| de | Flesch reading ease with Amstad's German constants | 0-100, higher is easier |
| nl | Flesch reading ease with Douma's Dutch constants | 0-100, higher is easier |
| es | Szigriszt-Pazos perspicuity, INFLESZ bands (used for Spanish health texts) | 0-100 |
| sv | LIX, designed for Swedish | lower is easier |
| pl | LIX as a language-neutral measure (textstat has no Polish formula) | lower is easier |

textstat's module-level functions share one global language; each call here uses its own
`textstatistics` object, so two requests in two languages cannot mix them up.

English is passed to textstat as "en-GB": for "en" textstat looks syllables up in NLTK's
CMUdict, which it downloads from the internet on first use. A page must never make that
request (nor fail when it cannot), and for "en-GB" textstat counts syllables with Pyphen's
British hyphenation dictionary, as for every other language, and keeps the English constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from textstat.textstat import textstatistics

from ..text import render_markdown

# Below this, a score says more about chance than about the text.
MIN_WORDS = 30

# (lowest score of the band, what it means in plain words), easiest first.
Bands = tuple[tuple[float, Promise], ...]

FLESCH_BANDS: Bands = (
    (90, gettext_lazy("Very easy: most 11-year-olds can read this.")),
    (80, gettext_lazy("Easy: like everyday conversation.")),
    (70, gettext_lazy("Fairly easy: most 12- to 13-year-olds can read this.")),
    (60, gettext_lazy("Plain language: most people aged 13 to 15 can read this.")),
    (50, gettext_lazy("Fairly difficult: most adults with secondary education can read this.")),
    (30, gettext_lazy("Difficult: needs the reading skills of a university student.")),
    (float("-inf"), gettext_lazy("Very difficult: reads like an academic paper.")),
)
INFLESZ_BANDS: Bands = (
    (80, gettext_lazy("Very easy: most 11-year-olds can read this.")),
    (65, gettext_lazy("Fairly easy: like a popular magazine.")),
    (55, gettext_lazy("Normal: right for health information for the public.")),
    (40, gettext_lazy("Somewhat difficult: like a newspaper or a school text book.")),
    (float("-inf"), gettext_lazy("Very difficult: reads like a scientific or specialist text.")),
)
# LIX: lower is easier, so the bands are (highest score of the band, meaning).
LIX_BANDS: Bands = (
    (30, gettext_lazy("Very easy: like a children's book.")),
    (40, gettext_lazy("Easy: like simple fiction or a popular magazine.")),
    (50, gettext_lazy("Medium: like a newspaper.")),
    (60, gettext_lazy("Difficult: like an official document.")),
    (float("inf"), gettext_lazy("Very difficult: like specialist or bureaucratic writing.")),
)


@dataclass(frozen=True)
class Formula:
    name: Promise
    method: str  # of textstat's textstatistics
    bands: Bands
    higher_is_easier: bool = True
    note: Promise | str = ""

    def band(self, score: float) -> str:
        for limit, meaning in self.bands:
            if (score >= limit) if self.higher_is_easier else (score < limit):
                return str(meaning)
        return str(self.bands[-1][1])


FLESCH = "flesch_reading_ease"
TEXTSTAT_LANGUAGE = {"en": "en-GB"}  # see the module docstring
FORMULAS: dict[str, Formula] = {
    "en": Formula(gettext_lazy("Flesch reading ease"), FLESCH, FLESCH_BANDS),
    "de": Formula(gettext_lazy("Flesch reading ease (Amstad, German)"), FLESCH, FLESCH_BANDS),
    "nl": Formula(gettext_lazy("Flesch reading ease (Douma, Dutch)"), FLESCH, FLESCH_BANDS),
    "es": Formula(gettext_lazy("Szigriszt-Pazos (INFLESZ)"), "szigriszt_pazos", INFLESZ_BANDS),
    "sv": Formula(gettext_lazy("LIX"), "lix", LIX_BANDS, higher_is_easier=False),
    "pl": Formula(
        gettext_lazy("LIX"),
        "lix",
        LIX_BANDS,
        higher_is_easier=False,
        note=gettext_lazy(
            "LIX was made for Swedish; Polish words are longer, so Polish texts score as "
            "harder than they are. Compare Polish texts with each other."
        ),
    ),
}


@dataclass(frozen=True)
class Readability:
    formula: Formula
    score: float
    words: int

    @property
    def band(self) -> str:
        return self.formula.band(self.score)

    @property
    def shown(self) -> float:
        """Flesch-style scores run past 0 and 100 for extreme texts; editors see 0 to 100."""
        return min(max(self.score, 0.0), 100.0) if self.formula.higher_is_easier else self.score


class _PlainText(HTMLParser):
    """Text of rendered Markdown, one line per block, so list items count as sentences."""

    BLOCKS = frozenset({"p", "li", "h2", "h3", "h4", "blockquote", "pre", "br"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        self.lines[-1] += data


def plain_text(markdown_text: str) -> str:
    """Markdown as the reader sees it, each heading or list item ending as a sentence."""
    parser = _PlainText()
    parser.feed(render_markdown(markdown_text))
    sentences = [" ".join(line.split()) for line in parser.lines]
    return " ".join(s if s[-1] in ".!?…" else f"{s}." for s in sentences if s)


def score(text: str, language: str) -> Readability | None:
    """The score of a Markdown text, or None for a language without a formula."""
    formula = FORMULAS.get(language)
    if formula is None:
        return None
    plain = plain_text(text)
    stats = textstatistics()
    stats.set_lang(TEXTSTAT_LANGUAGE.get(language, language))
    words = stats.lexicon_count(plain)
    value = getattr(stats, formula.method)(plain) if words else 0.0
    return Readability(formula=formula, score=float(value), words=words)


def for_editors(body: str, summary: str, language: str) -> SafeString:
    """The change form's read-only "Readability" field: score, meaning, and that it advises."""
    advisory = _(
        "Advisory only, never required: it counts sentence and word length, not clarity. "
        "Short sentences and everyday words help tired readers."
    )
    what = _("the guide text") if body.strip() else _("the summary")
    result = score(body if body.strip() else summary, language)
    if result is None:
        return format_html(
            "<p>{}</p><p>{}</p>",
            _("No readability formula is available for this language."),
            advisory,
        )
    if result.words < MIN_WORDS:
        return format_html(
            "<p>{}</p><p>{}</p>",
            _("Too short to score (%(words)d words in %(what)s; at least %(minimum)d needed).")
            % {"words": result.words, "what": what, "minimum": MIN_WORDS},
            advisory,
        )
    direction = _("higher is easier") if result.formula.higher_is_easier else _("lower is easier")
    return format_html(
        "<p><strong>{score}</strong> — {band}</p><p>{details}</p>{note}<p>{advisory}</p>",
        score=number_format(result.shown, decimal_pos=0),
        band=result.band,
        details=_("%(formula)s of %(what)s as last saved, %(words)d words; %(direction)s.")
        % {
            "formula": result.formula.name,
            "what": what,
            "words": result.words,
            "direction": direction,
        },
        note=format_html("<p>{}</p>", result.formula.note) if result.formula.note else "",
        advisory=advisory,
    )
