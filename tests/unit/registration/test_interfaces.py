"""Registration's seams: every interface names its methods, and the classes
registered for them provide each one with a matching signature."""

from __future__ import annotations

import pytest
from zope.interface.verify import verifyClass

from app.registration.interfaces import (
    ICredentialStore,
    IPasswordHasher,
    IPasswordPolicy,
    IRateLimiter,
    IRegistration,
)
from app.registration.passwords import PasswordHasher, PasswordPolicy
from app.registration.ratelimit import RateLimiter
from app.registration.services import Registration
from app.registration.store import CredentialStore


@pytest.mark.parametrize(
    ("interface", "implementation"),
    [
        (ICredentialStore, CredentialStore),
        (IPasswordHasher, PasswordHasher),
        (IPasswordPolicy, PasswordPolicy),
        (IRateLimiter, RateLimiter),
        (IRegistration, Registration),
    ],
)
def test_each_interface_is_provided_in_full(interface, implementation):
    assert list(interface.names()), f"{interface.__name__} declares nothing"
    assert verifyClass(interface, implementation)
