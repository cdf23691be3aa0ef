"""Jets on disk: JetNet's layout (:mod:`~lgae.pipeline.data.jetnet_format`) and its download, Pythia
generation with an emulated detector in its place (:mod:`~lgae.pipeline.data.generate`,
:mod:`~lgae.pipeline.data.detector`), the input checks, preprocessing to 4-momenta and the splits
(:mod:`~lgae.pipeline.data.preprocess`), and JetNet's reference distributions for the generated jets.

Its public names are exported lazily (:func:`lgae.lazy_exports`: Pythia, FastJet and h5py load with the
module that needs them). The download function is imported from its module
(``from lgae.pipeline.data.download import download``): exported here under its module's name, it would
hide the module.
"""

from __future__ import annotations

from lgae import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".checks": [
            "BEAM_ENERGY_TEV",
            "JETNET_RADIUS",
            "MASSLESS_TOLERANCE",
            "check_processed",
            "check_raw",
            "max_mass_over_pt",
        ],
        ".detector": [
            "CaloRegion",
            "Cells",
            "Objects",
            "ecal_resolution",
            "emulate",
            "hcal_resolution",
            "track_resolution",
            "tracking_efficiency",
        ],
        ".download": ["RemoteFile", "download_class", "md5sum", "remote_file", "sidecar"],
        ".generate": [
            "ChunkResult",
            "ClassSpec",
            "GenerationSettings",
            "backends",
            "chunk_seed",
            "chunk_sizes",
            "detector_seed",
            "generate_chunk",
            "generate_class",
            "import_backends",
            "jets_from_events",
            "make_pythia",
            "pythia_commands",
        ],
        ".jetnet_format": ["RawJets", "check_classes", "read_raw", "write_raw"],
        ".jetnet_reference": [
            "Histogram",
            "distance",
            "distances",
            "feature_values",
            "reference",
            "relative_mass",
        ],
        ".preprocess": [
            "ProcessedJets",
            "absolute_p4",
            "check_num_particles",
            "draw_jet_phi",
            "load_classes",
            "load_processed",
            "preprocess_class",
            "read_attrs",
            "split_indices",
            "split_sizes",
        ],
    },
)
