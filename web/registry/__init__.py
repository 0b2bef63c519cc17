"""The model lifecycle: ModelVersion (checkpoints in storage, one active) and ExperimentRun (jobs)."""
