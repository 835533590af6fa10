"""The role predicates accounts keeps: who sees everything, who may write, administer, act in
bulk and merge contacts. (Conversation visibility and assignment rules live with inbox and
routing and are tested there.)"""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.permissions import (
    can_administer,
    can_bulk,
    can_merge_contacts,
    can_write,
    sees_everything,
)
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

# role, superuser -> sees_everything, can_write, can_administer, can_bulk, can_merge_contacts
ROLES = [
    (User.Role.ADMIN, False, (True, True, True, True, True)),
    (User.Role.LEAD, False, (False, True, False, True, True)),
    (User.Role.AGENT, False, (False, True, False, False, False)),
    (User.Role.VIEWER, False, (True, False, False, False, False)),
    # A superuser is an admin whatever role the row says.
    (User.Role.AGENT, True, (True, True, True, True, True)),
    (User.Role.VIEWER, True, (True, True, True, True, True)),
]
PREDICATES = (sees_everything, can_write, can_administer, can_bulk, can_merge_contacts)


@pytest.mark.parametrize(("role", "superuser", "expected"), ROLES)
def test_each_role_gets_what_the_role_table_says(role, superuser, expected):
    user = UserFactory(role=role, is_superuser=superuser)
    assert tuple(predicate(user) for predicate in PREDICATES) == expected


@pytest.mark.parametrize("role", [User.Role.ADMIN, User.Role.LEAD, User.Role.AGENT])
def test_a_deactivated_user_may_change_nothing(role):
    user = UserFactory(role=role, is_active=False)
    assert not can_write(user)
    assert not can_administer(user)
    assert not can_bulk(user)
    assert not can_merge_contacts(user)


def test_an_anonymous_visitor_sees_and_changes_nothing():
    visitor = AnonymousUser()
    assert not sees_everything(visitor)
    assert not can_write(visitor)
    assert not can_administer(visitor)
    assert not can_bulk(visitor)
    assert not can_merge_contacts(visitor)


def test_a_role_change_takes_effect_on_the_same_user():
    user = UserFactory(role=User.Role.AGENT)
    assert not can_bulk(user)
    user.role = User.Role.LEAD
    user.save()
    user.refresh_from_db()
    assert can_bulk(user) and can_merge_contacts(user) and not can_administer(user)
