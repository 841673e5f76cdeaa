"""The site as shipped; see :mod:`tests.shipped.server`."""

from tests.shipped.server import shipped  # noqa: F401 - the pserve fixture
