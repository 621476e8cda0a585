"""Guide bodies: Markdown written by editors, rendered to sanitised HTML.

`render_markdown` is the only way a body becomes HTML: the public detail page
(`Resource.body_html`) and the editors' live preview both call it; the API, feeds, widget and
portable export carry the summary or the Markdown source, never rendered HTML.

The allow-list is deliberately narrow: what a written exercise guide needs, nothing that runs
code, loads something or changes the page's look.

- No ``<img>``: a picture in a body would load from any host (tracking patients, and refused
  by the CSP anyway), skip the upload checks and renditions, and have no required alt text.
  A resource's picture is its image field.
- No ``style``, ``class``, ``id`` or event-handler attributes, no ``<iframe>``, ``<form>``,
  ``<svg>`` or ``<table>`` (Markdown here makes no tables; raw HTML is not a way in).
- Links: ``https://`` and ``mailto:`` only (and addresses on this site), each with
  ``rel="noopener noreferrer"``. ``javascript:``, ``data:`` and ``http:`` links lose their
  ``href``, however they are spelled or encoded. So do addresses that look like paths on this
  site but that a browser sends elsewhere (`on_site_or_allowed`): ``//host``, ``/\\host``,
  ``\\\\host``, with tabs or line breaks inside or percent-encoded, and ``https:host``.
"""

import re
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "h2",
        "h3",
        "h4",
        "strong",
        "em",
        "ul",
        "ol",
        "li",
        "blockquote",
        "a",
        "code",
        "pre",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"https", "mailto"})
LINK_REL = "noopener noreferrer"
# What a browser's URL parser drops before it reads an address (WHATWG URL): leading and
# trailing C0 controls and spaces, and tabs and line breaks anywhere.
_URL_EDGES = re.compile(r"^[\x00-\x20]+|[\x00-\x20]+$")
_URL_INSIDE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def on_site_or_allowed(address: str) -> bool:
    """Whether a link's address is an https:// or mailto: one, or stays on this site.

    The address is read as a browser reads it (spaces, tabs and line breaks dropped, every
    backslash a slash) and also percent-decoded, which a browser would not do but a server or
    redirect further on might: anything that then starts with two slashes names another host.
    """
    seen = _URL_INSIDE.sub("", _URL_EDGES.sub("", address))
    for _ in range(3):  # %255C is %5C is a backslash
        seen = unquote(seen)
    seen = _URL_INSIDE.sub("", _URL_EDGES.sub("", seen)).replace("\\", "/")
    scheme = _SCHEME.match(seen)
    if scheme:
        name = scheme.group(1).lower()
        if name == "mailto":
            return True
        # `https:host` without the slashes is no address anyone meant to write.
        return name == "https" and seen[6:8] == "//" and bool(urlsplit(seen).hostname)
    return not seen.startswith("//")


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "a" and attribute == "href" and not on_site_or_allowed(value):
        return None
    return value


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML with every tag and attribute outside the allow-list removed.

    Headings start at <h2>: the page's title is its only <h1>. The content of <script> and
    <style> is dropped with the tag (nh3's default), not shown as text.
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
            tags=set(ALLOWED_TAGS),
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=set(URL_SCHEMES),
            link_rel=LINK_REL,
            attribute_filter=_filter_attribute,
        )
    )
