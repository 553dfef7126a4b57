"""Log-in (throttled, then a second factor when the user has one), sign-up, log-out.

Log-in throttles count failures only, per account (the normalized e-mail that authentication
uses) and, generously, per client address; a locked account refuses even the right password.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tenancy import throttle
from tenancy.audit import Actor
from tenancy.forms import LoginForm, SignupForm
from tenancy.forms_account import CodeForm
from tenancy.identity import MAX_IDENTITY_LENGTH
from tenancy.models import User
from tenancy.services.signup import signup_request
from tenancy.services.two_factor import two_factor_verify
from tenancy.two_factor import has_two_factor

PENDING = "_deploynix_2fa_pending"  # the user who gave the right password, waiting for a code
PENDING_SECONDS = 300
PENDING_TRIES = 5
TOO_MANY = "Too many attempts. Wait a few minutes and try again."


class LoginView(auth_views.LoginView):
    template_name = "auth/login.html"
    redirect_authenticated_user = True
    authentication_form = LoginForm

    def get_initial(self) -> dict:
        # An invitation page sends its invited address along, so it is not typed again.
        email = self.request.GET.get("email", "")[:MAX_IDENTITY_LENGTH]
        return {"username": email} if email else {}

    def post(self, request, *args, **kwargs):
        if throttle.blocked(request, throttle.LOGIN_PER_ACCOUNT, throttle.LOGIN_PER_IP):
            # An unbound form: a locked account's password is not even checked.
            form = LoginForm(request, initial={"username": request.POST.get("username")})
            context = self.get_context_data(form=form, refusal=TOO_MANY)
            return self.render_to_response(context, status=429)
        form = self.get_form()
        if not form.is_valid():
            throttle.count_failure(request, throttle.LOGIN_PER_ACCOUNT, throttle.LOGIN_PER_IP)
            return self.form_invalid(form)
        return self.form_valid(form)

    def form_valid(self, form):
        user = form.get_user()
        if not has_two_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk, "backend": user.backend, "next": self.get_success_url(),
            "at": int(time.time()), "tries": 0,
        }
        return redirect("login-code")


def _pending_user(request: HttpRequest) -> tuple[dict, User] | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        return None
    if pending["tries"] >= PENDING_TRIES:
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (pending, user) if user is not None else None


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step of a log-in: a code from the authenticator app or a recovery code."""
    found = _pending_user(request)
    if found is None:
        request.session.pop(PENDING, None)
        messages.error(request, "Log in again: the code step expired or had too many tries.")
        return redirect("login")
    pending, user = found
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = Actor(user=user, ip=request.META.get("REMOTE_ADDR") or None)
        if two_factor_verify(actor=actor, user=user, code=form.cleaned_data["code"]):
            del request.session[PENDING]
            login(request, user, backend=pending["backend"])
            return redirect(pending["next"])
        pending["tries"] += 1
        request.session[PENDING] = pending
        form.add_error("code", "That code is not right, or it was already used.")
    return render(request, "auth/login_code.html", {"form": form},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """The same answer whether or not the address has an account (tenancy/services/signup.py)."""
    invitation = request.GET.get("invitation", "")
    form = SignupForm(request.POST or None, initial={"invitation": invitation})
    status = 200
    if request.method == "POST":
        if throttle.hit(request, throttle.SIGNUP_PER_IP):
            form.errors.clear()
            form.add_error(None, TOO_MANY)
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                signup_request(
                    email=data["email"], password=data["password"], name=data["name"],
                    invitation_token=data["invitation"], next_path=safe_next(request),
                    ip=request.META.get("REMOTE_ADDR") or None,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("signup-done")
    context = {"form": form, "next": safe_next(request),
               "invite_only": settings.SIGNUP_INVITE_ONLY and not invitation}
    return render(request, "auth/signup.html", context, status=status)


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "auth/signup_done.html")


def safe_next(request: HttpRequest) -> str:
    """Where to go after signing up (e.g. back to an invitation), only if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if allowed and target.startswith("/") else ""


def logout(request: HttpRequest) -> HttpResponse:
    return auth_views.LogoutView.as_view()(request)
