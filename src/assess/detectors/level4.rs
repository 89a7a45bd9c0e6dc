//! Level 4, Full MLOps Automated Retraining: retraining triggered by production metrics,
//! post-deployment metrics, compute tracked, and bugs tracked automatically.

use super::signals::{ORCHESTRATORS, is_training_code};
use super::{Found, Repo, dedup, pipeline};
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
        ("monitor", "monitoring"),
    ] {
        if source.has_word_start(word) {
            return Some(detail.to_owned());
        }
    }
    None
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
        Kind::Config => source.has("kind: cronjob") || source.has("kind: cronworkflow"),
        Kind::Python => {
            source.imports_any(ORCHESTRATORS).is_some()
                && (source.has("schedule") || source.has("cron"))
        }
        _ => false,
    }
}

pub(in crate::assess) fn retraining_on_production_metrics(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
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
        let watches = monitors(scheduled);
        let retrains = starts_training(scheduled);
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
                "issues.create",
                "create-an-issue",
                "create-issue",
            ])
            .is_some()
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
}
