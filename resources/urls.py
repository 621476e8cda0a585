from django.urls import path

from .catalogue import plan, views
from .clinics import conversation, feeds, links
from .editorial import preview
from .programmes import reports, support
from .programmes import views as programmes

app_name = "resources"

urlpatterns = [
    path("", views.home, name="home"),
    path("resources/", views.resource_list, name="list"),
    path("resources/<slug:slug>/", views.resource_detail, name="detail"),
    path("safety/", views.safety, name="safety"),
    path("programmes/", programmes.programme_list, name="programmes"),
    path("programmes/<slug:slug>/", programmes.programme_detail, name="programme-detail"),
    path("find/", views.self_check, name="self-check"),
    path("find/support/", support.support, name="support"),
    path("find/support/questions/", support.support_sheet, name="support-sheet"),
    # The one public form: the only public page that sets a cookie (CSRF), never cached.
    path("report/<str:kind>/<slug:slug>/", reports.report_problem, name="report-problem"),
    path("about/", views.about, name="about"),
    path("my-plan/", plan.plan, name="plan"),
    path("for-clinics/", links.link_builder, name="clinics"),
    path("for-clinics/handout/", links.handout, name="clinics-handout"),
    path("for-clinics/letter/", links.referral_letter, name="clinics-letter"),
    path(
        "for-clinics/conversation/",
        conversation.conversation_guide,
        name="clinics-conversation",
    ),
    path("for-clinics/qr.png", links.qr_code, {"image_format": "png"}, name="clinics-qr-png"),
    path("for-clinics/qr.svg", links.qr_code, {"image_format": "svg"}, name="clinics-qr-svg"),
    path("feeds/rss/", feeds.rss_feed, name="feed-rss"),
    path("feeds/atom/", feeds.atom_feed, name="feed-atom"),
    # Staff only, never cached or indexed (robots.txt disallows /*/preview/).
    path("preview/<int:pk>/", preview.resource_preview, name="preview"),
    path("preview/markdown/", preview.markdown_preview, name="preview-markdown"),
]
