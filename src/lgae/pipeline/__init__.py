"""The pipeline: data (:mod:`lgae.pipeline.data`), training, inference, devices, the configuration that
drives them, the steps' settings and defaults (:mod:`~lgae.pipeline.settings`), a run's identity
(:mod:`~lgae.pipeline.identity`), and the registry of the paper's figures and tables
(:mod:`~lgae.pipeline.targets`).

Its public names are exported lazily (:func:`lgae.lazy_exports`): ``from lgae.pipeline import train``
imports :mod:`lgae.pipeline.training` alone, and ``import lgae.pipeline`` imports none of the modules, so
that a step pays only for what it uses (h5py for the inference files, Pythia for generation).
"""

from __future__ import annotations

from lgae import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".compiling": ["CompileReport", "compile_model", "unavailable_reason"],
        ".config": [
            "check_consistency",
            "check_figure",
            "check_files",
            "check_generation",
            "check_jobs",
            "check_prediction",
            "check_training",
            "generation_settings",
            "load",
            "main_runs",
            "scan_runs",
            "schema",
            "test_jets",
            "training_settings",
            "validate",
        ],
        ".devices": ["NoFreeDeviceError", "claim_device", "lock_dir", "visible_devices"],
        ".identity": [
            "RUN_KEYS",
            "IdentityError",
            "OfRun",
            "Run",
            "check_expected",
            "describe",
            "parse_expected",
            "run_record",
            "same_model",
        ],
        ".inference": [
            "IMAGE_SAMPLE",
            "JET_FEATURES",
            "PARTICLE_SCORES",
            "Predictions",
            "image_sample",
            "predict_class",
            "read_predictions",
            "write_predictions",
        ],
        ".seeding": ["derive_seed", "rng"],
        ".settings": ["INFERENCE_BATCH_SIZE", "TrainSettings"],
        ".targets": [
            "FIGURES",
            "FIGURE_MODEL_KEYS",
            "SNAKEMAKE_TARGETS",
            "TABLES",
            "TARGETS",
            "Target",
            "target",
        ],
        ".training": [
            "CheckpointError",
            "EpochRow",
            "TrainPaths",
            "TrainingData",
            "TrainingError",
            "TrainingRun",
            "TrainingState",
            "build_model",
            "check_model_runs",
            "choose_device",
            "data_identity",
            "evaluate_loss",
            "load_trained",
            "model_options",
            "replay_stopping_rule",
            "run_fingerprint",
            "train",
            "training_subset",
        ],
    },
)
