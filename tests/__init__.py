"""The test suite. Its folders mirror the packages, so the tests of a module are found where
the module is:

- ``connectors/{local,graph,ews,imap,smb}``: ``connectors/`` (local = folder and local mail)
- ``store``: ``scanner/store``; ``extract``: ``scanner/extract``; ``executors``:
  ``scanner/executors``; ``retention``: ``scanner/retention`` and ``scanner/retention_pass``
- ``detectors``: ``detectors/``; ``reports``: ``reports/``
- ``operations``: scheduling, IT notification, status, progress and ``deploy/``
- ``core``: what stands on top (configuration loading, the pipeline, the CLI, the wheel)
- ``demo``: ``scanner/demo``; ``e2e``: whole runs across every package
- ``services``: servers and fakes shared by more than one folder (PostgreSQL, fake Graph, fake
  EWS); a server only one folder starts (Samba, Dovecot, SMTP) lives in that folder.

Every folder is a package and helpers are imported as packages (``tests.services.fake_graph``,
``.samba_server``), never through ``sys.path``. Benchmarks are not tests: they live in
``benchmarks/``.
"""
