# Reproduction of "Lorentz group equivariant autoencoders" (Hao, Kansal, Duarte, Chernyavskaya,
# EPJC 83 (2023) 485). Read this file first: it is the table of contents of the pipeline.
#
#   snakemake --cores all --use-conda                         the paper (config/config.yaml), on a GPU machine
#   snakemake --cores all --configfile config/quick.yaml     the small CPU run
#   snakemake --cores all data                               one named target (see the rules below)
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# The paper's configuration, unless the user gives their own: a --configfile alone decides what runs
# (it must be complete, the schema says so), it is not merged onto this one. --config key=value
# overrides apply on top of either.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from lgae import names  # noqa: E402
from lgae.config import validate  # noqa: E402

validate(config)  # config/schema.yaml, its names filled in from lgae.names, and the cross-key checks


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"


resource_scopes:
    gpu="local",  # a cluster profile's per-job GPU request does not throttle submission


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.models.input,
        rules.data_efficiency_models.input,
