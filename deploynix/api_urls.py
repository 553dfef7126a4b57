"""/api/v1/ routes: each app's REST endpoints (`<app>/api.py`) under one namespace, "api".

The shell composes them here because it may import every app. It also gives the site's
representation the facts that apps above sites know (sites/serializers.py says why).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from deployments import api as deployments_api
from deployments.serializers import site_truth_data
from loadbalancers import api as loadbalancers_api
from schedules import api as schedules_api
from servers import api as servers_api
from sites import api as sites_api
from sites.serializers import site_fact_register
from tenancy.api import schema
from tenancy.api import tokens as tokens_api
from webhooks import api as webhooks_api
from webhooks.links import webhook_urls

site_fact_register("webhook_urls", webhook_urls)
site_fact_register("truth", site_truth_data)

app_name = "api"

urlpatterns = [
    *servers_api.urlpatterns,
    *sites_api.urlpatterns,
    *loadbalancers_api.urlpatterns,
    *deployments_api.urlpatterns,
    *webhooks_api.urlpatterns,
    *schedules_api.urlpatterns,
    *tokens_api.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", schema.api_docs, name="docs"),
]
