"""Web accounts: passwords, browser sessions, API tokens, one-time link codes, and the
user-wide data operations (merge on link, export, delete) that work over every table."""
