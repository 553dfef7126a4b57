"""/api/v1/tokens/: a logged-in user (session + CSRF) lists, creates and revokes their tokens.

Deliberately not reachable with a token: a leaked token must not be able to mint more.
"""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from tenancy.access import client_ip
from tenancy.api.base import api_exception_handler
from tenancy.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
)
from tenancy.audit import Actor
from tenancy.models import ApiToken, AuditEvent, Organization
from tenancy.services.tokens import api_token_create, api_token_revoke


class SessionAPIView(generics.GenericAPIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self):
        return api_exception_handler

    @property
    def actor(self) -> Actor:
        return Actor(user=self.request.user, source=AuditEvent.Source.API,
                     ip=client_ip(self.request))


class TokenListView(SessionAPIView):
    """Your tokens (every organization); create one, shown once. Session + CSRF only."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user).select_related("organization")

    @extend_schema(operation_id="tokens_list", responses=ApiTokenSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiTokenSerializer(page, many=True).data)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def post(self, request):
        form = ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        org = Organization.objects.filter(slug=data["organization"],
                                          memberships__user=request.user).first()
        if org is None:
            raise Http404("No such organization.")
        token, plaintext = api_token_create(
            actor=self.actor, user=request.user, organization=org, name=data["name"],
            abilities=data["abilities"], expires_in_days=data.get("expires_in_days"),
        )
        body = {**ApiTokenSerializer(token).data, "token": plaintext}
        # The only time the token exists in clear: no proxy or browser cache may keep it.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class TokenDetailView(SessionAPIView):
    """One of your tokens; DELETE revokes it. Session + CSRF only."""

    serializer_class = ApiTokenSerializer

    def get_token(self, pk: int) -> ApiToken:
        token = ApiToken.objects.filter(user=self.request.user, pk=pk).first()
        if token is None:
            raise Http404("No such token.")
        return token

    def get(self, request, pk: int):
        return Response(ApiTokenSerializer(self.get_token(pk)).data)

    @extend_schema(summary="Revoke the token", responses={200: ApiTokenSerializer})
    def delete(self, request, pk: int):
        token = api_token_revoke(actor=self.actor, token=self.get_token(pk))
        return Response(ApiTokenSerializer(token).data)


urlpatterns = [
    path("tokens/", TokenListView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", TokenDetailView.as_view(), name="token"),
]
