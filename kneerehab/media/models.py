"""The part every media row shares: the stored file, what it is, and who put it there."""
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from .inspection import MediaKind


def media_path(instance, filename: str) -> str:
    # A random name: the uploader's file name may carry personal details, and no path is guessable.
    extension = filename.rsplit(".", 1)[-1]
    return f"{instance.MEDIA_FOLDER}/{uuid.uuid4().hex}.{extension}"


class MediaFile(models.Model):
    kind = models.CharField(max_length=8, choices=MediaKind.CHOICES)
    title = models.CharField(max_length=120, blank=True)
    file = models.FileField(upload_to=media_path, max_length=200)
    thumbnail = models.FileField(upload_to=media_path, max_length=200, blank=True,
                                 help_text="Pictures only: a small copy made once at upload.")
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    MEDIA_FOLDER = "media"
    # Set by each concrete model: "library" or "plan", and the name of the API view serving its files.
    MEDIA_SOURCE = ""
    FILE_URL_NAME = ""

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.pk}"

    @property
    def file_url(self) -> str:
        """Where the app fetches the file (the view checks who asks)."""
        return reverse(self.FILE_URL_NAME, args=[self.pk])

    @property
    def thumbnail_url(self) -> str:
        return f"{self.file_url}?size=thumbnail" if self.thumbnail else self.file_url
