"""The server stack check: will a `current` switch reach users at once, without dropping requests?

`probe` collects nginx, PHP-FPM and OPcache settings over SSH, `check` parses and judges them
(pure), `store` keeps the collected facts on the server row as JSON, `report` judges stored
facts for the pages and the pipeline's context.
"""
