"""Template helpers of the staff pages: ``{% load staff %}``."""

from __future__ import annotations

from typing import Any

from django import template

from ..roles import MANAGE, PUBLISH, READ, has_role

register = template.Library()

ROLE_SETS = {"read": READ, "publish": PUBLISH, "manage": MANAGE}


@register.filter
def may(user: Any, what: str) -> bool:
    """``{% if user|may:"publish" %}``: does the user have a role for this kind of action?"""
    return has_role(user, ROLE_SETS[what])
