"""Checking the hub's external links, for ``manage.py check_links`` only.

Never import this from a view: checking links makes outgoing requests that can take seconds
each, and a page that triggered them would let anyone make the server fetch addresses
(server-side request forgery). ``tests/editorial/test_link_check.py`` fails if the web process
imports it.

What protects the server's own network (SSRF):

* only ``http``/``https``, no user name or password in the address, only the ports in
  ``HUB_LINK_CHECK_ALLOWED_PORTS``;
* the host name is resolved once (``getaddrinfo``) and refused if *any* of its addresses is
  not a public one (private, loopback, link-local, multicast, reserved, unspecified, or one of
  those wrapped in IPv6); ``HUB_LINK_CHECK_ALLOWED_NETWORKS`` (settings only, for tests) lifts
  this for named networks;
* the connection goes to the address that was checked (the request is sent to the IP, with
  the original ``Host`` header and TLS server name), so a DNS answer that changes between the
  check and the connection ("DNS rebinding") cannot redirect it; keep-alive is off so no
  connection is reused for a different host;
* every redirect target goes through the same checks, at most ``MAX_REDIRECTS`` of them;
* proxies from the environment are ignored (``trust_env=False``): a proxy would resolve names
  itself, after our check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import certifi
import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import LinkCheck, Organisation, Resource

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
# A link is broken after failing on this many different runs in a row.
BROKEN_AFTER_FAILED_RUNS = 2
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Servers that do not implement HEAD say so with these; the same request is then made as GET.
HEAD_REFUSED_STATUSES = frozenset({405, 501})
ALLOWED_SCHEMES = frozenset({"http", "https"})
# Letters, digits, hyphens (and underscores, seen in the wild), in dot-separated labels.
HOST_NAME = re.compile(r"^(?=.{1,253}\.?$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$", re.I)
USER_AGENT = "PhysicalActivityResourceHub-LinkChecker/1.0 (checks links listed on the hub)"
URL_MAX_LENGTH = LinkCheck._meta.get_field("url").max_length
ERROR_MAX_LENGTH = LinkCheck._meta.get_field("error").max_length

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The address (or a redirect target) is one the checker must not contact."""


@dataclass(frozen=True)
class CheckSettings:
    """Everything one run needs, read from settings once (and overridable per run)."""

    connect_timeout: float
    read_timeout: float
    deadline: float
    concurrency: int
    allowed_ports: frozenset[int]
    allowed_networks: tuple[IPNetwork, ...]
    ca_bundle: str

    @classmethod
    def from_settings(
        cls, *, timeout: float | None = None, concurrency: int | None = None
    ) -> CheckSettings:
        try:
            networks = tuple(
                ipaddress.ip_network(network, strict=False)
                for network in settings.HUB_LINK_CHECK_ALLOWED_NETWORKS
            )
        except ValueError as error:
            raise ImproperlyConfigured(f"HUB_LINK_CHECK_ALLOWED_NETWORKS: {error}") from None
        return cls(
            connect_timeout=timeout or settings.HUB_LINK_CHECK_CONNECT_TIMEOUT,
            read_timeout=timeout or settings.HUB_LINK_CHECK_READ_TIMEOUT,
            deadline=settings.HUB_LINK_CHECK_DEADLINE,
            concurrency=max(1, concurrency or settings.HUB_LINK_CHECK_CONCURRENCY),
            allowed_ports=frozenset(settings.HUB_LINK_CHECK_ALLOWED_PORTS),
            allowed_networks=networks,
            ca_bundle=settings.HUB_LINK_CHECK_CA_BUNDLE or certifi.where(),
        )


@dataclass
class CheckResult:
    """What one address answered (after redirects), as stored in its LinkCheck row."""

    url: str
    ok: bool
    status_code: int | None = None
    final_url: str = ""
    error: str = ""
    elapsed_ms: int = 0
    refused: bool = False


@dataclass
class RunSummary:
    """What the command prints: counts for this run and the links that are broken now."""

    run_id: str
    checked: int = 0
    ok: int = 0
    failing: int = 0
    refused: int = 0
    broken: list[LinkCheck] = field(default_factory=list)
    pruned: int = 0


# --- which addresses ------------------------------------------------------------------------


def urls_to_check() -> list[str]:
    """Every external address the hub lists, drafts included (editors want to know before
    publishing), each once."""
    urls: set[str] = set()
    for url, transcript_url in Resource.objects.values_list("url", "transcript_url"):
        urls.update((url, transcript_url))
    urls.update(Organisation.objects.values_list("website", flat=True))
    return sorted(url for url in urls if url)


# --- the guard ------------------------------------------------------------------------------


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one merely carries (mapped, 6to4, Teredo), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address.teredo:
            return address.teredo[1]
    return address


