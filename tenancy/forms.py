"""Forms of the tenancy core."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation

from tenancy.models import User


class SignupForm(forms.Form):
    name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, strip=False)
    organization = forms.CharField(max_length=100, label="Organization name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail already exists.")
        return email

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


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=100)
