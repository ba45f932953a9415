"""The schema's migration scripts, run in order by playhouse.migrations.Runner (see ../migrations.py).

Each script declares the models it needs as frozen copies, never the application's models, so a
later change to models.py cannot change what an old step does.
"""
