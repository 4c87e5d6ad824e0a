"""JWTs that do not outlive a password change or a deactivation.

Each token carries the account's `token_version` (claim `ver`); the version goes
up when the password changes and whenever the account is switched off or on
(User.save). Authentication and refresh both compare the claim with the
account's current version, so old access tokens stop working at once and an old
refresh token can no longer be rotated into new ones. A token without the claim
is refused.
"""
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import (
    SimpleJWTScheme,
    TokenObtainPairSerializerExtension,
    TokenRefreshSerializerExtension,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

VERSION_CLAIM = "ver"
STALE_MESSAGE = _("This token is no longer valid: the password changed or the account was switched off. "
                  "Sign in again.")


class VersionedRefreshToken(RefreshToken):
    """A refresh token (and the access tokens made from it) stamped with the account's token version."""

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[VERSION_CLAIM] = user.token_version
        return token


def refresh_token_for(user) -> VersionedRefreshToken:
    return VersionedRefreshToken.for_user(user)


def ensure_current(*, token, user) -> None:
    """Refuse a token issued before the account's last password change or (de)activation."""
    if not user.is_active:
        raise AuthenticationFailed(_("This account is switched off."), code="user_inactive")
    version = token.get(VERSION_CLAIM)
    if type(version) is not int or version != user.token_version:
        raise AuthenticationFailed(STALE_MESSAGE, code="token_not_valid")


class VersionedJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens of an older token version."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        ensure_current(token=validated_token, user=user)
        return user


# Named as simplejwt's, so the OpenAPI components keep their names.
class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    token_class = VersionedRefreshToken


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """Checks the refresh token's version before a new pair is made: a stale one is refused, not rotated."""

    token_class = VersionedRefreshToken

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        try:
            user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        except (TypeError, ValueError):  # not an id at all
            user = None
        if user is None:
            raise AuthenticationFailed(_("No active account found for the given token."), code="no_active_account")
        ensure_current(token=refresh, user=user)
        return super().validate(attrs)


# drf-spectacular documents simplejwt's own classes; these say the same of ours.
class VersionedJWTScheme(SimpleJWTScheme):
    target_class = VersionedJWTAuthentication


class VersionedTokenObtainPairSerializerExtension(TokenObtainPairSerializerExtension):
    target_class = TokenObtainPairSerializer


class VersionedTokenRefreshSerializerExtension(TokenRefreshSerializerExtension):
    target_class = TokenRefreshSerializer
