"""Sign-up, log-in (rate limited) and log-out."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from tenancy.access import client_ip
from tenancy.forms import SignupForm
from tenancy.services.orgs import user_signup


def _login_limited(request: HttpRequest) -> bool:
    """Count a POST against both the client address and the e-mail it tries."""
    rate = settings.LOGIN_RATE_LIMIT
    by_ip = is_ratelimited(
        request, group="login-ip", key="ip", rate=rate, method="POST", increment=True
    )
    by_user = is_ratelimited(
        request, group="login-user", key="post:username", rate=rate, method="POST", increment=True
    )
    return by_ip or by_user


class LoginView(auth_views.LoginView):
    template_name = "auth/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if _login_limited(request):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "Too many log-in attempts. Wait a few minutes and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user, org = user_signup(
            email=data["email"], password=data["password"], name=data["name"],
            org_name=data["organization"], ip=client_ip(request),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_safe_next(request) or reverse("dashboard", kwargs={"org": org.slug}))
    return render(request, "auth/signup.html", {"form": form, "next": _safe_next(request)})


def _safe_next(request: HttpRequest) -> str:
    """Where to go after signing up (e.g. back to an invitation), only if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if allowed else ""


def logout(request: HttpRequest) -> HttpResponse:
    return auth_views.LogoutView.as_view()(request)
