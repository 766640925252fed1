"""Staff pages. One module per page family; every view is wrapped in ``roles.staff_view``."""
