"""Console scripts for operating the site (``[options.entry_points]`` in setup.cfg).

- ``authsite-mail <ini>``: deliver the mail queue (:mod:`app.scripts.mail`);
- ``authsite-purge-tokens <ini>``: delete expired tokens
  (:mod:`app.scripts.purge_tokens`).
"""
