"""The one deferred database handle (a peewee proxy) that the models, the migrations and storage share."""

from __future__ import annotations

import peewee

# Deferred: which database (an SQLite file or a PostgreSQL server) is decided by models.init_db(),
# never at import. The proxy stays the same object, so every module may import it; it imports
# nothing of the package, so the migrations reach it without going through the models.
database = peewee.DatabaseProxy()
