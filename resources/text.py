"""Guide bodies: Markdown written by editors, rendered to sanitised HTML."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "h5",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "hr",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML with every tag and attribute outside the allow-list removed.

    Headings start at <h2>: the page's title is its only <h1>.
    """
    html = markdown.markdown(
        text,
        extensions=["sane_lists", "toc"],
        extension_configs={"toc": {"baselevel": 2, "anchorlink": False}},
        output_format="html",
    )
    return mark_safe(  # noqa: S308 - nh3 has removed everything not allow-listed
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"https", "http", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
    )
