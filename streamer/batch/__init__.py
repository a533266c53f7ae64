"""ser-batch: many recordings through the one ser-live pipeline, in worker processes or on a Dask
cluster, with a calls.csv summary and outputs that a rerun resumes."""
