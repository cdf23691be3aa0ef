# Data: JetNet download or Pythia generation -> absolute 4-momenta split 60/20/20 per class.


rule download:
    output:
        "results/data/raw/jetnet/{cls}.hdf5",
    log:
        "results/logs/download/{cls}.log",
    retries: 2
    localrule: True
    conda:
        "../../envs/lgae.yaml"
    params:
        lgae=LGAE,
        record=DATA["jetnet"]["record"],
        api_url=DATA["jetnet"]["api_url"],
        md5=jetnet_md5_args,
    shell:
        "{params.lgae} download --classes {wildcards.cls} "
        "--out-dir $(dirname {output}) --record {params.record} --api-url {params.api_url} {params.md5} "
        "> {log} 2>&1"


rule generate:
    output:
        "results/data/raw/pythia/{cls}.hdf5",
    log:
        "results/logs/generate/{cls}.log",
    benchmark:
        "results/benchmarks/generate/{cls}.tsv"
    # Every class first: otherwise the signal classes wait behind the trainings for all cores to be free,
    # and one core idles through the last training (config/cpu.yaml on a slow machine: 12 min, docs/cpu-study.md).
    priority: 10
    conda:
        "../../envs/lgae.yaml"
    threads: 64  # as many as there are: Snakemake caps a job's threads at --cores (the SLURM profile: 8)
    resources:
        mem_mb=lambda wc, threads: 600 * threads + 400,
        runtime=lambda wc: max(10, DATA["pythia"]["jets_per_class"] // 6000),
    params:
        lgae=LGAE,
        n_jets=checked(lambda wc: check_generation(config), DATA["pythia"]["jets_per_class"]),
        seed=DATA["pythia"]["seed"],
        chunk_size=DATA["pythia"]["chunk_size"],
        mpi="--mpi" if DATA["pythia"]["mpi"] else "--no-mpi",
        pthat=f"--pthat-min {DATA['pythia']['pthat_min']} --pthat-max {DATA['pythia']['pthat_max']}",
        cuts=(
            f"--jet-pt-min {DATA['pythia']['jet_pt_min']} --jet-pt-max {DATA['pythia']['jet_pt_max']} "
            f"--jet-eta-max {DATA['pythia']['jet_eta_max']} --jet-radius {DATA['pythia']['jet_radius']} "
            f"--match-dr {DATA['pythia']['match_dr']} --num-particles {DATA['num_particles']} "
            f"--detector {DATA['pythia']['detector']}"
        ),
    shell:
        "{params.lgae} generate --class {wildcards.cls} "
        "--n-jets {params.n_jets} --out {output} --seed {params.seed} --workers {threads} "
        "--chunk-size {params.chunk_size} {params.mpi} {params.pthat} {params.cuts} > {log} 2>&1"


rule preprocess:
    input:
        "results/data/raw/{source}/{cls}.hdf5",
    output:
        train="results/data/processed/{source}/{cls}_train.h5",
        valid="results/data/processed/{source}/{cls}_valid.h5",
        test="results/data/processed/{source}/{cls}_test.h5",
    log:
        "results/logs/preprocess/{source}_{cls}.log",
    priority: 10
    localrule: True  # a JetNet class: 7.5 s, 1 GB (docs/cluster.md); on a cluster, not worth a place in the queue
    conda:
        "../../envs/lgae.yaml"
    resources:
        mem_mb=4000,
    params:
        lgae=LGAE,
        seed=DATA["seed"],
        split=" ".join(str(f) for f in DATA["split"]),
        num_particles=DATA["num_particles"],
    shell:
        "{params.lgae} preprocess --input {input} --class {wildcards.cls} "
        "--out-dir $(dirname {output.train}) --seed {params.seed} --split {params.split} "
        "--num-particles {params.num_particles} --source {wildcards.source} > {log} 2>&1"


rule data:
    input:
        [processed(cls, split) for cls in CLASSES for split in SPLITS],
