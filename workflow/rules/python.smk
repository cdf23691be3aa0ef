# The interpreter jobs run, shared by the pipeline (Snakefile) and the convergence study
# (benchmarks/fidelity/Snakefile). Needs no config.
import shlex
import sys

from snakemake.settings.types import DeploymentMethod


class PipelinePython:
    """Python with the checkout's src/ importable (conda jobs lose PYTHONPATH, so it is set inline), by
    the interpreter of the job's environment: in a --use-conda env that env's `python`; otherwise the
    one running Snakemake, whose packages the jobs need (a `python` on PATH may be another or none).
    With ``module``, the command runs it (`-m lgae`).

    Not a str on purpose: Snakemake leaves such params out of its rerun triggers, so that moving the
    checkout or the venv retrains nothing (the software environment has its own trigger)."""

    def __init__(self, root, module=None):
        self.root, self.module = root, module

    def __str__(self):
        methods = workflow.deployment_settings.deployment_method
        in_env = DeploymentMethod.CONDA in methods or DeploymentMethod.APPTAINER in methods
        python = "python" if in_env else shlex.quote(sys.executable)
        run = f" -m {self.module}" if self.module else ""
        return f"PYTHONPATH={shlex.quote(f'{self.root}/src')} {python}{run}"
