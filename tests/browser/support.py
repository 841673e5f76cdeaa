"""A credentials ``authorize`` for browser tests of the core alone."""

USERS = {"alice": ("Alice Example", "alice@example.com", "wonderland-42")}


def authorize(request, credentials):
    entry = USERS.get(credentials.get("username", ""))
    if entry and credentials.get("password") == entry[2]:
        return {"id": "101", "name": entry[0], "email": entry[1]}
    return None
