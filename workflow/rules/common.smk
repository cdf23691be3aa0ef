# Shared definitions: paths and the command that runs a pipeline step through the lgae package.

DATA = config["data"]
SOURCE = DATA["source"]
CLASSES = DATA["classes"]
SPLITS = ["train", "valid", "test"]
# Rules run the package from this checkout, so that a conda env (which strips PYTHONPATH) needs no install.
LGAE = f"PYTHONPATH={workflow.basedir}/src python -m lgae"


wildcard_constraints:
    cls="|".join(["g", "q", "t", "w", "z"]),
    source="jetnet|pythia",
    split="|".join(SPLITS),


def processed(cls, split, source=SOURCE):
    """Path of one processed split file."""
    return f"results/data/processed/{source}/{cls}_{split}.h5"


def jetnet_md5_args(wildcards):
    """`--md5 CLASS=MD5` when the config pins the checksum of this class."""
    md5 = DATA["jetnet"]["md5"].get(wildcards.cls)
    return f"--md5 {wildcards.cls}={md5}" if md5 else ""
