"""The password rules (NIST SP 800-63B) and the shipped common-password list."""

from __future__ import annotations

import pytest

from app.registration.passwords import (
    PasswordHasher,
    PasswordPolicy,
    load_common_passwords,
    normalise,
)
from app.registration.settings import Argon2Parameters


@pytest.fixture(scope="module")
def common():
    return load_common_passwords()


@pytest.fixture(scope="module")
def policy(common):
    return PasswordPolicy(
        common, min_length=8, max_length=128, site_name="Blue Harbour"
    )


def test_the_shipped_list_has_the_100000_most_common_passwords(common):
    assert len(common) >= 100_000  # distinct, once case-folded
    for password in ("123456", "password", "qwerty", "iloveyou", "dragon", "letmein"):
        assert password in common
    assert isinstance(common, frozenset)


def test_the_shipped_list_is_stored_as_the_check_compares():
    # The loader does not normalise (start-up time); the file must be already.
    common = load_common_passwords()

    assert len(common) == 100_000
    assert all(normalise(p).casefold() == p and p.strip() for p in common)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("", "required"),
        ("seven77", "too_short"),
        ("x" * 129, "too_long"),
        ("baseball", "common"),
        ("BASEBALL", "common"),
        ("ｂａｓｅｂａｌｌ", "common"),  # full-width letters: NFKC makes them ASCII
        ("i am jane.doe forever", "contains_email"),
        ("janes-family-rules", "contains_email"),
        ("blueharbour-2026", "contains_site_name"),
        ("my Blue Harbour pass", "contains_site_name"),
    ],
)
def test_each_refusal_has_its_own_reason(policy, password, code):
    refusal = policy.check(password, email="Jane.Doe@example.com")

    assert refusal is not None and refusal.code == code
    assert refusal.message


@pytest.mark.parametrize(
    "password",
    [
        "eight ch",  # exactly the minimum; spaces count
        "a" * 64 + "b" * 64,  # exactly the maximum
        "all lowercase no digits",  # no composition rules
        "пароль-для-сайта",  # any script
        "🙂🙃🙂🙃🙂🙃🙂🙃",  # eight code points
    ],
)
def test_acceptable_passwords(policy, password):
    assert policy.check(password, email="jane.doe@example.com") is None


def test_short_email_local_parts_do_not_forbid_common_letters(policy):
    assert policy.check("all the lovely days", email="al@example.com") is None


def test_hasher_hashes_argon2id_and_flags_old_parameters():
    strong = PasswordHasher(Argon2Parameters(19456, 2, 1))
    weaker = PasswordHasher(Argon2Parameters(12288, 3, 1))
    old = weaker.hash("open sesame please")

    ok, new_hash = strong.verify("open sesame please", old)

    assert ok and new_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert strong.verify("open sesame please", new_hash) == (True, None)
    assert strong.verify("wrong", new_hash) == (False, None)
    assert strong.verify("anything", "not-a-hash") == (False, None)
    assert strong.verify_dummy("anything") is False


@pytest.mark.parametrize(
    "password",
    ["x" * 5000, "\ufdfa" * 300],  # the second is 5,400 characters after NFKC
    ids=["long", "expands-under-nfkc"],
)
def test_a_password_longer_than_passlib_takes_is_wrong_not_an_error(password):
    hasher = PasswordHasher(Argon2Parameters(19456, 2, 1))
    stored = hasher.hash("open sesame please")

    assert hasher.verify(password, stored) == (False, None)
    assert hasher.verify_dummy(password) is False


def test_normalise_is_nfkc():
    assert normalise("ﬁ") == "fi"
    assert normalise("Ａ１") == "A1"


def test_the_dummy_costs_a_real_verification_and_matches_nothing():
    hasher = PasswordHasher(Argon2Parameters(19456, 2, 1))
    real = hasher.hash("any password at all")

    # the same scheme and parameters as a real hash: the same work to verify
    assert hasher._dummy.rsplit("$", 2)[0] == real.rsplit("$", 2)[0]
    assert hasher._dummy != real
    assert hasher.verify_dummy("any password at all") is False
    assert hasher.context.verify("", hasher._dummy) is False


def test_a_policy_given_no_list_reads_the_shipped_one_at_its_first_check():
    policy = PasswordPolicy()
    assert "common" not in vars(policy)  # not read yet
    assert policy.check("iloveyou1").code == "common"
    assert policy.common == load_common_passwords()
