"""blueprintup: rehearse a Render Blueprint on one machine, before a sync.

validate (blueprintcheck: a blueprint it rejects never starts) -> read what it asks for
(``topology``) -> resolve every variable as Render does (``environment``) -> start the
datastores (``stores``), then each service in order, from its image or as processes
(``launchers``), behind an edge like Render's (``edge``), its cron jobs on their schedule
(``schedule``) -> watch -> stop as Render stops and remove everything (``rehearsal``).
``cli`` is the command (scripts/blueprint_up.py); docs/BLUEPRINT_UP.md says what it does
and does not do.
"""
