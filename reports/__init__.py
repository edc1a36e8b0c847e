"""Reports: the teacher digest, its delivery, the FG statistics and the IT run report.

* :mod:`reports.data` -- the plain data contracts the store fills (no database code here).
* :mod:`reports.digest` -- ``render_digest(TeacherDigest, cap)`` -> HTML, text, MIME.
* :mod:`reports.delivery` -- ``deliver_digests(...)``: through the transport it is handed
  (outbox, SMTP, or a Graph/EWS send function; :mod:`scanner.outgoing` chooses it), paced,
  recorded in a :class:`reports.ledger.DeliveryLedger`.
* :mod:`reports.fg` -- ``build_fg_report(items_df, runs_df, k, language)`` -> HTML/CSV/XLSX.
* :mod:`reports.run_report` -- ``render_run_report(RunReportData, language)``.

Submodules are not imported here, so importing one report does not load pandas for all.
"""
