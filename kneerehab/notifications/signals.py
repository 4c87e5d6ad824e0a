"""Sent by the notification services when stored channel deliveries are ready to go out.

The services store deliveries and announce them; the receiver (`receivers.py`) hands them to the Celery
tasks. Keeping the dependency this way round, the services never import the tasks that call them.
"""
from django.dispatch import Signal

# kwargs: delivery_ids (list[int]); urgent (bool): one message each on the urgent queue, else one per chunk.
deliveries_ready = Signal()
