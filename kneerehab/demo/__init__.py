"""Demo data for a newcomer's first run: accounts, a plan and some history across every app.

It stands above the domain apps (it uses them all), so no domain app depends on it.
"""
