"""Safe inputs (issue 6, part 4): https-only external addresses, no open redirects, request
size limits.

External addresses are https only, with no opt-in for http: the database itself refuses a
resource address that does not start with https:// (constraint `resource_url_is_https`).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from resources.models import Organisation, Resource

from .factories import OrganisationFactory, ResourceFactory

pytestmark = pytest.mark.django_db

BAD_REQUEST_PAGE = "We could not understand that request"

# --- External addresses: https only ---------------------------------------------------------

UNSAFE_ADDRESSES = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "javascript://example.org/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.org/exercise.pdf",
    "http://example.org/walking",
    "HTTP://example.org/walking",
    # Upper-case HTTPS is secure, but the stored form is always "https://" (the database
    # constraint compares it as written): the editor is asked to type it so.
    "HTTPS://example.org/walking",
    "https:example.org",
    "https:/example.org",
    "//example.org/walking",
    "https://example.org/\njavascript:alert(1)",
    "\x00https://example.org/",
]


@pytest.mark.parametrize("address", UNSAFE_ADDRESSES)
@pytest.mark.parametrize(("model", "field"), [(Resource, "url"), (Organisation, "website")])
def test_an_external_address_must_be_https(model, field, address) -> None:
    with pytest.raises(ValidationError):
        model._meta.get_field(field).clean(address, None)


@pytest.mark.parametrize(("model", "field"), [(Resource, "url"), (Organisation, "website")])
def test_a_plain_https_address_is_accepted(model, field) -> None:
    address = "https://www.example-charity.org/moving-more?lang=en#start"
    assert model._meta.get_field(field).clean(address, None) == address


@pytest.mark.parametrize(
    "address", ["javascript:alert(1)", "data:text/html,hi", "http://example.org/"]
)
def test_the_database_refuses_a_resource_address_that_skipped_validation(address) -> None:
    """Code that bypasses forms (an import, a script) still cannot store an unsafe link."""
    with pytest.raises(IntegrityError), transaction.atomic():
        ResourceFactory(link=True, url=address)


@pytest.fixture
def superuser_client() -> Client:
    user = User.objects.create_superuser("chief", "chief@example.org", "a long superuser password")
    client = Client()
    client.force_login(user)
    return client


def add_organisation(client: Client, website: str):
    return client.post(
        "/admin/resources/organisation/add/",
        {"name": "Walking Charity", "slug": "walking-charity", "website": website, "country": "GB"},
    )


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "http://walking.example.org/", "HTTPS://walking.example.org/"],
)
def test_an_editor_cannot_save_an_unsafe_website(superuser_client: Client, address) -> None:
    response = add_organisation(superuser_client, address)
    assert response.status_code == 200
    assert "Use a secure web address that starts with https://." in response.content.decode() or (
        "Enter a valid URL." in response.content.decode()
    )
    assert not Organisation.objects.filter(slug="walking-charity").exists()


def test_an_editor_can_save_an_https_website(superuser_client: Client) -> None:
    response = add_organisation(superuser_client, "https://walking.example.org/")
    assert response.status_code == 302
    assert Organisation.objects.get(slug="walking-charity").website == (
        "https://walking.example.org/"
    )


def test_the_detail_page_links_only_to_the_https_address(client: Client) -> None:
    resource = ResourceFactory(
        link=True,
        url="https://charity.example.org/moving-more",
        organisation=OrganisationFactory(website="https://charity.example.org/"),
    )
    html = client.get(resource.get_absolute_url()).content.decode()
    links = re.findall(r'<a [^>]*href="([^"]+)"', html)
    external = {href for href in links if not href.startswith(("/", "#", "http://testserver/"))}
    assert external, "the page links to the resource"
    assert all(href.startswith("https://") for href in external), external


# --- No open redirects ----------------------------------------------------------------------

CRAFTED_PATHS = [
    "//evil.example/",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "/\\/evil.example",
    "/%2F%2Fevil.example",  # the wire form of //evil.example, if a server leaves it encoded
    "/en//evil.example",
    "/en//evil.example/",
    "/en///evil.example/",
    "/en/\\evil.example",
    "/en/resources//evil.example",
    "//en/",
    "/https://evil.example/",
    "/en/https://evil.example/",
]


def is_on_this_site(url: str) -> bool:
    """A link or redirect that stays here: a path, or an absolute URL to this host."""
    return url_has_allowed_host_and_scheme(url, allowed_hosts={"testserver"}) and not (
        url.startswith(("//", "/\\"))
    )


def get_raw_path(client: Client, raw_path: str):
    """GET exactly this path, as a WSGI server would pass it on (the test client would read
    a leading // as a host name)."""
    return client.get("/", PATH_INFO=raw_path)


def language_links(response) -> list[str]:
    html = response.content.decode()
    nav = re.search(r'<nav class="language-switcher".*?</nav>', html, re.S)
    assert nav, "no language switcher on the page"
    return re.findall(r'href="([^"]*)"', nav.group(0))


@pytest.mark.parametrize("raw_path", CRAFTED_PATHS)
def test_crafted_addresses_never_redirect_off_site(client: Client, raw_path: str) -> None:
    response = get_raw_path(client, raw_path)
    assert response.status_code < 500
    if response.has_header("Location"):
        assert is_on_this_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("raw_path", CRAFTED_PATHS)
def test_language_switcher_never_links_off_site(client: Client, raw_path: str) -> None:
    response = get_raw_path(client, raw_path)
    if response.status_code != 404:
        pytest.skip(f"{raw_path} answers {response.status_code}, not a page with a switcher")
    links = language_links(response)
    assert len(links) == len(settings.LANGUAGES) - 1
    for link in links:
        assert link.startswith("/") and is_on_this_site(link), link


def test_language_switcher_keeps_the_page_and_its_filters(client: Client) -> None:
    ResourceFactory(tags={"level": ["gentle"]})
    response = client.get("/en/resources/?level=gentle")
    assert response.status_code == 200
    assert "/de/resources/?level=gentle" in language_links(response)


def test_the_root_redirects_to_a_language_on_this_site(client: Client) -> None:
    response = client.get("/", headers={"Accept-Language": "de"})
    assert response.status_code == 302
    assert response["Location"] == "/de/"


def test_djangos_set_language_view_is_not_routed(client: Client) -> None:
    """The language is in the address only; no view changes it from a posted `next`."""
    with pytest.raises(NoReverseMatch):
        reverse("set_language")
    response = client.post("/i18n/setlang/", {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/en/resources/?level=gentle&next=https://evil.example/",
        "/en/resources/?ref=//evil.example&level=gentle",
        "/en/resources/?level=gentle&level=gentle&q=%2F%2Fevil.example",
        "/en/?next=//evil.example",
        "/en/resources/?lang=en&lang=//evil.example",
    ],
)
def test_redirects_with_crafted_parameters_stay_on_this_site(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code < 500
    if response.has_header("Location"):
        assert is_on_this_site(response["Location"]), response["Location"]


# Admin `next=`: Django's login view follows it only if it is on this site.


@pytest.fixture
def staff_with_phone() -> tuple[User, TOTPDevice]:
    user = User.objects.create_user(
        "editor", "editor@example.org", "a long editor password", is_staff=True
    )
    return user, TOTPDevice.objects.create(user=user, name="Phone")


def log_in(client: Client, device: TOTPDevice, next_url: str):
    """The real admin login: password and the authenticator's current code."""
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"
    return client.post(
        f"/admin/login/?{urlencode({'next': next_url})}",
        {
            "username": "editor",
            "password": "a long editor password",
            "otp_token": code,
            "next": next_url,
        },
        secure=True,  # as in production, where http:// counts as off-site too
    )


OFF_SITE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "http://testserver/admin/",  # this host, but downgraded to http
]


@pytest.mark.parametrize("next_url", OFF_SITE_NEXT)
def test_admin_login_ignores_an_off_site_next(client: Client, staff_with_phone, next_url) -> None:
    _user, device = staff_with_phone
    response = log_in(client, device, next_url)
    assert response.status_code == 302, "the login itself failed"
    # Not Django's default LOGIN_REDIRECT_URL (/accounts/profile/, a 404 here): the admin.
    assert response["Location"] == "/admin/"


def test_admin_login_follows_an_on_site_next(client: Client, staff_with_phone) -> None:
    _user, device = staff_with_phone
    response = log_in(client, device, "/admin/resources/resource/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/resources/resource/"


def test_a_logged_in_editor_sent_to_the_login_page_stays_on_this_site(editor: Client) -> None:
    response = editor.get("/admin/login/", {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_admin_logout_ignores_an_off_site_next(editor: Client) -> None:
    response = editor.post("/admin/logout/", {"next": "https://evil.example/"})
    assert response.status_code in {200, 302}
    if response.status_code == 302:
        assert is_on_this_site(response["Location"]), response["Location"]


# --- Request size limits --------------------------------------------------------------------


def test_request_limits_are_set_below_djangos_defaults() -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 500
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES <= 10
    assert settings.FILE_UPLOAD_HANDLERS[0] == "hub.security.UploadSizeLimitHandler"


def assert_bad_request_page(response) -> None:
    assert response.status_code == 400
    assert BAD_REQUEST_PAGE in response.content.decode()


def test_an_oversized_form_post_is_a_400_not_a_500(client: Client) -> None:
    padding = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = client.post(
        "/admin/login/",
        urlencode({"username": "editor", "password": padding}),
        content_type="application/x-www-form-urlencoded",
    )
    assert_bad_request_page(response)


def test_a_form_post_with_too_many_fields_is_a_400(client: Client) -> None:
    fields = [(f"field{n}", "1") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]
    response = client.post(
        "/admin/login/", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )
    assert_bad_request_page(response)


def test_too_many_query_parameters_on_browse_are_a_400(client: Client) -> None:
    ResourceFactory(title="Gentle walk")
    query = "&".join(f"utm_{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(f"/en/resources/?{query}")
    assert_bad_request_page(response)
    assert "Gentle walk" not in response.content.decode()
    assert parse_csp_names(response) >= {"default-src", "frame-ancestors"}


def parse_csp_names(response) -> set[str]:
    return {part.split()[0] for part in response.headers["Content-Security-Policy"].split(";")}


def test_query_parameters_up_to_the_limit_are_fine(client: Client) -> None:
    query = "&".join(f"utm_{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    response = client.get(f"/en/resources/?{query}")
    assert response.status_code in {200, 301}  # 301: to the canonical address, without them


def test_an_upload_over_the_limit_is_a_400_before_it_is_read(settings, client: Client) -> None:
    settings.HUB_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.jpg", b"\xff" * (1024 * 1024 + 1), content_type="image/jpeg")
    response = client.post("/admin/login/", {"username": "editor", "image": big})
    assert_bad_request_page(response)


def test_an_upload_under_the_limit_reaches_the_view(settings, client: Client) -> None:
    settings.HUB_MAX_UPLOAD_MB = 1
    small = SimpleUploadedFile("small.jpg", b"\xff" * 1024, content_type="image/jpeg")
    response = client.post("/admin/login/", {"username": "editor", "image": small})
    assert response.status_code == 200  # the login form, asking again: not a 400


def test_too_many_files_are_a_400(client: Client) -> None:
    files = [
        SimpleUploadedFile(f"photo{n}.jpg", b"\xff", content_type="image/jpeg")
        for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    response = client.post("/admin/login/", {"username": "editor", "image": files})
    assert_bad_request_page(response)
