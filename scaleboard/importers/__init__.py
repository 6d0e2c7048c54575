"""Results of other benchmark tools as ScaleBoard records."""
