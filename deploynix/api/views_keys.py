"""GET /api/v1/ssh-key/: the public key servers must authorize."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from servers.selectors import organization_key_active
from tenancy.api.base import OrgAPIView
from tenancy.api.serializers import SSHKeySerializer
from tenancy.models import Ability


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
