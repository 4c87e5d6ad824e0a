from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from .inspection import MediaKind
from .serving import THUMBNAIL


class MediaSerializer(serializers.Serializer):
    """A picture or video as the API lists it: where to fetch it (the URLs check who asks) and what it is."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=MediaKind.CHOICES)
    source = serializers.SerializerMethodField(
        help_text="`plan`: made for this patient's exercise; `library`: shown with the exercise itself.")
    title = serializers.CharField()
    content_type = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True, help_text="Videos only.")
    url = serializers.SerializerMethodField(help_text="The file, for whoever may see it (sign in to fetch it).")
    thumbnail_url = serializers.SerializerMethodField(help_text="A small copy; pictures only.")

    def get_source(self, media) -> str:
        return media.MEDIA_SOURCE

    @extend_schema_field(serializers.URLField())
    def get_url(self, media) -> str:
        return reverse(media.FILE_URL_NAME, args=[media.pk], request=self.context.get("request"))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, media) -> str | None:
        if not media.thumbnail:
            return None
        return self.get_url(media) + f"?size={THUMBNAIL}"
