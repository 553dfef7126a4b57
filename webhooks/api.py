"""/api/v1/sites/<id>/webhook/: the site's hook URLs and signing secret; rotate the secret.
Mounted by deploynix/api_urls.py.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from sites.api import SiteObjectMixin
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability
from tenancy.roles import Cap
from webhooks.links import webhook_urls
from webhooks.secrets import webhook_secret_reveal, webhook_secret_rotate
from webhooks.serializers import WebhookInfoSerializer

NO_STORE = {"Cache-Control": "no-store"}  # responses carrying a secret


class SiteWebhookView(SiteObjectMixin, OrgAPIView):
    """The hook URLs and the signing secret: Developer+ (the secret is a secret)."""

    abilities = {"GET": Ability.SITE_WRITE, "POST": Ability.SITE_WRITE}
    extra_caps = {"GET": Cap.VIEW_SECRETS, "POST": Cap.VIEW_SECRETS}
    serializer_class = WebhookInfoSerializer

    @extend_schema(summary="Webhook URLs and secret (each read is in the audit log)", request=None)
    def get(self, request, pk: int):
        site = self.get_site()
        # Asking for this resource is asking for the secret: a reveal, audited like the page's.
        secret = webhook_secret_reveal(site=site, actor=self.actor)
        body = {"urls": webhook_urls(site), "secret": secret}
        return Response(body, headers=NO_STORE)

    @extend_schema(summary="Rotate the webhook secret (the old one stops working)", request=None)
    def post(self, request, pk: int):
        site = self.get_site()
        secret = webhook_secret_rotate(site=site, actor=self.actor)
        return Response({"urls": webhook_urls(site), "secret": secret}, headers=NO_STORE)


urlpatterns = [
    path("sites/<int:pk>/webhook/", SiteWebhookView.as_view(), name="site-webhook"),
]
