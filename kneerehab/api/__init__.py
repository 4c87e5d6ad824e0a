"""Pieces every app's API shares: role permissions and the strict-fields serializer mixin."""
