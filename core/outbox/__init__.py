"""The outbox: notifications written in the producer's transaction and delivered by the
adapter of the right platform at that platform's pace."""
