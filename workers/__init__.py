"""Celery workers: one generic task runs any core job by name (see workers.app)."""
