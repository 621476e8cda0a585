"""The hub's content model: resources, the organisations behind them and their tags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, slug_re
from django.db import models
from django.db.models import Case, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .text import render_markdown

if TYPE_CHECKING:
    pass

https_only = RegexValidator(
    r"^https://", _("Use a secure web address that starts with https://."), code="https"
)


class Vocabulary(models.TextChoices):
    """The small controlled vocabularies a resource is tagged with (docs/domain.md)."""

    FITNESS_LEVEL = "level", _("Fitness level")
    CANCER_STAGE = "stage", _("Cancer stage")
    EXERCISE_TYPE = "type", _("Exercise type")
    MOVEMENT_FLAG = "flag", _("Movement that needs care with bone metastases")


class Tag(models.Model):
    """One term of one vocabulary, e.g. fitness level "gentle".

    All vocabularies share this table so that a list page loads every term, and every
    resource's tags, in one query each, however many vocabularies the hub grows.
    """

    vocabulary = models.CharField(_("vocabulary"), max_length=20, choices=Vocabulary.choices)
    slug = models.SlugField(
        _("slug"),
        max_length=50,
        help_text=_("Used in public URLs that clinics print. Never change it once published."),
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["vocabulary", "position", "name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(fields=["vocabulary", "slug"], name="tag_unique_slug"),
        ]

    def __str__(self) -> str:
        return f"{self.get_vocabulary_display()}: {self.name}"


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    website = models.URLField(_("website"), blank=True, validators=[https_only])
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("Two-letter ISO code, e.g. GB.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Kind(models.TextChoices):
    VIDEO = "video", _("Video")
    GUIDE = "guide", _("Written guide")
    LINK = "link", _("Link")
    PROGRAMME = "programme", _("Supervised programme")


class BoneSafety(models.TextChoices):
    """Bone-metastasis safety scale (docs/domain.md). Set only by a clinical reviewer."""

    NOT_REVIEWED = "not-reviewed", _("Not yet reviewed")
    SUITABLE = "suitable", _("Generally suitable")
    WITH_MODIFICATIONS = "with-modifications", _("Suitable with modifications")
    CLEARANCE_NEEDED = "clearance-needed", _("Only with clinician clearance or supervision")
    NOT_RECOMMENDED = "not-recommended", _("Not recommended with bone metastases")

    @classmethod
    def public_choices(cls) -> list[tuple[str, str]]:
        return [(value, label) for value, label in cls.choices if value != cls.NOT_REVIEWED]


class Licence(models.TextChoices):
    """Under which terms a resource or picture may be shown (README "Provenance and licence").

    The Creative Commons names are the licences' own short names, the same in every language.
    """

    LINKED_ONLY = "linked-only", _("All rights reserved — linked only")
    PERMISSION = "permission", _("All rights reserved — shown with permission")
    CC_BY = "cc-by", "CC BY"
    CC_BY_SA = "cc-by-sa", "CC BY-SA"
    CC_BY_NC = "cc-by-nc", "CC BY-NC"
    CC_BY_NC_SA = "cc-by-nc-sa", "CC BY-NC-SA"
    CC_BY_ND = "cc-by-nd", "CC BY-ND"
    CC_BY_NC_ND = "cc-by-nc-nd", "CC BY-NC-ND"
    CC0 = "cc0", "CC0"
    PUBLIC_DOMAIN = "public-domain", _("Public domain")

    @classmethod
    def hostable(cls) -> list[str]:
        """Licences under which the hub may keep a copy (a guide's text, a picture)."""
        return [value for value in cls.values if value != cls.LINKED_ONLY]


# The licence deed shown when the editor gives no licence address (version 4.0, the current
# one; an editor links another version through "licence address").
LICENCE_DEEDS: dict[str, str] = {
    Licence.CC_BY: "https://creativecommons.org/licenses/by/4.0/",
    Licence.CC_BY_SA: "https://creativecommons.org/licenses/by-sa/4.0/",
    Licence.CC_BY_NC: "https://creativecommons.org/licenses/by-nc/4.0/",
    Licence.CC_BY_NC_SA: "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    Licence.CC_BY_ND: "https://creativecommons.org/licenses/by-nd/4.0/",
    Licence.CC_BY_NC_ND: "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    Licence.CC0: "https://creativecommons.org/publicdomain/zero/1.0/",
}
MAX_EVIDENCE_LINKS = 10


@dataclass(frozen=True)
class EvidenceLink:
    """One line of `Resource.evidence`: a trial, guideline or review, with its address."""

    title: str
    url: str


def parse_evidence(text: str) -> tuple[list[EvidenceLink], list[str]]:
    """The evidence links, one a line as "Title https://address", and the lines that are not."""
    links: list[EvidenceLink] = []
    bad: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        title, _space, url = line.rpartition(" ")
        if title.strip() and url.startswith("https://") and len(url) <= 500:
            links.append(EvidenceLink(title.strip(), url))
        else:
            bad.append(line)
    return links, bad


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in-review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


LANGUAGE_CHOICES = settings.LANGUAGES
# The interface languages, as `?ui=` (widget) and `ui` (API) accept them.
UI_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def is_slug(value: str, model: type[models.Model]) -> bool:
    """Whether a public parameter can be one of `model`'s slugs (Django's own pattern and the
    field's length), checked before any query: anything else cannot match a row, and a NUL
    byte would upset PostgreSQL."""
    max_length = model._meta.get_field("slug").max_length or 0
    return len(value) <= max_length and slug_re.match(value) is not None


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_ID = re.compile(r"^[0-9]{6,12}$")


def parse_video_url(url: str) -> tuple[str, str]:
    """Return (provider, id) for a YouTube or Vimeo page URL, or ("", "")."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    except ValueError:  # e.g. "https://[" is not a URL at all
        return "", ""
    path_bits = [bit for bit in parts.path.split("/") if bit]
    candidate = ""
    if host == "youtu.be" and path_bits:
        candidate = path_bits[0]
    elif host in {"youtube.com", "youtube-nocookie.com"}:
        if path_bits[:1] == ["watch"]:
            candidate = parse_qs(parts.query).get("v", [""])[0]
        elif len(path_bits) >= 2 and path_bits[0] in {"embed", "shorts", "live"}:
            candidate = path_bits[1]
    if candidate and _YOUTUBE_ID.match(candidate):
        return "youtube", candidate
    if host in {"vimeo.com", "player.vimeo.com"}:
        numeric = [bit for bit in path_bits if bit.isdigit()]
        if numeric and _VIMEO_ID.match(numeric[0]):
            return "vimeo", numeric[0]
    return "", ""


class ResourceQuerySet(models.QuerySet["Resource"]):
    def published(self) -> ResourceQuerySet:
        """The visibility rule. Every public read goes through here, and only here."""
        return self.filter(
            status=Status.PUBLISHED,
            published_at__lte=timezone.now(),
        ).exclude(bone_metastasis_safety=BoneSafety.NOT_REVIEWED)

    def scheduled(self) -> ResourceQuerySet:
        """Marked published but dated in the future: public from `published_at` on, without
        a save (the page cache expires its content version then, hub/cache.py)."""
        return self.filter(status=Status.PUBLISHED, published_at__gt=timezone.now())

    def for_listing(self) -> ResourceQuerySet:
        """What a result card shows: the organisation and every tag, in two queries."""
        return self.select_related("organisation").prefetch_related("tags")

    def visitor_language_first(self, language: str) -> ResourceQuerySet:
        """Resources in the visitor's language first, then the rest, each by title."""
        own_language = Case(When(language=language, then=Value(0)), default=Value(1))
        return self.order_by(own_language, "title", "slug")


class Resource(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.GUIDE)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        help_text=_("Part of the public address clinics print. Never change it once published."),
    )
    summary = models.TextField(
        _("summary"), max_length=400, help_text=_("Plain text, one or two sentences, on cards.")
    )
    body = models.TextField(
        _("body"),
        blank=True,
        help_text=_("Guides written for the hub: Markdown. Raw HTML is removed when shown."),
    )
    url = models.URLField(
        _("web address"),
        max_length=500,
        blank=True,
        validators=[https_only],
        help_text=_("The external page or video page (https only)."),
    )
    video_provider = models.CharField(
        _("video provider"),
        max_length=10,
        blank=True,
        editable=False,
        choices=[("youtube", "YouTube"), ("vimeo", "Vimeo")],
    )
    video_id = models.CharField(_("video id"), max_length=20, blank=True, editable=False)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True
    )
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES, default="en")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="resources",
        verbose_name=_("organisation"),
    )
    image = models.ImageField(_("image"), upload_to="resources/%Y/", blank=True)
    # Made once, when the image is uploaded (never in a page request): WebP renditions.
    image_card = models.ImageField(
        _("card image"), upload_to="resources/%Y/", blank=True, editable=False, max_length=200
    )
    image_detail = models.ImageField(
        _("detail image"), upload_to="resources/%Y/", blank=True, editable=False, max_length=200
    )
    image_alt = models.CharField(
        _("image description"),
        max_length=250,
        blank=True,
        help_text=_("Required with an image: what it shows, for people who cannot see it."),
    )
    image_author = models.CharField(
        _("image author"),
        max_length=200,
        blank=True,
        help_text=_("Required with an image: who took or drew it, e.g. 'Photo: A. Jansen'."),
    )
    image_licence = models.CharField(
        _("image licence"),
        max_length=20,
        blank=True,
        choices=Licence.choices,
        help_text=_("Required with an image: the terms under which the hub may show it."),
    )
    image_source_url = models.URLField(
        _("image source address"),
        max_length=500,
        blank=True,
        validators=[https_only],
        help_text=_("Where the picture was found, if it was not made for the hub (https only)."),
    )
    tags = models.ManyToManyField(Tag, related_name="resources", blank=True, verbose_name=_("tags"))

    # Provenance: who made it, under which licence it may be shown, what evidence it rests on.
    author = models.CharField(
        _("author or producer"),
        max_length=200,
        blank=True,
        help_text=_("Who wrote or produced it. Required before approval for a guide written here."),
    )
    licence = models.CharField(
        _("licence"),
        max_length=20,
        blank=True,
        choices=Licence.choices,
        help_text=_(
            "'Linked only' for pages the hub only links to. A guide written here needs a "
            "licence that lets the hub show it, before approval."
        ),
    )
    licence_url = models.URLField(
        _("licence address"),
        max_length=500,
        blank=True,
        validators=[https_only],
        help_text=_("The licence text, if not the usual Creative Commons 4.0 deed (https only)."),
    )
    source_url = models.URLField(
        _("source address"),
        max_length=500,
        blank=True,
        validators=[https_only],
        help_text=_("Where the original is published, if not the web address above (https only)."),
    )
    evidence = models.TextField(
        _("evidence"),
        blank=True,
        help_text=_(
            "Trials and guidelines it rests on, one a line: the title, a space, then the "
            "https:// address. Shown on the public page."
        ),
    )

    has_captions = models.BooleanField(
        _("has captions"),
        default=False,
        help_text=_("Videos: tick when the video has captions (subtitles) for the spoken words."),
    )
    transcript = models.TextField(
        _("transcript"),
        blank=True,
        help_text=_(
            "Videos: the full text of what is said and shown, for people who cannot watch."
        ),
    )
    transcript_url = models.URLField(
        _("transcript address"),
        max_length=500,
        blank=True,
        validators=[https_only],
        help_text=_("Videos: a transcript published elsewhere (https only)."),
    )
    translations = models.ManyToManyField(
        "self",
        blank=True,
        symmetrical=True,
        verbose_name=_("same resource in other languages"),
        help_text=_("Link resources that are translations of each other."),
    )

    bone_metastasis_safety = models.CharField(
        _("bone-metastasis safety"),
        max_length=20,
        choices=BoneSafety.choices,
        default=BoneSafety.NOT_REVIEWED,
        help_text=_(
            "Set by a clinical reviewer only. A resource that is not reviewed can never be "
            "published. Anything other than 'generally suitable' shows a warning to patients."
        ),
    )
    rating_is_provisional = models.BooleanField(
        _("rating not yet clinically reviewed"),
        default=False,
        help_text=_(
            "Tick for demo or starter content whose rating is only a proposal. The public page "
            "then says that no clinician has reviewed it yet."
        ),
    )
    review_notes = models.TextField(
        _("notes for the clinical reviewer"),
        blank=True,
        help_text=_("Why this rating, evidence, what to check. Never shown to the public."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    reviewed_by = models.CharField(
        _("reviewed by"),
        max_length=200,
        blank=True,
        help_text=_("Name and role of the clinical reviewer, e.g. 'A. Jansen, physiotherapist'."),
    )
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)
    # Who last changed a safety-relevant field: they may not approve that change themselves
    # (unless they are a site admin).
    safety_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("safety fields last changed by"),
    )
    # Everyone who changed a safety-relevant field since the last approval (the rule for
    # approving, resources/workflow.py): emptied when a clinician approves.
    safety_contributors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("safety fields changed since approval by"),
    )
    # Set when a published resource's recorded (not reviewed) fields change, e.g. its title:
    # the "changed since review" list until a reviewer confirms the change.
    changed_since_review = models.DateTimeField(
        _("changed since review"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ResourceQuerySet.as_manager()
    # Every change, with who made it: readable diffs and restore in the admin.
    history = HistoricalRecords(m2m_fields=[tags], excluded_fields=["updated_at"])

    class Meta:
        # Browse page default order; slug breaks ties so pagination is stable.
        ordering = ["title", "slug"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        permissions = [
            ("review_resource", _("Can set safety ratings and movement flags, and send back")),
            ("publish_resource", _("Can approve, publish, unpublish and archive resources")),
        ]
        indexes = [
            # Every public page filters on the visibility rule first.
            models.Index(fields=["status", "published_at"], name="resource_visibility_idx"),
            # The browse order read from an index (resources/catalogue/filters.py, BrowseResults):
            # the visitor's language first, then every language, each by title.
            models.Index(
                fields=["language", "title", "slug"],
                condition=Q(status=Status.PUBLISHED)
                & ~Q(bone_metastasis_safety=BoneSafety.NOT_REVIEWED),
                name="resource_language_order_idx",
            ),
            models.Index(
                fields=["title", "slug"],
                condition=Q(status=Status.PUBLISHED)
                & ~Q(bone_metastasis_safety=BoneSafety.NOT_REVIEWED),
                name="resource_title_order_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED)
                | (
                    ~Q(bone_metastasis_safety=BoneSafety.NOT_REVIEWED)
                    & Q(reviewed_on__isnull=False)
                    & Q(published_at__isnull=False)
                ),
                name="resource_published_is_reviewed",
                violation_error_message=_(
                    "A published resource needs a safety rating, a review date and a "
                    "publication time."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[Kind.VIDEO, Kind.LINK, Kind.PROGRAMME]) | ~Q(url=""),
                name="resource_external_kind_has_url",
                violation_error_message=_("Videos, links and programmes need a web address."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.GUIDE) | ~Q(url="") | ~Q(body=""),
                name="resource_guide_has_content",
                violation_error_message=_("A guide needs either a body text or a web address."),
            ),
            models.CheckConstraint(
                condition=Q(image="") | ~Q(image_alt=""),
                name="resource_image_has_alt",
                violation_error_message=_("An image needs a description (alternative text)."),
            ),
            models.CheckConstraint(
                condition=Q(transcript_url="") | Q(transcript_url__startswith="https://"),
                name="resource_transcript_url_is_https",
                violation_error_message=_("The transcript address must start with https://."),
            ),
            models.CheckConstraint(
                condition=Q(url="") | Q(url__startswith="https://"),
                name="resource_url_is_https",
                violation_error_message=_("The web address must start with https://."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.video_provider, self.video_id = (
            parse_video_url(self.url) if self.kind == Kind.VIDEO else ("", "")
        )
        if self.status == Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        if self.reviewed_on and self.next_review_due is None:
            self.next_review_due = self.reviewed_on + timedelta(days=settings.HUB_REVIEW_CYCLE_DAYS)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("resources:detail", kwargs={"slug": self.slug})

    def was_ever_published(self) -> bool:
        """Published now or at any time before (its address may be printed somewhere).

        Reads the stored row's history and workflow log, not this instance's fields."""
        if self.pk is None:
            return False
        return (
            Resource.history.filter(id=self.pk, status=Status.PUBLISHED).exists()
            or self.transitions.filter(to_status=Status.PUBLISHED).exists()
        )

    def clean(self) -> None:
        """Explain each invariant to the editor in words, field by field."""
        super().clean()
        errors: dict[str, list[str]] = {}

        def add(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        if self.kind in {Kind.VIDEO, Kind.LINK, Kind.PROGRAMME} and not self.url:
            add(
                "url",
                _("Add the web address of this %(kind)s.")
                % {"kind": self.get_kind_display().lower()},
            )
        if self.kind == Kind.GUIDE and not self.url and not self.body.strip():
            add("body", _("Write the guide here, or give the web address of the guide."))
        if (
            self.slug
            and SlugRedirect.objects.filter(old_slug=self.slug)
            .exclude(resource_id=self.pk)
            .exists()
        ):
            add(
                "slug",
                _(
                    "This slug was the address of another resource, and printed links still "
                    "lead there. Choose another slug."
                ),
            )
        if self.image and not self.image_alt.strip():
            add("image_alt", _("Describe the image for people who cannot see it."))
        if self.image and not self.image_author.strip():
            add("image_author", _("Say who made the image before it can be uploaded."))
        if self.image and not self.image_licence:
            add("image_licence", _("Choose the image's licence before it can be uploaded."))
        elif self.image and self.image_licence not in Licence.hostable():
            add(
                "image_licence",
                _("The hub keeps a copy of an uploaded image, so it cannot be 'linked only'."),
            )
        evidence_links, bad_evidence = parse_evidence(self.evidence)
        if bad_evidence:
            add(
                "evidence",
                _(
                    "Write each evidence link as a title, a space and an address starting "
                    "with https://. Check: %(lines)s"
                )
                % {"lines": "; ".join(bad_evidence)},
            )
        elif len(evidence_links) > MAX_EVIDENCE_LINKS:
            add(
                "evidence",
                _("Give at most %(count)d evidence links.") % {"count": MAX_EVIDENCE_LINKS},
            )
        if self.status == Status.PUBLISHED:
            # Publishing without a time means "now"; set it here so the constraint check
            # that follows clean() sees the value save() would store.
            if self.published_at is None:
                self.published_at = timezone.now()
            if self.bone_metastasis_safety == BoneSafety.NOT_REVIEWED:
                add(
                    "bone_metastasis_safety",
                    _(
                        "This resource cannot be published until a clinical reviewer has "
                        "given it a bone-metastasis safety rating."
                    ),
                )
            if not self.reviewed_on:
                add(
                    "reviewed_on",
                    _("This resource cannot be published without the date of its clinical review."),
                )
            if not self.reviewed_by.strip() and not self.rating_is_provisional:
                add("reviewed_by", _("Name the clinical reviewer who checked this resource."))
        if self.reviewed_on and self.next_review_due and self.next_review_due <= self.reviewed_on:
            add("next_review_due", _("The next review must be after the last review."))
        if errors:
            raise ValidationError(errors)

    # Tag access by vocabulary. They read the prefetched `tags` when for_listing() was used.
    def tags_in(self, vocabulary: str) -> list[Tag]:
        return [tag for tag in self.tags.all() if tag.vocabulary == vocabulary]

    @property
    def fitness_levels(self) -> list[Tag]:
        return self.tags_in(Vocabulary.FITNESS_LEVEL)

    @property
    def flags(self) -> list[Tag]:
        return self.tags_in(Vocabulary.MOVEMENT_FLAG)

    @property
    def cancer_stages(self) -> list[Tag]:
        return self.tags_in(Vocabulary.CANCER_STAGE)

    @property
    def exercise_types(self) -> list[Tag]:
        return self.tags_in(Vocabulary.EXERCISE_TYPE)

    @property
    def written_for_early_stage_only(self) -> bool:
        stages = {tag.slug for tag in self.cancer_stages}
        return bool(stages) and stages <= {"early", "locally-advanced"}

    @property
    def needs_safety_callout(self) -> bool:
        return self.bone_metastasis_safety != BoneSafety.SUITABLE

    @property
    def body_html(self) -> str:
        return render_markdown(self.body)

    @property
    def is_hosted(self) -> bool:
        """A guide written here: the hub shows a copy, not just a link."""
        return bool(self.body.strip())

    @property
    def evidence_links(self) -> list[EvidenceLink]:
        return parse_evidence(self.evidence)[0]

    @property
    def licence_label(self) -> str:
        """The licence in words; a page the hub only links to is "linked only" by default."""
        if self.licence:
            return str(self.get_licence_display())
        if not self.is_hosted:
            return str(Licence.LINKED_ONLY.label)
        return str(_("Not recorded yet"))

    @property
    def licence_link(self) -> str:
        return self.licence_url or LICENCE_DEEDS.get(self.licence, "")

    @property
    def image_licence_link(self) -> str:
        return LICENCE_DEEDS.get(self.image_licence, "")

    @property
    def source_link(self) -> str:
        """Where the original lives: the source address, else the page the hub links to."""
        return self.source_url or self.url

    def provenance_problems(self) -> list[str]:
        """What is missing before the hub may publish what it hosts (the approve step)."""
        problems: list[str] = []
        if self.is_hosted:
            if not self.author.strip():
                problems.append(str(_("who wrote the guide (author or producer)")))
            if self.licence not in Licence.hostable():
                problems.append(str(_("a licence for the guide that lets the hub show it")))
        if self.image:
            if not self.image_author.strip():
                problems.append(str(_("who made the image")))
            if self.image_licence not in Licence.hostable():
                problems.append(str(_("the image's licence")))
        return problems

    def player_url(self, *, autoplay: bool) -> str:
        """The privacy-enhanced player address, built by us from the stored id (never stored
        HTML). With autoplay for the page's Play button; without for structured data."""
        if self.video_provider == "youtube":
            url = f"https://www.youtube-nocookie.com/embed/{self.video_id}"
            return f"{url}?autoplay=1&rel=0" if autoplay else url
        if self.video_provider == "vimeo":
            url = f"https://player.vimeo.com/video/{self.video_id}?dnt=1"
            return f"{url}&autoplay=1" if autoplay else url
        return ""

    @property
    def embed_url(self) -> str:
        return self.player_url(autoplay=True)


class PartnerQuerySet(models.QuerySet["Partner"]):
    def active(self) -> PartnerQuerySet:
        return self.filter(active=True)


class Partner(models.Model):
    """A clinic or charity that links to the hub or embeds its widget."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=50,
        unique=True,
        help_text=_("Used as ?ref=<slug> in links the partner prints, to count visits."),
    )
    origins = models.TextField(
        _("website origins"),
        blank=True,
        help_text=_(
            "One per line, e.g. https://www.example-hospital.org — the sites allowed to embed "
            "the widget. Scheme and host only, no path."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name

    def origin_list(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.origins.splitlines() if line.strip()]

    def clean(self) -> None:
        super().clean()
        bad = [
            origin
            for origin in self.origin_list()
            if not re.fullmatch(r"https://[a-z0-9.-]+(:[0-9]{1,5})?", origin)
        ]
        if bad:
            raise ValidationError(
                {
                    "origins": _(
                        "Give each origin as https://host (optionally :port), no path: %(bad)s"
                    )
                    % {"bad": ", ".join(bad)}
                }
            )


class ReferralCount(models.Model):
    """Visits that arrived through a partner's link, per day, in aggregate only.

    No cookie, no IP address, nothing about the person: one counter per partner per day.
    """

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="referrals", verbose_name=_("partner")
    )
    day = models.DateField(_("day"))
    visits = models.PositiveIntegerField(_("visits"), default=0)

    class Meta:
        ordering = ["-day", "partner"]
        verbose_name = _("referral count")
        verbose_name_plural = _("referral counts")
        constraints = [
            models.UniqueConstraint(fields=["partner", "day"], name="referral_one_row_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.day}: {self.visits}"


class Transition(models.Model):
    """One step of the editorial workflow (draft → in review → published → archived)."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("resource")
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # Kept when the account is deleted later.
    actor_name = models.CharField(_("by (name)"), max_length=200, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")

    def __str__(self) -> str:
        return f"{self.resource}: {self.from_status or '-'} → {self.to_status}"


class SlugRedirect(models.Model):
    """An address a resource had before a site admin changed its slug.

    Printed handouts and QR codes keep working: the detail page looks here only when no
    published resource has the slug, and answers 301 to the resource's address today.
    """

    old_slug = models.SlugField(_("old slug"), max_length=80, unique=True)
    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        related_name="old_slugs",
        verbose_name=_("resource"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["old_slug"]
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")

    def __str__(self) -> str:
        return f"{self.old_slug} → {self.resource.slug}"


class LinkCheck(models.Model):
    """The last check of one external web address (``manage.py check_links``).

    A link is only *broken* after failing on two different runs, so that one bad minute
    on someone else's server does not alarm the editors.
    """

    url = models.URLField(_("web address"), max_length=500, unique=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("problem"), max_length=300, blank=True)
    elapsed_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    final_url = models.URLField(_("address after redirects"), max_length=500, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField(_("failed runs in a row"), default=0)
    last_failed_run = models.CharField(_("last failing run"), max_length=40, blank=True)
    is_broken = models.BooleanField(_("broken"), default=False, db_index=True)
    broken_since = models.DateTimeField(_("broken since"), null=True, blank=True)

    class Meta:
        ordering = ["url"]
        verbose_name = _("link check")
        verbose_name_plural = _("link checks")

    def __str__(self) -> str:
        return self.url


# ---------------------------------------------------------------------------------------------
# Supervised programmes (issue #13): listings shaped after the Open Referral Human Services Data
# Specification (HSDS 3.x). A `Programme` is an HSDS *service*, its `organisation` the HSDS
# *organization* (the same Organisation as the resources'), each `ProgrammeLocation` an HSDS
# *location* with its *physical address*. Public code lives in resources/programmes/.
# ---------------------------------------------------------------------------------------------

# A listing nobody has checked for this long is shown as "not checked recently".
PROGRAMME_CHECK_DAYS = 365


class Delivery(models.TextChoices):
    IN_PERSON = "in-person", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("In person and online")


class BoneAcceptance(models.TextChoices):
    """What the programme says about people with bone metastases (as the provider states it)."""

    ACCEPTED = "accepted", _("Accepts people with bone metastases")
    CLEARANCE = "clearance", _("Accepts people with bone metastases with their doctor's clearance")
    NOT_ACCEPTED = "not-accepted", _("Does not accept people with bone metastases")
    NOT_STATED = "not-stated", _("Does not say whether it accepts people with bone metastases")


class Referral(models.TextChoices):
    SELF = "self", _("You can sign up yourself")
    REFERRAL = "referral", _("Needs a referral from your care team")
    EITHER = "either", _("Sign up yourself or through your care team")


class Cost(models.TextChoices):
    FREE = "free", _("Free")
    PAID = "paid", _("Costs money or is paid by insurance")


_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def normalise_languages(value: str) -> str:
    """'NL, en ,nl' → 'nl,en': lower case, no spaces, no repeats, order kept."""
    seen: list[str] = []
    for code in re.split(r"[\s,;]+", value.lower()):
        if code and code not in seen:
            seen.append(code)
    return ",".join(seen)


def languages_condition(code: str, field: str = "languages") -> Q:
    """Rows whose comma-separated language list holds exactly `code` (not 'en' in 'ent')."""
    return (
        Q(**{field: code})
        | Q(**{f"{field}__startswith": f"{code},"})
        | Q(**{f"{field}__endswith": f",{code}"})
        | Q(**{f"{field}__contains": f",{code},"})
    )


class ProgrammeQuerySet(models.QuerySet["Programme"]):
    def published(self) -> ProgrammeQuerySet:
        """The visibility rule for listings. Every public read goes through here, and only here."""
        return self.filter(status=Status.PUBLISHED, published_at__lte=timezone.now())

    def not_checked_since(self, today: date | None = None) -> ProgrammeQuerySet:
        """Listings whose details nobody has confirmed for 12 months (or ever)."""
        day = (today or timezone.localdate()) - timedelta(days=PROGRAMME_CHECK_DAYS)
        return self.filter(Q(assured_date__lt=day) | Q(assured_date__isnull=True)).exclude(
            status=Status.ARCHIVED
        )

    def for_listing(self) -> ProgrammeQuerySet:
        return self.select_related("organisation").prefetch_related("locations", "stages")


class Programme(models.Model):
    """A supervised exercise programme: an HSDS service."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        help_text=_("Part of the public address. Never change it once published."),
    )
    description = models.TextField(_("description"), max_length=2000)
    url = models.URLField(_("web address"), max_length=500, blank=True, validators=[https_only])
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    referral = models.CharField(
        _("how to join"), max_length=10, choices=Referral.choices, default=Referral.EITHER
    )
    application_process = models.TextField(
        _("how to take part"),
        max_length=1000,
        blank=True,
        help_text=_("The steps in plain words: form, phone call, e-mail, referral letter."),
    )
    eligibility_description = models.TextField(_("who can take part"), max_length=1000, blank=True)
    bone_metastases = models.CharField(
        _("people with bone metastases"),
        max_length=20,
        choices=BoneAcceptance.choices,
        default=BoneAcceptance.NOT_STATED,
        help_text=_("As the programme states it. Check with them when you confirm the listing."),
    )
    stages = models.ManyToManyField(
        Tag,
        blank=True,
        related_name="programmes",
        limit_choices_to={"vocabulary": Vocabulary.CANCER_STAGE},
        verbose_name=_("cancer stages accepted"),
    )
    cost = models.CharField(_("cost"), max_length=10, choices=Cost.choices, default=Cost.FREE)
    fees_description = models.CharField(_("cost in words"), max_length=300, blank=True)
    languages = models.CharField(
        _("languages"),
        max_length=100,
        default="en",
        help_text=_("Two-letter codes of the languages the sessions are held in, e.g. 'nl, en'."),
    )
    accessibility = models.TextField(_("accessibility"), max_length=1000, blank=True)
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.IN_PERSON
    )
    service_area = models.CharField(
        _("service area"),
        max_length=200,
        blank=True,
        help_text=_("Where participants may live, e.g. 'Utrecht region' or 'all of Germany'."),
    )
    schedule = models.CharField(
        _("schedule"), max_length=300, blank=True, help_text=_("e.g. 'Tuesdays and Thursdays'.")
    )
    assured_date = models.DateField(
        _("details last checked"),
        null=True,
        blank=True,
        help_text=_("When someone last confirmed these details with the programme."),
    )
    assurer = models.CharField(_("checked by"), max_length=200, blank=True)
    source_url = models.URLField(
        _("source"),
        max_length=500,
        blank=True,
        help_text=_("Where the details come from, e.g. a national finder (never shown as advice)."),
    )
    is_demo = models.BooleanField(
        _("starter listing, not yet checked"),
        default=False,
        help_text=_("Starter or demo listing: the public page says it still needs checking."),
    )
    review_notes = models.TextField(_("notes for editors"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProgrammeQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[stages], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "slug"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        indexes = [
            models.Index(fields=["status", "published_at"], name="programme_visibility_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED)
                | (Q(assured_date__isnull=False) & Q(published_at__isnull=False)),
                name="programme_published_is_checked",
                violation_error_message=_(
                    "A published programme needs the date its details were last checked."
                ),
            ),
            models.CheckConstraint(
                condition=Q(url="") | Q(url__startswith="https://"),
                name="programme_url_is_https",
                violation_error_message=_("The web address must start with https://."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.languages = normalise_languages(self.languages)
        if self.status == Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("resources:programme-detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        self.languages = normalise_languages(self.languages)
        bad = [code for code in self.languages.split(",") if not _LANGUAGE_CODE.match(code)]
        if bad or not self.languages:
            errors["languages"] = _("Give two-letter language codes separated by commas.")
        if self.status == Status.PUBLISHED:
            if self.published_at is None:
                self.published_at = timezone.now()
            if not self.assured_date:
                errors["assured_date"] = _(
                    "A programme cannot be published until someone has checked its details."
                )
        if not (self.url or self.email or self.phone):
            errors["url"] = _("Give at least one way to reach the programme.")
        if errors:
            raise ValidationError(errors)

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    @property
    def language_names(self) -> list[tuple[str, str]]:
        """(code, name in the visitor's language) per session language; unknown codes as is."""
        from django.utils.translation import get_language_info

        names = []
        for code in self.language_codes:
            try:
                names.append((code, get_language_info(code)["name_translated"]))
            except KeyError:
                names.append((code, code))
        return names

    @property
    def is_online(self) -> bool:
        return self.delivery in {Delivery.ONLINE, Delivery.HYBRID}

    @property
    def not_checked_recently(self) -> bool:
        limit = timezone.localdate() - timedelta(days=PROGRAMME_CHECK_DAYS)
        return self.assured_date is None or self.assured_date < limit


class ProgrammeLocation(models.Model):
    """Where a programme meets: an HSDS location with its physical address."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="locations", verbose_name=_("programme")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    address = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    postal_code = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("Two-letter ISO code, e.g. NL.")
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["programme", "city", "pk"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__gte=-180, longitude__lte=180)
                ),
                name="location_coordinates_pair",
                violation_error_message=_(
                    "Give both latitude and longitude, or neither, within the valid ranges."
                ),
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(bit for bit in (self.name, self.city, self.country) if bit)

    def save(self, *args, **kwargs) -> None:
        self.country = self.country.upper()
        super().save(*args, **kwargs)


class ProblemReport(models.Model):
    """A visitor's report that a listing is wrong: the editors' queue (issue #13, part 4).

    Holds no address: the rate limit keeps only a salted hash in the cache, never here.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        FIXED = "fixed", _("Fixed")
        DISMISSED = "dismissed", _("Dismissed")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="problem_reports",
        verbose_name=_("programme"),
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="problem_reports",
        verbose_name=_("resource"),
    )
    message = models.TextField(_("what is wrong"), max_length=2000)
    contact = models.CharField(_("contact (optional)"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    editor_notes = models.TextField(_("notes for editors"), blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("problem report")
        verbose_name_plural = _("problem reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(programme__isnull=False, resource__isnull=True)
                | Q(programme__isnull=True, resource__isnull=False),
                name="problem_report_one_subject",
                violation_error_message=_("A report is about one programme or one resource."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.programme or self.resource)

    @property
    def subject(self) -> Programme | Resource | None:
        return self.programme or self.resource
