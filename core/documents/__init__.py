"""Documents: intake, extraction, chunking, embeddings and hybrid retrieval."""
