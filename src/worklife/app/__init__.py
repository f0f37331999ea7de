"""The web app (``worklife serve``): each role sees what it may, enforced on the server.

    from worklife.app import create_app, AppDb
    app = create_app("out/worklife.duckdb", config)     # a FastAPI app (pages + JSON API)

Modules: ``data`` (every read of the store, cached per store file state), ``access``
(the role rules), ``users`` (accounts, sessions, the app database), ``auth`` (sign-in,
cookies, CSRF, throttle, trusted header), ``server`` (the FastAPI app), ``pages_*`` and
``api`` (routes), ``context`` (``Ctx``), ``web`` (what page handlers share), ``findings``
(findings as shown), ``render`` (tables and charts), ``demo`` (demo accounts). The server
imports the routers; the routers import only the shared modules (docs/architecture.md).
See docs/app.md.
"""

from worklife.app.server import create_app, serve
from worklife.app.users import ROLES, AppDb, User, users_db_path

__all__ = ["ROLES", "AppDb", "User", "create_app", "serve", "users_db_path"]
