"""Progress for the pages, read exactly as GET /api/v1/progress/ reads it, and shaped into chart series."""
from tracker.api.serializers import ProgressQuerySerializer
from tracker.selectors import patient_progress


def progress_for(request, *, patient) -> dict:
    """The tracker's progress selector over `?since=&until=` (the API's query and defaults: the last 30 days).
    An impossible range on a page falls back to the default rather than an error page."""
    query = ProgressQuerySerializer(data=request.GET, context={"patient": patient})
    if not query.is_valid():
        query = ProgressQuerySerializer(data={}, context={"patient": patient})
        query.is_valid(raise_exception=True)
    return patient_progress(patient=patient, viewer=request.user, **query.validated_data)


def chart_data(progress: dict) -> dict:
    """Per local day: mean pain at rest and during activity (None on days without a check-in) and the
    share of prescribed exercise sessions logged (None on days with nothing prescribed)."""
    return {
        "labels": [day["date"].isoformat() for day in progress["pain"]],
        "pain_at_rest": [day["rest_mean"] for day in progress["pain"]],
        "pain_during_activity": [day["activity_mean"] for day in progress["pain"]],
        "adherence_percent": [day["percent"] for day in progress["adherence"]["days"]],
    }


def chart_rows(progress: dict) -> list[dict]:
    """The same figures as a table, for screen readers and anyone who prefers numbers; newest first."""
    rows = [
        {"date": pain["date"], "checkins": pain["checkins"], "rest": pain["rest_mean"],
         "activity": pain["activity_mean"], "swelling": swelling["worst"], "adherence": adherence["percent"],
         "logged": adherence["logged"], "prescribed": adherence["prescribed"]}
        for pain, swelling, adherence in zip(progress["pain"], progress["swelling"], progress["adherence"]["days"],
                                             strict=True)
    ]
    return list(reversed(rows))


def progress_context(request, *, patient) -> dict:
    progress = progress_for(request, patient=patient)
    return {"progress": progress, "chart_data": chart_data(progress), "chart_rows": chart_rows(progress)}
