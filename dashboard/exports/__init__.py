"""The board's outputs as files: the dataset (CSV, Excel), the scorecard (Excel) and charts (PNG, SVG, PDF).

Every export reads the same ``dashboard.data.View`` the pages read, so a file says what the screen says; the
command line (``oba export``, ``dashboard.exports.commands``) and the download buttons call the same
functions. Files are written to a temporary name beside the target and renamed into place
(``etl.safe_cells.atomic_path``), and every text cell of a CSV or Excel file is escaped against formula
injection (``etl.safe_cells.escape_cell``). With ``publication=True`` small counts are suppressed the GSS way
(``indicators.suppression``) and the file says what was withheld and why.
"""
