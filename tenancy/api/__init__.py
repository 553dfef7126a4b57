"""The REST API (/api/v1/): bearer tokens scoped to one organization, built on the services."""
