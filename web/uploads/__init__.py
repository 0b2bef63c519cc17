"""Uploads: validation, storage, the queue to the workers, the pages, the JSON API and feedback."""
