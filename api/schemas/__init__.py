"""The REST API's request and response shapes, one module per area (the routes are in
api/rest*.py)."""
