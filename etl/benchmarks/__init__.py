"""Published benchmarks: DfE Explore Education Statistics files, ONS populations, statistical neighbours."""
