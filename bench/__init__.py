"""`make bench`: measure what Deploynix promises (zero dropped requests, fast deploys/rollbacks)."""
