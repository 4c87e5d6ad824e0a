"""Sent by tracker services inside the transaction that stored the record.

Plans listen to re-evaluate phase progression; keeping the dependency this way
round lets the tracker record things without knowing how plans progress.
"""
from django.dispatch import Signal

# kwargs: checkin (tracker.CheckIn)
checkin_recorded = Signal()
# kwargs: log (tracker.ExerciseLog)
exercise_logged = Signal()
