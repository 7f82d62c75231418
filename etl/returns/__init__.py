"""Quarterly returns: templates generated from the definitions, validation, versioned loading, status.

Public API (import from the modules; this package imports nothing, so ``oba`` starts fast):

- ``etl.returns.template``: ``build_template(board, library, agency_code, quarter, previous=None, contact=None)``
  -> openpyxl Workbook; ``fill_values(workbook, values, notes=None)``; ``previous_values(engine, agency, quarter)``;
  ``write_template(...)``, ``write_templates(...)``.
- ``etl.returns.reader``: ``check_file(path, board, library, expected_agency=None, expected_period=None)``
  -> ``CheckResult`` (``issues``, ``agency``, ``period``, ``values``, ``contact``, ``sha256``, ``ok``);
  ``parse_figure(raw, measure)`` for one Value cell.
- ``etl.returns.load``: ``load_file(engine, board, library, path, user, received_on=None)`` -> ``LoadResult``
  (``outcome`` loaded | unchanged | revised | rejected, ``version``, ``changes``, ``issues``); ``load_files``.
- ``etl.returns.status``: ``return_status(engine, board, periods=None, today=None)`` -> DataFrame, one row per
  agency and quarter.
- ``etl.returns.issues``: ``CATALOGUE`` of every issue code (level, meaning, what to do) and ``Issue``.
- ``etl.returns.samples``: clean sample figures and filled-in workbooks, for tests and benchmarks.

See docs/returns.md for the workbook, the issue codes, versions and the status rules.
"""
