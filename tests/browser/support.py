"""A credentials ``authorize`` for browser tests of the core alone."""

USERS = {"alice": ("Alice Example", "alice@example.com", "wonderland-42")}


def authorize(request, credentials):
    entry = USERS.get(credentials.get("username", ""))
    if entry and credentials.get("password") == entry[2]:
        return {"id": "101", "name": entry[0], "email": entry[1]}
    return None


def follow(locator) -> None:
    """Click a link or submit button and wait until the page it leads to has
    loaded: ``page.url`` changes when the answer starts, before the new page is
    there to be read."""
    with locator.page.expect_navigation():
        locator.click()
