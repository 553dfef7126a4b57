"""/api/v1/servers/ and /api/v1/ssh-key/: servers (list, create, read, update, delete, check,
through servers.services) and the organization's public key. Mounted by deploynix/api_urls.py."""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from servers.models import Server
from servers.selectors import organization_key_active, server_get, server_list
from servers.serializers import ServerInputSerializer, ServerSerializer, SSHKeySerializer
from servers.services import server_check_request, server_create, server_delete, server_update
from tenancy.api.base import OrgAPIView
from tenancy.models import Ability


class ServerObjectMixin:
    def get_server(self) -> Server:
        """The server in the token's organization, or 404 (another org's id looks missing)."""
        server = server_get(org=self.org, pk=self.kwargs["pk"])
        if server is None:
            raise Http404("No such server.")
        return server


class ServerListView(OrgAPIView):
    """The organization's servers (server:read); add one (server:write, Manager+)."""

    abilities = {"GET": Ability.SERVER_READ, "POST": Ability.SERVER_WRITE}
    serializer_class = ServerSerializer

    def get_queryset(self):
        return server_list(org=self.org)

    @extend_schema(operation_id="servers_list", responses=ServerSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ServerSerializer(page, many=True).data)

    @extend_schema(request=ServerInputSerializer, responses={201: ServerSerializer})
    def post(self, request):
        data = _input(request, partial=False)
        server = server_create(org=self.org, actor=self.actor, **data)
        return Response(ServerSerializer(server).data, status=status.HTTP_201_CREATED)


class ServerDetailView(ServerObjectMixin, OrgAPIView):
    """One server; change or delete it (server:write, Manager+)."""

    abilities = {"GET": Ability.SERVER_READ, "PATCH": Ability.SERVER_WRITE,
                 "PUT": Ability.SERVER_WRITE, "DELETE": Ability.SERVER_WRITE}
    serializer_class = ServerSerializer

    def get(self, request, pk: int):
        return Response(ServerSerializer(self.get_server()).data)

    @extend_schema(request=ServerInputSerializer)
    def patch(self, request, pk: int):
        data = _input(request, partial=True)
        server = server_update(server=self.get_server(), actor=self.actor, **data)
        return Response(ServerSerializer(server).data)

    @extend_schema(request=ServerInputSerializer)
    def put(self, request, pk: int):
        data = _input(request, partial=False)
        server = server_update(server=self.get_server(), actor=self.actor, **data)
        return Response(ServerSerializer(server).data)

    def delete(self, request, pk: int):
        server_delete(server=self.get_server(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ServerCheckView(ServerObjectMixin, OrgAPIView):
    """Queue a connection check, which pins the host key on first use (server:write)."""

    abilities = {"POST": Ability.SERVER_WRITE}
    serializer_class = ServerSerializer

    @extend_schema(request=None, responses={202: ServerSerializer})
    def post(self, request, pk: int):
        server = self.get_server()
        server_check_request(server=server, actor=self.actor)
        return Response(ServerSerializer(server).data, status=status.HTTP_202_ACCEPTED)


class SSHKeyView(OrgAPIView):
    """The public key every server must authorize (server:read)."""

    abilities = {"GET": Ability.SERVER_READ}
    serializer_class = SSHKeySerializer

    @extend_schema(summary="The organization's active SSH public key")
    def get(self, request):
        key = organization_key_active(org=self.org)
        if key is None:
            raise Http404("This organization has no SSH key yet.")
        return Response(SSHKeySerializer(key).data)


def _input(request, *, partial: bool) -> dict:
    """The submitted writable fields only (unknown keys are ignored, never passed through)."""
    serializer = ServerInputSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    # A partial serializer leaves out what was not sent, so PATCH changes only those fields.
    return dict(serializer.validated_data)


urlpatterns = [
    path("ssh-key/", SSHKeyView.as_view(), name="ssh-key"),
    path("servers/", ServerListView.as_view(), name="servers"),
    path("servers/<int:pk>/", ServerDetailView.as_view(), name="server"),
    path("servers/<int:pk>/check/", ServerCheckView.as_view(), name="server-check"),
]
