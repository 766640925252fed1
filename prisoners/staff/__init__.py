"""Staff curation (issue 4): sign-in with two-factor, roles, review and publication, history.

Everything here is under ``/staff/``, server-rendered and usable without JavaScript. Roles are
Django groups (``roles.py``); every view declares its roles with ``roles.staff_view``.
"""
