"""The service's settings for the test run, with a signing key of the run's own.

Tests run with DEBUG off, like production, and the service refuses to start without a
real SECRET_KEY there. Set in the environment, so that the worker, beat and gunicorn
processes some tests start share it.
"""
import os
import secrets

if not os.environ.get("SECRET_KEY"):
    os.environ["SECRET_KEY"] = "test-" + secrets.token_urlsafe(50)

from kneerehab.settings import *  # noqa: F403
