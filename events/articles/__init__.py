"""Article import, the analysis core (issue 5): text and metadata out of a file, the persons it
mentions, the events it states, as proposals for staff. Nothing here writes to the database."""
