# Reproduction of "Lorentz group equivariant autoencoders" (Hao, Kansal, Duarte, Chernyavskaya,
# EPJC 83 (2023) 485). Read this file first: it is the table of contents of the pipeline.
#
#   snakemake --cores all --use-conda                         the paper (config/config.yaml), on a GPU machine
#   snakemake --cores all --configfile config/quick.yaml     the small CPU run (~10 min)
#   snakemake --cores all --configfile config/cpu.yaml       every model of the paper on a CPU (< 2 h)
#   snakemake --cores all data                               one named target (see the rules below)
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from lgae import names  # noqa: E402
from lgae.pipeline.config import check_files, validate  # noqa: E402
from lgae.pipeline.targets import SNAKEMAKE_TARGETS  # noqa: E402

# The paper's configuration, unless the user gives their own: a --configfile alone decides what runs
# (it must be complete, the schema says so), it is not merged onto this one. --config key=value
# overrides apply on top of either. (A --configfile is read by Snakemake before this file runs: one
# that is not UTF-8 ends in Snakemake's own traceback; this one is read strictly first.)
if not workflow.overwrite_configfiles:
    check_files([Path(workflow.basedir) / "config" / "config.yaml"])

    configfile: "config/config.yaml"


# every config file read again strictly (a key given twice is an error, not "the last one wins"), then
# config/schema.yaml, its names filled in from lgae.names, and the cross-key checks. What each job will
# check of its own settings is checked in its params (common.smk: checked), for every planned job before
# any runs: a job that refused them after Snakemake deleted its old outputs would destroy results.
check_files(workflow.configfiles)
validate(config, jobs=False)


report: "workflow/report/workflow.rst"  # snakemake --report results/report.html


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"


resource_scopes:
    gpu="local",  # a cluster profile's per-job GPU request does not throttle submission


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.models.input,
        rules.data_efficiency_models.input,
        "results/claims.md",
        expand("results/figures/{figure}.{ext}", figure=FIGURES, ext=["pdf", "png"]),
        expand("results/tables/{table}.{ext}", table=TABLES, ext=["csv", "md", "tex"]),


# One named target per figure and table of the paper (lgae.pipeline.targets: fig2 ... fig9, table2 ...
# table4): `snakemake --cores all fig4` runs only what Fig. 4 needs (its models, their predictions), nothing
# else; fig4 draws Fig. 4 under the paper's protocol too (fig4_paper_protocol). REPRODUCE.md maps each to
# its models and cost.
for target_name, made in SNAKEMAKE_TARGETS.items():

    rule:
        name:
            target_name
        input:
            [f"results/figures/{m}.pdf" if m in FIGURES else f"results/tables/{m}.md" for m in made],


rule claims:  # every qualitative claim of the paper: holds / does not hold / not measurable
    input:
        "results/claims.md",
