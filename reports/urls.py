from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    # Before "<slug>/", which would otherwise match it; no report is called "live".
    path("live/", views.publications_live, name="live"),
    path("<slug:slug>/", views.report_detail, name="detail"),
    path("<slug:slug>/csv/", views.report_csv, name="csv"),
    path("<slug:slug>/publish/", views.report_publish, name="publish"),
]
