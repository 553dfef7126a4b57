"""Password reset by e-mail (Django's token machinery), throttled, revealing nothing.

The form answers the same whether or not the address has an account; the link in the e-mail
is built from PUBLIC_URL, never from the request's Host header (which a caller chooses).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy

from tenancy import throttle
from tenancy.access import actor_for
from tenancy.audit import Actor
from tenancy.forms import ResetForm
from tenancy.services.account import password_reset_complete
from tenancy.views.auth import TOO_MANY


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetForm
    template_name = "auth/password_reset.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")

    def post(self, request, *args, **kwargs):
        if throttle.hit(request, throttle.RESET_PER_IP, throttle.RESET_PER_ACCOUNT):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, TOO_MANY)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        self.extra_email_context = {"public_url": settings.PUBLIC_URL.rstrip("/")}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "auth/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "auth/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form):
        actor = actor_for(self.request)
        password_reset_complete(actor=Actor(user=form.user, ip=actor.ip), form=form)
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "auth/password_reset_complete.html"
