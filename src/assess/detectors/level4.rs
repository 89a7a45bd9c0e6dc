//! Level 4, Full MLOps Automated Retraining: retraining triggered by production metrics,
//! post-deployment metrics, compute tracked, and bugs tracked automatically.

use super::signals::{ORCHESTRATORS, is_training_code};
use super::{Found, Repo, dedup, pipeline, through};
use crate::assess::facts::{Kind, Source};

const DRIFT_LIBRARIES: &[(&str, &str)] = &[
    ("evidently", "Evidently"),
    ("alibi_detect", "Alibi Detect"),
    ("nannyml", "NannyML"),
    ("whylogs", "whylogs"),
    ("deepchecks", "Deepchecks"),
    ("frouros", "Frouros"),
];

/// Code that measures production data or performance: drift, monitoring.
fn monitors(source: &Source<'_>) -> Option<String> {
    if let Some((_, name)) = DRIFT_LIBRARIES
        .iter()
        .find(|(module, _)| source.imports(module))
    {
        return Some(format!("{name} drift checks"));
    }
    for (word, detail) in [
        ("drift", "drift checks"),
        ("ks_2samp", "drift checks (Kolmogorov-Smirnov)"),
        ("population_stability", "drift checks (PSI)"),
        ("psi", "drift checks (PSI)"),
    ] {
        if source.has_word_start(word) {
            return Some(detail.to_owned());
        }
    }
    monitors_by_name(source).then(|| "monitoring".to_owned())
}

/// Whether `source` names monitoring other than as a training callback's argument
/// (`ModelCheckpoint(monitor="val_loss")`, `EarlyStopping(monitor=...)` watch a metric of the
/// run, not production).
fn monitors_by_name(source: &Source<'_>) -> bool {
    source.has_word_start("monitor")
        && source.code.match_indices("monitor").any(|(start, _)| {
            let before = source.code[..start].chars().next_back();
            let rest = &source.code[start + "monitor".len()..];
            let starts_a_word = before.is_none_or(|c| !c.is_ascii_alphanumeric());
            starts_a_word && !rest.starts_with('=') && !rest.starts_with("_mode")
        })
}

/// Whether the Python module `source` schedules its flow: an orchestrator's schedule argument,
/// decorator or class, or a cron expression; not `lr_scheduler`, a learning-rate schedule.
fn schedules_a_flow(source: &Source<'_>) -> bool {
    const SCHEDULES: &[&str] = &[
        "schedule=",
        "schedule_interval",
        "@schedule",
        "cron=",
        "cron_schedule",
        "cronschedule",
        "intervalschedule",
        "scheduledefinition",
        "cron(",
        "crontrigger",
    ];
    SCHEDULES.iter().any(|schedule| {
        source.has(schedule)
            && source.code.match_indices(schedule).any(|(start, _)| {
                let before = source.code[..start].chars().next_back();
                before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
            })
    })
}

