"""/api/v1/ routes. Mount with `path("api/v1/", include("deploynix.api.urls"))`."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from deploynix.api import schema  # noqa: F401  (registers the bearer scheme with spectacular)
from deploynix.api.views_keys import SSHKeyView
from deploynix.api.views_servers import ServerCheckView, ServerDetailView, ServerListView
from deploynix.api.views_tokens import TokenDetailView, TokenListView

app_name = "api"

urlpatterns = [
    path("ssh-key/", SSHKeyView.as_view(), name="ssh-key"),
    path("servers/", ServerListView.as_view(), name="servers"),
    path("servers/<int:pk>/", ServerDetailView.as_view(), name="server"),
    path("servers/<int:pk>/check/", ServerCheckView.as_view(), name="server-check"),
    path("tokens/", TokenListView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", TokenDetailView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", schema.api_docs, name="docs"),
]
