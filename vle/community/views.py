"""The network's pages, under /network/ (PRODUCT.md §2 "The network").

This module holds the blueprint; each subject adds its pages in its own
module (directory_views.py, forum_views.py, …), imported by create_app as
the authoring pages are. Every page is for signed-in users; what each may
see is asked of the subject's services, never decided in a template.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("community", __name__, url_prefix="/network")
