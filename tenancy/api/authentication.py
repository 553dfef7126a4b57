"""`Authorization: Bearer dnx_…` for DRF."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from tenancy.services.tokens import TOKEN_FORM_BYTES, TokenInvalid, api_token_authenticate

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticate an API token; `request.auth` becomes its `TokenGrant`.

    Unknown, revoked and expired tokens, inactive users and users no longer in the token's
    organization all answer 401 with the same message: a caller learns nothing about which.
    """

    def authenticate(self, request: Request):
        # Exactly `Bearer <token>`: one space, nothing around (the scheme is case-insensitive,
        # RFC 9110 11.1); a padded or folded value is not a second spelling of a token.
        scheme, _, credentials = get_authorization_header(request).partition(b" ")
        if scheme.strip().lower() != KEYWORD:
            return None
        if scheme != scheme.strip() or not TOKEN_FORM_BYTES.fullmatch(credentials):
            raise AuthenticationFailed("Malformed Authorization header.")
        try:
            grant = api_token_authenticate(credentials.decode("ascii"))
        except TokenInvalid:
            raise AuthenticationFailed("Invalid, expired or revoked token.") from None
        return grant.membership.user, grant

    def authenticate_header(self, request: Request) -> str:
        # Present, so DRF answers 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'
