"""Forms of the deployments app: the site's Provision form."""

from __future__ import annotations

from django import forms

from servers.provision.tls import MAX_PEM_BYTES


class ProvisionForm(forms.Form):
    """Provisioning settings sent with the Provision button (all optional)."""

    scheduler = forms.BooleanField(required=False, label="Run Laravel's scheduler every minute")
    certificate = forms.CharField(required=False, max_length=MAX_PEM_BYTES, strip=True,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  label="HTTPS certificate (PEM, chain included)")
    private_key = forms.CharField(required=False, max_length=MAX_PEM_BYTES, strip=True,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  label="Its private key (PEM, stored encrypted)")
    remove_certificate = forms.BooleanField(required=False, label="Remove the certificate")
