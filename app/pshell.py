"""``pshell development.ini``: a shell with the database ready to use.

``[pshell] setup = app.pshell.setup`` in the ini file runs :func:`setup`,
which adds to the shell's namespace:

- ``tm``: the request's transaction manager, with a transaction begun (the
  app's pyramid_tm manager is explicit, so without ``begin()`` the first
  query raises ``NoTransaction``). ``tm.commit()`` keeps what you changed
  (then ``tm.begin()`` to go on); anything not committed is rolled back when
  the shell exits.
- ``dbsession``: the request's SQLAlchemy session, joined to ``tm``;
- ``adapter``: the auth core's adapter (Auth.js's method set) on that session;
- ``models``: every mapped class by name (``models.User``,
  ``models.PasswordCredential`` ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

from transaction.interfaces import NoTransaction

from app.auth import IAdapter
from app.models import Base


def setup(env: dict) -> Iterator[None]:
    request = env["request"]
    tm = request.tm
    tm.begin()
    env.update(
        tm=tm,
        dbsession=request.dbsession,
        adapter=request.find_service(IAdapter),
        models=SimpleNamespace(
            **{m.class_.__name__: m.class_ for m in Base.registry.mappers}
        ),
    )
    try:
        yield
    finally:
        # What was committed stays; a transaction still open is rolled back.
        try:
            tm.abort()
        except NoTransaction:  # committed or aborted in the shell already
            pass
