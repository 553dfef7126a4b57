"""/api/v1/ routes: each app's REST endpoints (`<app>/api.py`) under one namespace, "api".

The shell composes them here because it may import every app. The site endpoints are the
shell's own (deploynix/site_api.py): a site's representation shows what several apps know.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from deployments import api as deployments_api
from deploynix import site_api
from loadbalancers import api as loadbalancers_api
from schedules import api as schedules_api
from servers import api as servers_api
from sites import api as sites_api
from sites import freeze_api
from tenancy.api import schema
from tenancy.api import tokens as tokens_api
from webhooks import api as webhooks_api

app_name = "api"

urlpatterns = [
    *servers_api.urlpatterns,
    *site_api.urlpatterns,
    *sites_api.urlpatterns,
    *freeze_api.urlpatterns,
    *loadbalancers_api.urlpatterns,
    *deployments_api.urlpatterns,
    *webhooks_api.urlpatterns,
    *schedules_api.urlpatterns,
    *tokens_api.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", schema.api_docs, name="docs"),
]
