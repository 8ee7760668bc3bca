"""Housekeeping: dead-lettered jobs and sweeps that delete old bookkeeping rows."""
