"""The real settings plus one bare-Django view for the baseline; used only by the bench run."""
from kneerehab.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
