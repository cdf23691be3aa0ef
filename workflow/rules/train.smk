# Training: one job per (model, latent size, seed, training fraction), resumable, on a GPU if present.


rule train:
    input:
        [processed(cls, split) for cls in DATA["background"] for split in ("train", "valid")],
    output:
        model=f"{RUN}/model.pt",
        history=f"{RUN}/history.csv",
        meta=f"{RUN}/meta.json",
    log:
        f"results/logs/train/{RUN_NAME}.log",
    benchmark:
        f"results/benchmarks/train/{RUN_NAME}.tsv"
    conda:
        "../../envs/lgae.yaml"
    threads: TRAIN["threads"]
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=lambda wc, attempt: 2880 * attempt,
    params:
        lgae=LGAE,
        data_dir=lambda wc, input: os.path.dirname(input[0]),
        options=checked(lambda wc: check_training(config, run_of(wc)), train_options),
    shell:
        "{params.lgae} train --model {wildcards.model} --latent {wildcards.latent} --seed {wildcards.seed} "
        "--fraction {wildcards.frac} --data-dir {params.data_dir} --out-dir $(dirname {output.model}) "
        "--threads {threads} --no-progress {params.options} > {log} 2>&1"


rule models:
    input:
        trained_models(main_runs()),


rule data_efficiency_models:
    input:
        trained_models(scan_runs()),
