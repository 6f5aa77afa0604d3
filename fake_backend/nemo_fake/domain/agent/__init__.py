"""The scripted agent behind `/run_sse`: understands a message, plans what the backend does."""
