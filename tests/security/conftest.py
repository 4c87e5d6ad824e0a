import pytest
from rest_framework.test import APIClient

from kneerehab.users.tokens import refresh_token_for

from .world import build_world


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Six accounts per test: PBKDF2 at production strength would make the matrix take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db, _fast_password_hashing):
    return build_world()


def client_for(user) -> APIClient:
    """A client that signs in the way the mobile app does: a JWT bearer token (none for anonymous)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh_token_for(user).access_token}")
    return client


@pytest.fixture
def as_actor(world):
    return lambda actor: client_for(world.user_for(actor))
