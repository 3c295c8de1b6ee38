"""One URLconf for both stacks: Gunicorn and Uvicorn serve exactly these HTTP URLs.
WebSocket URLs are in myproject/routing.py (ASGI only)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from myproject import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
    path("chat/", include("chat.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]
# The demo's probes are levers for anyone who finds them: routed only where it is on (DJANGO_DEMO).
if settings.DEMO:
    urlpatterns.append(path("demo/", include("demo.urls")))
