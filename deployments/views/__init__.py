"""The deployments app's pages: a deployment's own (deployment.py) and a site's deployment
pages, mounted under the site (site.py)."""
