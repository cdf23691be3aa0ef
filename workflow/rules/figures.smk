# The paper's figures, tables and claims, from prediction and metrics files (never from models). Tables
# and claims read small metrics files, seconds each, so on a cluster they run where Snakemake runs
# (localrule), not through the queue; a figure reads the prediction files of every model it shows whole
# (~260 MB per model on JetNet's test jets, docs/planning.md), so it stays a job with memory to match. Which
# figures and tables there are, and what each shows, is lgae.pipeline.targets; their named targets (fig2 ...
# claims) are in the Snakefile; captions for the report in workflow/report/.


rule figure:
    input:
        lambda wc: FIGURE_INPUTS[wc.figure],
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category=lambda wc: FIGURES[wc.figure].section,
        ),
        pdf="results/figures/{figure}.pdf",
        caption="results/figures/{figure}.txt",
    log:
        "results/logs/figures/{figure}.log",
    benchmark:
        "results/benchmarks/figure/{figure}.tsv"
    wildcard_constraints:
        figure="|".join(FIGURES),
    conda:
        "../../envs/lgae.yaml"
    resources:
        # the files read whole, twice over for the copies plotting makes, and the interpreter (an
        # estimate: not measured at JetNet's size)
        mem_mb=lambda wc, input: max(4000, round(2 * input.size_mb) + 1000),
    params:
        lgae=LGAE,
        inputs=lambda wc, input: directories(input),
        expect=lambda wc: FIGURE_RUNS[wc.figure],
        options=checked(lambda wc: check_figure(config, wc.figure), FIGURE_OPTIONS),
    shell:
        "{params.lgae} figure {wildcards.figure} --inputs {params.inputs} --expect {params.expect} "
        "--out-prefix results/figures/{wildcards.figure} {params.options} > {log} 2>&1"


rule table:
    input:
        metrics_of(main_runs()),
    output:
        html=report(
            "results/tables/{table}.html",
            caption="../report/table.rst",
            category=lambda wc: TABLES[wc.table].section,
        ),
        csv="results/tables/{table}.csv",
        md="results/tables/{table}.md",
        tex="results/tables/{table}.tex",
    log:
        "results/logs/tables/{table}.log",
    wildcard_constraints:
        table="|".join(TABLES),
    localrule: True
    conda:
        "../../envs/lgae.yaml"
    params:
        lgae=LGAE,
        inputs=lambda wc, input: directories(input),
        expect=run_names(main_runs()),
        score=EVAL["anomaly_score"],
    shell:
        "{params.lgae} table {wildcards.table} --inputs {params.inputs} --expect {params.expect} "
        "--out-prefix results/tables/{wildcards.table} --anomaly-score {params.score} > {log} 2>&1"


rule check_claims:
    input:
        main=metrics_of(main_runs()),
        scan=metrics_of(scan_runs()),
    output:
        html=report("results/claims.html", caption="../report/claims.rst", category="Claims"),
        md="results/claims.md",
        json="results/claims.json",
    log:
        "results/logs/claims.log",
    localrule: True
    conda:
        "../../envs/lgae.yaml"
    params:
        lgae=LGAE,
        main=lambda wc, input: directories(input.main),
        scan=lambda wc, input: directories(input.scan),
        main_runs=run_names(main_runs()),
        scan_runs=run_names(scan_runs()),
        score=EVAL["anomaly_score"],
    shell:
        "{params.lgae} claims --inputs {params.main} --expect {params.main_runs} --scan {params.scan} "
        "--scan-expect {params.scan_runs} --out-prefix results/claims --anomaly-score {params.score} "
        "> {log} 2>&1"
