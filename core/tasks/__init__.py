"""Tasks and reminders: natural-language capture, lists, reminders, digests, calendar feed."""
