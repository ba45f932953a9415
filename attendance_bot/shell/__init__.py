"""manage.py's commands, one module per feature; `main` runs one of them."""

from .entry import main

__all__ = ["main"]
