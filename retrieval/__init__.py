"""Embeddings, the Chroma index and search filtered by the asker's role."""
