# Evaluation: each trained model on the test split of every class (the only step after training that loads
# a model or asks for a GPU), then its metrics as pure functions of those predictions.


rule predict:
    input:
        model=f"{RUN}/model.pt",
        data=[processed(cls, "test") for cls in CLASSES],
    output:
        predictions=expand(f"{PREDICTIONS}/{{cls}}.h5", cls=CLASSES, allow_missing=True),
        equivariance=f"{PREDICTIONS}/equivariance.json",
    log:
        f"results/logs/predict/{RUN_NAME}.log",
    benchmark:
        f"results/benchmarks/predict/{RUN_NAME}.tsv"
    conda:
        "../../envs/lgae.yaml"
    threads: TRAIN["threads"]
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        lgae=LGAE,
        data_dir=lambda wc, input: os.path.dirname(input.data[0]),
        options=checked(lambda wc: check_prediction(config), predict_options),
        expect=expected_run,
    shell:
        "{params.lgae} predict --model-file {input.model} --data-dir {params.data_dir} "
        "--out-dir $(dirname {output.equivariance}) --threads {threads} --no-progress {params.options} "
        "--expect {params.expect} > {log} 2>&1"


rule evaluate:
    input:
        predictions=rules.predict.output.predictions,
        equivariance=rules.predict.output.equivariance,
    output:
        **{name: f"{METRICS}/{name}.json" for name in METRIC_NAMES},
    log:
        f"results/logs/evaluate/{RUN_NAME}.log",
    benchmark:
        f"results/benchmarks/evaluate/{RUN_NAME}.tsv"
    conda:
        "../../envs/lgae.yaml"
    resources:
        mem_mb=8000,
    params:
        lgae=LGAE,
        options=evaluate_options,
        expect=expected_run,
    shell:
        "{params.lgae} evaluate --predictions-dir $(dirname {input.equivariance}) "
        "--out-dir $(dirname {output.reconstruction}) {params.options} --expect {params.expect} > {log} 2>&1"


rule metrics:
    input:
        metrics_of(main_runs() + scan_runs()),
