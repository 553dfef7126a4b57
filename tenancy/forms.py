"""Forms of the tenancy core."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from tenancy.identity import MAX_IDENTITY_LENGTH, normalize_identity
from tenancy.models import User

PASSWORD_MAX_LENGTH = 256  # hashing a megabyte-long "password" is work for nothing


class LoginForm(AuthenticationForm):
    """Django's log-in form with a bounded password (too long: refused before any hashing)."""

    password = forms.CharField(
        label="Password", strip=False, max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SignupForm(forms.Form):
    """Whether the address already has an account is NOT checked here (services/signup.py)."""

    name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=MAX_IDENTITY_LENGTH)
    password = forms.CharField(widget=forms.PasswordInput, strip=False,
                               max_length=PASSWORD_MAX_LENGTH)
    invitation = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def clean_email(self) -> str:
        return normalize_identity(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            user = User(email=cleaned.get("email", ""), name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password, user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class InvitationSignupForm(forms.Form):
    """A new account on the invitation page: the e-mail address is the invitation's, not typed."""

    name = forms.CharField(max_length=150, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        help_text="At least 8 characters, not a common password.",
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = User(email=self.email, name=self.data.get("name", ""))
        password_validation.validate_password(password, user)
        return password


class ResetForm(PasswordResetForm):
    """Django's reset form, finding the account by the one normalized identity."""

    email = forms.EmailField(max_length=MAX_IDENTITY_LENGTH, label="E-mail")

    def get_users(self, email: str):
        users = User.objects.filter(email=normalize_identity(email), is_active=True)
        return (user for user in users if user.has_usable_password())


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=100)
