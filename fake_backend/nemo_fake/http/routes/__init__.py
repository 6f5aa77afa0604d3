"""Thin HTTP handlers: parse, call the backend, wrap in the envelope."""
