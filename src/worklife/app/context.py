"""What a signed-in request carries (``Ctx``), shared by the server and every router.

The server builds a ``Ctx`` per request in its middleware; page and API handlers receive it
through ``web.signed_in``. Living here (not in ``server``) keeps the app's imports a tree:
server → routers → web/context/access/render/findings → data/users/auth.
"""

from __future__ import annotations

from dataclasses import dataclass

from worklife.app.auth import Auth
from worklife.app.data import AppData
from worklife.app.users import AppDb, Session, User


class NeedLogin(Exception):
    """Raised by page dependencies when nobody is signed in (redirects to /login)."""


@dataclass
class Ctx:
    """What a signed-in request carries."""

    user: User
    session: Session
    data: AppData
    auth: Auth
    db: AppDb
