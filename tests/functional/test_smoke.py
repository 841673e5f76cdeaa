def test_session_without_cookie_is_null(testapp):
    response = testapp.get("/api/auth/session")
    assert response.status_int == 200
    assert response.body == b"null"
