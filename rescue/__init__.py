"""The rescue coordination application: models, services, web surfaces, jobs and CLI."""
