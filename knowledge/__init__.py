"""Knowledge model, loaders, chunking and ingestion."""