/// Starting another pipeline or flow from code or a pipeline: a workflow dispatch, a DAG run.
fn dispatches(source: &Source<'_>) -> Option<&'static str> {
    [
        ("gh workflow run", "dispatches the training workflow"),
        ("/dispatches", "dispatches the training workflow"),
        ("create_dispatch", "dispatches the training workflow"),
        ("createworkflowdispatch", "dispatches the training workflow"),
        ("trigger_dag", "triggers the training flow"),
        ("run_deployment", "triggers the training flow"),
    ]
    .into_iter()
    .find(|(phrase, _)| source.has(phrase))
    .map(|(_, detail)| detail)
}

/// Starting a training run: a dispatch, or training itself.
fn starts_training(source: &Source<'_>) -> Option<&'static str> {
    if let Some(detail) = dispatches(source) {
        return Some(detail);
    }
    if source.has("dvc repro") {
        return Some("retrains (dvc repro)");
    }
    (source.has_word_start("retrain") || source.has_word_start("train"))
        .then_some("starts training")
}

fn is_scheduled(source: &Source<'_>) -> bool {
    match source.kind {
        Kind::Ci(_) => source.triggers.schedule,
        Kind::Config => {
            source.has("kind: cronjob")
                || source.has("kind: cronworkflow")
                || source.has("quartz_cron_expression")
        }
        Kind::Python => source.imports_any(ORCHESTRATORS).is_some() && schedules_a_flow(source),
        _ => false,
    }
}

pub(in crate::assess) fn retraining_on_production_metrics(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads(
        "CI pipelines, Python modules and job configuration",
        repo.sources.iter().filter(|source| {
            source.is_ci() || source.is_product_code() || source.kind == Kind::Config
        }),
    );
    for code in repo.product_code() {
        if code.has("lr_scheduler")
            && code.imports_any(ORCHESTRATORS).is_some()
            && !is_scheduled(code)
        {
            found.reject(
                code,
                "`lr_scheduler` is a learning-rate schedule, not a scheduled run",
            );
        }
        if code.has("monitor=") && !monitors_by_name(code) && monitors(code).is_none() {
            found.reject(
                code,
                "`monitor=` names the metric a training callback watches, not production",
            );
        }
    }
    let monitoring_code: Vec<(&Source<'_>, String)> = repo
        .product_code()
        .filter_map(|code| monitors(code).map(|detail| (code, detail)))
        .collect();
    // The code a scheduled monitor runs may decide and dispatch training itself.
    let code_triggers = monitoring_code
        .iter()
        .find_map(|(code, _)| starts_training(code).map(|detail| (*code, detail)))
        .or_else(|| {
            repo.product_code()
                .find_map(|code| dispatches(code).map(|detail| (code, detail)))
        });
    for scheduled in repo.sources.iter().filter(|source| is_scheduled(source)) {
        let described = if scheduled.is_ci() {
            pipeline(scheduled)
        } else {
            "scheduled job".to_owned()
        };
        let (watches, retrains) = if scheduled.is_ci() {
            let watches = repo
                .find_in_pipeline(scheduled, monitors)
                .map(|(watch, via)| through(watch, via))
                .or_else(|| {
                    repo.reached_modules(scheduled).find_map(|module| {
                        monitors(module).map(|watch| through(watch, Some(module.path)))
                    })
                });
            let retrains = repo
                .find_in_pipeline(scheduled, starts_training)
                .map(|(retrain, via)| through(retrain, via))
                .or_else(|| {
                    repo.reached_modules(scheduled).find_map(|module| {
                        dispatches(module).map(|retrain| through(retrain, Some(module.path)))
                    })
                });
            (watches, retrains)
        } else {
            (
                monitors(scheduled),
                starts_training(scheduled).map(str::to_owned),
            )
        };
        match (&watches, retrains) {
            (Some(watch), Some(retrain)) => {
                found.met = true;
                found.add(scheduled, format!("{described}: {watch}, then {retrain}"));
            }
            (Some(watch), None) if code_triggers.is_some() => {
                found.met = true;
                found.add(scheduled, format!("{described}: {watch}"));
            }
            (Some(watch), None) => {
                found.add_partial(scheduled, format!("{described}: {watch}, no retraining"));
            }
            (None, Some(retrain)) => found.add_partial(
                scheduled,
                format!("{described}: {retrain} on a schedule, not on production metrics"),
            ),
            (None, None) => {}
        }
    }
    if found.met {
        for (code, detail) in &monitoring_code {
            found.add(code, detail.clone());
        }
        if let Some((code, detail)) = code_triggers {
            found.add(code, detail);
        }
    }
    dedup(found)
}

const METRICS_EXPORTERS: &[(&str, &str)] = &[
    ("prometheus_client", "Prometheus metrics"),
    ("prometheus_fastapi_instrumentator", "Prometheus metrics"),
    ("prometheus_flask_exporter", "Prometheus metrics"),
    ("starlette_exporter", "Prometheus metrics"),
    ("aioprometheus", "Prometheus metrics"),
    ("opentelemetry", "OpenTelemetry metrics"),
    ("statsd", "StatsD metrics"),
    ("datadog", "Datadog metrics"),
    ("ddtrace", "Datadog metrics"),
    ("newrelic", "New Relic metrics"),
];

pub(in crate::assess) fn post_deployment_metrics(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python modules and notebooks", repo.product_code());
    found.reads("configuration files", repo.of_kind(Kind::Config));
    for code in repo.product_code() {
        if let Some((_, detail)) = METRICS_EXPORTERS
            .iter()
            .find(|(module, _)| code.imports(module))
        {
            found.add(code, format!("exports {detail}"));
        } else if code.has("put_metric_data") {
            found.add(code, "sends CloudWatch metrics");
        }
    }
    for config in repo.of_kind(Kind::Config) {
        if config.has("scrape_configs:") || config.has("kind: servicemonitor") {
            found.add(config, "Prometheus scrape configuration");
        }
    }
    found.met_if_any()
}

/// Measurements of the compute a run used.
const RESOURCE_MEASURES: &[(&str, &str)] = &[
    ("enable_system_metrics_logging", "MLflow system metrics"),
    ("log_system_metrics", "MLflow system metrics"),
    ("codecarbon", "CodeCarbon"),
    ("emissionstracker", "CodeCarbon"),
    ("psutil", "psutil"),
    ("getrusage", "resource usage"),
    ("tracemalloc", "tracemalloc"),
    ("pynvml", "NVML"),
    ("max_memory_allocated", "GPU memory"),
    ("process_time", "CPU time"),
];

pub(in crate::assess) fn compute_tracked(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python modules", repo.modules());
    for module in repo.modules() {
        let Some((_, measure)) = RESOURCE_MEASURES
            .iter()
            .find(|(needle, _)| module.has(needle))
        else {
            continue;
        };
        let built_in = measure.starts_with("MLflow") || *measure == "CodeCarbon";
        let logged = ["log_metric", "wandb.log", "log_param", "set_tag"]
            .iter()
            .any(|call| module.has(call));
        if built_in || logged || is_training_code(module) {
            found.add(module, format!("records the compute of a run ({measure})"));
        }
    }
    found.met_if_any()
}

pub(in crate::assess) fn automatic_bug_tracking(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads(
        "code, CI pipelines and scripts",
        repo.sources.iter().filter(|source| {
            source.is_product_code() || matches!(source.kind, Kind::Ci(_) | Kind::Shell)
        }),
    );
    for source in &repo.sources {
        let relevant = source.is_product_code() || matches!(source.kind, Kind::Ci(_) | Kind::Shell);
        if !relevant {
            continue;
        }
        let via_api = source.has("/issues")
            && (source.has("/repos/") || source.has("/projects/"))
            && source.has_word("post");
        // Azure Boards: work items created through the REST API (`_apis/wit/workitems/$Bug`).
        let via_boards = source.has("wit/workitems") && source.has_word("post");
        let detail = if via_api {
            Some("opens issues through the tracker's API")
        } else if via_boards {
            Some("files work items through Azure Boards' API")
        } else if source
            .has_any(&[
                "gh issue create",
                "create_issue",
                "create-an-issue",
                "create-issue",
            ])
            .is_some()
            || source.has_word("issues.create")
        {
            Some("opens issues automatically")
        } else if source
            .imports_any(&[
                "sentry_sdk",
                "rollbar",
                "bugsnag",
                "honeybadger",
                "airbrake",
            ])
            .is_some()
        {
            Some("reports errors to an error tracker")
        } else {
            None
        };
        if let Some(detail) = detail {
            found.add(source, detail);
        } else if source.has("createcomment") || source.has("gh pr comment") {
            found.reject(
                source,
                "comments on a pull request, which reports a result but opens no issue",
            );
        }
    }
    found.met_if_any()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, evidence_of};

    #[test]
    fn retraining_needs_a_schedule_a_production_metric_and_a_trigger() {
        let monitor = (
            ".github/workflows/monitor.yml",
            "on:\n  schedule:\n    - cron: '0 * * * *'\n  workflow_dispatch:\njobs:\n  monitor:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pkg.monitoring.drift --window 24h\n      - if: steps.policy.outputs.fire == 'true'\n        run: gh workflow run train.yml\n",
        );
        check(&[monitor], &["retraining-on-production-metrics"]);
        let nightly = (
            ".github/workflows/nightly.yml",
            "on:\n  schedule:\n    - cron: '0 3 * * *'\njobs:\n  retrain:\n    steps:\n      - run: python train.py\n",
        );
        check(&[nightly], &[]);
        assert_eq!(
            evidence_of(&[nightly], "retraining-on-production-metrics"),
            [
                ".github/workflows/nightly.yml: GitHub Actions pipeline, runs on a schedule: starts training on a schedule, not on production metrics"
            ]
        );
        // The scheduled job monitors; the code it runs dispatches training when the policy fires.
        check(
            &[
                (
                    ".github/workflows/monitor.yml",
                    "on:\n  schedule:\n    - cron: '0 * * * *'\njobs:\n  m:\n    steps:\n      - run: python -m pkg.monitor\n",
                ),
                (
                    "src/pkg/monitor.py",
                    "from scipy.stats import ks_2samp\nimport urllib.request\n\ndef dispatch():\n    urllib.request.urlopen(f'{API}/repos/{REPO}/actions/workflows/train.yml/dispatches')\n",
                ),
            ],
            &["retraining-on-production-metrics"],
        );
        // The monitor decides; a module of its own dispatches training.
        check(
            &[
                (
                    ".github/workflows/monitor.yml",
                    "on:\n  schedule:\n    - cron: '0 * * * *'\njobs:\n  m:\n    steps:\n      - run: make monitor\n",
                ),
                ("Makefile", "monitor:\n\tpython -m pkg.monitoring.run\n"),
                (
                    "src/pkg/monitoring/run.py",
                    "from pkg.monitoring.drift import psi\nfrom pkg.retrain import request_training\n",
                ),
                (
                    "src/pkg/retrain.py",
                    "import json\nimport urllib.request\n\ndef request_training(repo, token):\n    url = f'https://api.github.com/repos/{repo}/actions/workflows/train.yml/dispatches'\n    urllib.request.urlopen(urllib.request.Request(url, method='POST'))\n",
                ),
            ],
            &["retraining-on-production-metrics"],
        );
    }

    #[test]
    fn production_metrics_compute_and_bugs() {
        check(
            &[(
                "src/pkg/app.py",
                "from prometheus_client import Counter, make_asgi_app\nREQUESTS = Counter('requests_total', 'requests')\n",
            )],
            &["post-deployment-metrics"],
        );
        check(
            &[(
                "src/pkg/train.py",
                "import resource\nimport time\nimport mlflow\nusage = resource.getrusage(resource.RUSAGE_SELF)\nmlflow.log_metric('peak_memory_mb', usage.ru_maxrss / 1024)\n",
            )],
            &["experiments-tracked", "compute-tracked"],
        );
        check(
            &[(
                "src/pkg/health.py",
                "import psutil\nload = psutil.cpu_percent()\n",
            )],
            &[],
        );
        check(
            &[(
                "src/pkg/issues.py",
                "import json\nimport urllib.request\n\ndef open_issue(repo, title, fingerprint):\n    request = urllib.request.Request(f'https://api.github.com/repos/{repo}/issues', method='POST')\n",
            )],
            &["automatic-bug-tracking"],
        );
        check(
            &[(
                "src/pkg/app.py",
                "import sentry_sdk\nsentry_sdk.init(dsn=DSN)\n",
            )],
            &["automatic-bug-tracking"],
        );
        check(
            &[(
                "src/pkg/boards.py",
                "def file(client, patch):\n    return client.request('POST', 'wit/workitems/$Bug', patch)\n",
            )],
            &["automatic-bug-tracking"],
        );
        check(
            &[(
                "src/pkg/app.py",
                "LINK = 'https://github.com/org/repo/issues'\n@app.post('/predict')\ndef predict(): ...\n",
            )],
            &[],
        );
    }

    #[test]
    fn training_callbacks_and_comments_are_not_production() {
        // A Prefect flow that trains with a learning-rate schedule and checkpoints on a
        // validation metric: not scheduled, not monitoring production.
        check(
            &[(
                "flows/train_flow.py",
                "from prefect import flow\nimport torch\n\n@flow\ndef train():\n    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 10)\n    checkpoint = ModelCheckpoint(monitor='val_loss')\n    trainer.fit(model)\n",
            )],
            &[],
        );
        // A comment on the pull request opens no issue.
        check(
            &[(
                ".github/workflows/report.yml",
                "on: pull_request\njobs:\n  r:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/github-script@v7\n        with:\n          script: github.rest.issues.createComment({issue_number: 1, body: 'x'})\n",
            )],
            &[],
        );
        check(
            &[(
                ".github/workflows/report.yml",
                "on: schedule\njobs:\n  r:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/github-script@v7\n        with:\n          script: github.rest.issues.create({title: 'drift'})\n",
            )],
            &["automatic-bug-tracking"],
        );
        // A scheduled flow that checks drift and retrains is what it looks like.
        check(
            &[(
                "flows/monitor.py",
                "from prefect import flow\nfrom evidently.report import Report\n\n@flow\ndef monitor():\n    if drifted(Report()):\n        retrain()\n\nif __name__ == '__main__':\n    monitor.serve(cron='0 * * * *')\n",
            )],
            &["retraining-on-production-metrics"],
        );
    }
}
