"""Statistics over whatever the user has done: shared by /stats, the dashboard and the API."""
