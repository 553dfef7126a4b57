"""The `sites` URL namespace, mounted under /o/<org>/sites/: one place for every page of a site.

Composed here because its pages come from several apps (deploynix/site_pages.py says why);
paths and names are the site's whichever app serves them.
"""

from __future__ import annotations

from django.urls import path

from deployments.urls import site_urlpatterns as deployment_pages
from deploynix import site_pages
from sites.urls import urlpatterns as site_actions

app_name = "sites"
urlpatterns = [
    path("", site_pages.site_list, name="list"),
    path("<int:pk>/", site_pages.site_detail, name="detail"),
    *site_actions,
    *deployment_pages,
]
