"""The tenancy core: organizations, memberships, roles, access, audit, API tokens, crypto.

The bottom layer: it imports no other app of the project (see .importlinter).
"""
