"""`Authorization: Bearer dnx_…` for DRF."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from tenancy.services.tokens import TokenInvalid, api_token_authenticate

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticate an API token; `request.auth` becomes its `TokenGrant`.

    Unknown, revoked and expired tokens, inactive users and users no longer in the token's
    organization all answer 401 with the same message: a caller learns nothing about which.
    """

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header.")
        try:
            grant = api_token_authenticate(parts[1].decode("ascii"))
        except (TokenInvalid, UnicodeDecodeError):
            raise AuthenticationFailed("Invalid, expired or revoked token.") from None
        return grant.membership.user, grant

    def authenticate_header(self, request: Request) -> str:
        # Present, so DRF answers 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'
