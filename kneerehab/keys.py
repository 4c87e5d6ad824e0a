"""What counts as a real SECRET_KEY: the test Django's deployment checklist applies (security.W009)."""

MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5


def is_real_secret_key(key: str) -> bool:
    """False for an empty key, Django's or our public development keys, and short or repetitive ones."""
    return (
        bool(key)
        and not key.startswith("django-insecure")
        and len(key) >= MIN_LENGTH
        and len(set(key)) >= MIN_UNIQUE_CHARACTERS
    )