def is_public_address(address: IPAddress) -> bool:
    """True only for addresses on the public internet."""
    address = _embedded_ipv4(address)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        # Anything else not globally reachable (e.g. 100.64.0.0/10, carrier-grade NAT).
        or not address.is_global
    )


def address_allowed(address: IPAddress, config: CheckSettings) -> bool:
    if any(address in network for network in config.allowed_networks):
        return True
    return is_public_address(address)


async def system_resolver(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to, through the system resolver (getaddrinfo)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _Failed(Exception):
    """The check failed for a reason worth telling the editor in a few words."""


def _refusal(reason: str, redirected: bool, **values: object) -> Refused:
    """A refusal, worded for the address itself or for a redirect target."""
    direct, redirect = {
        "scheme": (
            _("not a web address (%(scheme)s:)"),
            _("redirects to a non-web address (%(scheme)s:)"),
        ),
        "userinfo": (
            _("the address contains a user name or password"),
            _("redirects to an address with a user name or password"),
        ),
        "port": (_("unusual port (%(port)s)"), _("redirects to an unusual port (%(port)s)")),
        "private": (
            _("points to a private or local network address (%(address)s)"),
            _("redirects to a private address (%(address)s)"),
        ),
    }[reason]
    return Refused((redirect if redirected else direct) % values)


async def vet_url(
    url: httpx.URL, config: CheckSettings, resolver: Resolver, *, redirected: bool
) -> str:
    """The IP address to connect to for ``url``, or ``Refused`` saying why not."""
    if url.scheme not in ALLOWED_SCHEMES:
        raise _refusal("scheme", redirected, scheme=url.scheme or "?")
    if url.userinfo:
        raise _refusal("userinfo", redirected)
    port = url.port or (443 if url.scheme == "https" else 80)
    if port not in config.allowed_ports:
        raise _refusal("port", redirected, port=port)
    host = url.raw_host.decode("ascii")
    if not HOST_NAME.match(host) and not _is_ip_literal(host):
        raise _Failed(_("not a valid web address"))
    try:
        found = await resolver(host, port)
        addresses = [ipaddress.ip_address(address.split("%", 1)[0]) for address in found]
    except (OSError, UnicodeError, ValueError):
        raise _Failed(_("the site's name could not be found")) from None
    if not addresses:
        raise _Failed(_("the site's name could not be found"))
    for address in addresses:
        if not address_allowed(address, config):
            raise _refusal("private", redirected, address=address)
    return str(addresses[0])


# --- one address ----------------------------------------------------------------------------


def _http_problem(status: int) -> str:
    if status == 404:
        return _("page not found (HTTP 404)")
    if status == 410:
        return _("page removed (HTTP 410)")
    if status >= 500:
        return _("the site had an error (HTTP %(status)s)") % {"status": status}
    return _("the site refused the request (HTTP %(status)s)") % {"status": status}


def _connection_problem(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return _("no answer in time")
    text = str(error)
    if "CERTIFICATE" in text.upper() or isinstance(error.__cause__, ssl.SSLError):
        return _("the site's security certificate is not valid")
    if isinstance(error, httpx.ConnectError):
        return _("could not connect to the site")
    return _("the connection failed")


async def _request(
    client: httpx.AsyncClient, method: str, url: httpx.URL, ip: str
) -> httpx.Response:
    """Send one request to ``ip`` as if to ``url``'s host, reading only the headers."""
    host_header = url.netloc.decode("ascii")
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    request = client.build_request(
        method, url.copy_with(host=ip), headers={"Host": host_header}, extensions=extensions
    )
    response = await client.send(request, stream=True)
    # Closing without reading the body: a link check never downloads a video.
    await response.aclose()
    return response


async def _follow(
    client: httpx.AsyncClient, url: str, config: CheckSettings, resolver: Resolver
) -> tuple[int, str]:
    """The final status and address after at most MAX_REDIRECTS vetted redirects."""
    try:
        current = httpx.URL(url)
    except httpx.InvalidURL:
        raise _Failed(_("not a valid web address")) from None
    for hop in range(MAX_REDIRECTS + 1):
        ip = await vet_url(current, config, resolver, redirected=hop > 0)
        response = await _request(client, "HEAD", current, ip)
        if response.status_code in HEAD_REFUSED_STATUSES:
            response = await _request(client, "GET", current, ip)
        location = response.headers.get("location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return response.status_code, str(current)
        try:
            current = current.join(location)
        except httpx.InvalidURL:
            raise _Failed(_("redirects to an invalid address")) from None
    raise _Failed(_("too many redirects (more than %(count)s)") % {"count": MAX_REDIRECTS})


def _client(config: CheckSettings, ssl_context: ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=ssl_context,
        trust_env=False,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
        timeout=httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.read_timeout,
            pool=config.connect_timeout,
        ),
        # No connection is reused: each one is made to an address vetted for its host.
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def check_url(
    url: str,
    config: CheckSettings,
    *,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckResult:
    """Check one address, within the per-address deadline. Never raises."""
    resolver = resolver or system_resolver
    ssl_context = ssl_context or ssl.create_default_context(cafile=config.ca_bundle)
    started = time.monotonic()
    result = CheckResult(url=url, ok=False)
    try:
        async with asyncio.timeout(config.deadline), _client(config, ssl_context) as client:
            status, final_url = await _follow(client, url, config, resolver)
    except Refused as error:
        result.error, result.refused = str(error), True
    except _Failed as error:
        result.error = str(error)
    except TimeoutError:
        result.error = _("no answer within %(seconds)s seconds") % {"seconds": config.deadline}
    except httpx.HTTPError as error:
        result.error = _connection_problem(error)
    except Exception:
        # One strange address must not stop the run for all the others.
        logger.exception("Link check of %s failed unexpectedly", url)
        result.error = _("the check failed unexpectedly")
    else:
        result.status_code = status
        result.final_url = final_url if len(final_url) <= URL_MAX_LENGTH else ""
        result.ok = status < 400
        if not result.ok:
            result.error = _http_problem(status)
    result.elapsed_ms = round((time.monotonic() - started) * 1000)
    result.error = result.error[:ERROR_MAX_LENGTH]
    return result


async def check_urls(
    urls: Sequence[str], config: CheckSettings, *, resolver: Resolver | None = None
) -> list[CheckResult]:
    """Check many addresses, at most ``config.concurrency`` at a time."""
    ssl_context = ssl.create_default_context(cafile=config.ca_bundle)
    limit = asyncio.Semaphore(config.concurrency)

    async def one(url: str) -> CheckResult:
        async with limit:
            return await check_url(url, config, resolver=resolver, ssl_context=ssl_context)

    return list(await asyncio.gather(*(one(url) for url in urls)))


# --- recording ------------------------------------------------------------------------------


def _apply(check: LinkCheck, result: CheckResult, run_id: str, now: datetime) -> None:
    """The two-failure rule: one failed run makes a link *failing*, two make it *broken*."""
    check.checked_at = now
    check.status_code = result.status_code
    check.elapsed_ms = result.elapsed_ms
    check.final_url = result.final_url
    check.error = result.error
    if result.ok:
        check.consecutive_failures = 0
        check.last_failed_run = ""
        check.is_broken = False
        check.broken_since = None
        return
    if check.last_failed_run != run_id:  # once per run, however often the URL is listed
        check.consecutive_failures += 1
        check.last_failed_run = run_id
    if check.consecutive_failures >= BROKEN_AFTER_FAILED_RUNS and not check.is_broken:
        check.is_broken = True
        check.broken_since = now


RECORDED_FIELDS = [
    "checked_at",
    "status_code",
    "elapsed_ms",
    "final_url",
    "error",
    "consecutive_failures",
    "last_failed_run",
    "is_broken",
    "broken_since",
]


@transaction.atomic
def record(results: Iterable[CheckResult], run_id: str) -> list[LinkCheck]:
    """Store this run's results (three queries, however many links)."""
    results = list(results)
    now = timezone.now()
    existing = LinkCheck.objects.select_for_update().in_bulk(
        [result.url for result in results], field_name="url"
    )
    new: list[LinkCheck] = []
    for result in results:
        check = existing.get(result.url)
        if check is None:
            check = LinkCheck(url=result.url)
            new.append(check)
        _apply(check, result, run_id, now)
    LinkCheck.objects.bulk_update(existing.values(), RECORDED_FIELDS, batch_size=500)
    LinkCheck.objects.bulk_create(new, batch_size=500)
    return [*existing.values(), *new]


def prune(keep: Iterable[str]) -> int:
    """Forget checks of addresses the hub no longer lists."""
    deleted, _counts = LinkCheck.objects.exclude(url__in=list(keep)).delete()
    return deleted


def run(
    *, timeout: float | None = None, concurrency: int | None = None, dry_run: bool = False
) -> tuple[RunSummary, list[CheckResult]]:
    """One run of the checker: check every listed address, record, prune, summarise."""
    config = CheckSettings.from_settings(timeout=timeout, concurrency=concurrency)
    summary = RunSummary(run_id=uuid.uuid4().hex)
    urls = urls_to_check()
    results = asyncio.run(check_urls(urls, config))
    summary.checked = len(results)
    summary.ok = sum(result.ok for result in results)
    summary.failing = summary.checked - summary.ok
    summary.refused = sum(result.refused for result in results)
    if not dry_run:
        checks = record(results, summary.run_id)
        summary.broken = sorted((c for c in checks if c.is_broken), key=lambda c: c.url)
        summary.pruned = prune(urls)
    return summary, results
