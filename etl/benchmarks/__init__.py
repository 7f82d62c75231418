"""Published benchmarks: DfE Explore Education Statistics files, ONS populations, statistical neighbours.

Public API (import from the modules; this package imports nothing heavy itself):

- ``etl.benchmarks.ees``: ``import_ees(engine, paths, user) -> list[ImportResult]``, ``read_ees(path)``,
  ``dataset_key(path)``.
- ``etl.benchmarks.neighbours``: ``import_neighbours(engine, path, user, name=None)``, ``read_neighbours``,
  ``neighbours_of``, ``neighbour_sets``.
- ``etl.benchmarks.export``: ``export_benchmarks(engine, path, dataset=None) -> int``, ``load_benchmarks``,
  ``benchmark_summary``.
- ``etl.benchmarks.csvfile``: ``BenchmarkFileError`` (an ``InputFileError`` listing each problem's line and
  column) and the shared reading of CSV files.
"""
