"""Site provisioning: the per-site unix user, PHP-FPM pool, nginx server block and cron entry.

Pure parts (`names`, `facts`, `templates`) and the steps that apply them over SSH (`steps`,
`runner`); no Django here. The deployments app runs it as a deployment of kind `provision`
(deployments/provisioning.py), so it gets the live log and the history of a deploy.
"""
