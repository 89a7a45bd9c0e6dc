//! Level 1's first criterion, data gathered automatically, recognised by a file's name and by
//! what code does: a script named for gathering that reads a source (`ingest.py`,
//! `make_dataset.py`), an orchestrated flow that loads data, a DVC import or gathering stage;
//! and whatever it is called, code that reads a remote location (`read_csv("s3://...")`,
//! `ray.data.read_parquet(url)`), downloads through a data API (Kaggle, S3, GCS, BigQuery, the
//! Hugging Face Hub), or registers data with a cloud ML service (Azure ML datasets, data assets,
//! datastore uploads); and scripts and pipelines that do it from the command line.
//!
//! Notebooks are run by hand, so they never count; tests neither.

use super::signals::ORCHESTRATORS;
use super::{Found, Repo};
use crate::assess::facts::{Kind, Source};

/// Words that start a part of a Python file's name (`ingest.py`, `download_data.py`,
/// `fetcher.py`) when the file gathers data.
const GATHERING_WORDS: &[&str] = &[
    "ingest", "download", "fetch", "scrape", "crawl", "acquire", "etl",
];

/// Names of data-gathering files that take two words (`make_dataset.py`, `collect_data.py`).
const GATHERING_NAMES: &[&str] = &[
    "make_dataset",
    "get_data",
    "collect_data",
    "extract_data",
    "pull_data",
    "import_data",
    "load_raw",
];

/// How a Python file's name says it gathers data, if it does.
fn gathering_name(stem: &str) -> Option<&'static str> {
    let by_word = GATHERING_WORDS
        .iter()
        .copied()
        .find(|word| stem.split(['_', '-']).any(|part| part.starts_with(word)));
    by_word.or_else(|| {
        GATHERING_NAMES
            .iter()
            .copied()
            .find(|name| stem.contains(name))
    })
}

/// Calls that read data from somewhere, in a file named for gathering.
const SOURCE_READS: &[&str] = &[
    "read_csv",
    "read_parquet",
    "read_sql",
    "read_json",
    "read_excel",
    "read_table",
    "urlopen",
    "urlretrieve",
    "requests.",
    "httpx.",
    "boto3",
    "s3fs",
    "gcsfs",
    "bigquery",
    "snowflake",
    "sqlalchemy",
    "load_dataset",
    "sklearn.datasets",
    "kaggle",
    "download",
    "fetch_",
    "load_",
    "open(",
];

/// Calls that read a dataset from the location given as their first argument.
const LOCATION_READS: &[&str] = &[
    "read_csv(",
    "read_parquet(",
    "read_json(",
    "read_excel(",
    "read_table(",
    "read_text(",
    "read_images(",
    "read_binary_files(",
    "read_delta(",
    "from_delimited_files(",
    "from_parquet_files(",
    "from_files(",
    ".load(",
    "urlretrieve(",
    "urlopen(",
];

/// Locations outside the repository and the machine.
const REMOTE_SCHEMES: &[&str] = &[
    "s3://",
    "s3a://",
    "gs://",
    "abfss://",
    "abfs://",
    "wasbs://",
    "az://",
    "azureml://",
    "hf://",
    "https://",
    "http://",
    "dbfs:/",
];

/// Data APIs: (what the code must import or call, what it must call, what it does).
const DATA_APIS: &[(&str, &str, &str)] = &[
    (
        "kaggle",
        "download_file",
        "downloads a Kaggle dataset (Kaggle API)",
    ),
    (
        "kaggleapi",
        "download_file",
        "downloads a Kaggle dataset (Kaggle API)",
    ),
    ("boto3", "download_file", "downloads from S3 (boto3)"),
    ("boto3", "get_object(", "reads from S3 (boto3)"),
    (
        "google.cloud.storage",
        "download_to_",
        "downloads from Cloud Storage",
    ),
    (
        "google.cloud.storage",
        "download_as_",
        "downloads from Cloud Storage",
    ),
    (
        "azure.storage.blob",
        "download_blob(",
        "downloads from Azure Blob Storage",
    ),
    ("bigquery", ".query(", "queries BigQuery"),
    ("snowflake", ".execute(", "queries Snowflake"),
    (
        "datasets",
        "load_dataset(",
        "loads a dataset from the Hugging Face Hub (load_dataset)",
    ),
    (
        "sklearn.datasets",
        "fetch_",
        "downloads a dataset (sklearn.datasets.fetch_*)",
    ),
    (
        "torchvision",
        "download=true",
        "downloads a dataset (torchvision, download=True)",
    ),
];

/// Registering data with a cloud ML service: (call, what it does).
const DATA_REGISTRATIONS: &[(&str, &str)] = &[
    (
        "tabular.from_",
        "registers a dataset with Azure ML (Dataset.register)",
    ),
    (
        "file.from_files(",
        "registers a dataset with Azure ML (Dataset.register)",
    ),
    ("datastore.upload", "uploads data to an Azure ML datastore"),
    (".upload_files(", "uploads data to an Azure ML datastore"),
    (
        "data.create_or_update(",
        "registers a data asset with Azure ML",
    ),
    ("tabulardataset.create(", "creates a Vertex AI dataset"),
    ("imagedataset.create(", "creates a Vertex AI dataset"),
];

/// Commands that gather data, in scripts and pipelines.
const GATHERING_COMMANDS: &[(&str, &str)] = &[
    (
        "kaggle datasets download",
        "downloads a Kaggle dataset (kaggle datasets download)",
    ),
    (
        "kaggle competitions download",
        "downloads Kaggle data (kaggle competitions download)",
    ),
    (
        "az ml data create",
        "registers a data asset with Azure ML (az ml data create)",
    ),
    ("dvc import", "imports data with DVC (dvc import)"),
    ("aws s3 cp s3://", "copies data from S3 (aws s3 cp)"),
    ("aws s3 sync s3://", "copies data from S3 (aws s3 sync)"),
    (
        "gsutil cp gs://",
        "copies data from Cloud Storage (gsutil cp)",
    ),
    (
        "gsutil -m cp gs://",
        "copies data from Cloud Storage (gsutil cp)",
    ),
    (
        "gcloud storage cp gs://",
        "copies data from Cloud Storage (gcloud storage cp)",
    ),
    (
        "azcopy copy https://",
        "copies data from Azure Storage (azcopy)",
    ),
];

/// Whether the line of `command` in `source` copies data, for the commands that copy anything
/// (`aws s3 cp s3://.../results/ results/` fetches results, not data): it names data or a data
/// file.
fn copies_data(source: &Source<'_>, command: &str) -> bool {
    if !command.contains("://") {
        return true;
    }
    source
        .code
        .lines()
        .filter(|line| line.contains(command))
        .any(|line| {
            line.contains("data")
                || [
                    ".csv", ".parquet", ".json", ".zip", ".tar", ".tsv", ".jsonl",
                ]
                .iter()
                .any(|extension| line.contains(extension))
        })
}

/// Commands that gather data in a script, but in a pipeline usually install tools.
const SCRIPT_DOWNLOADS: &[(&str, &str)] = &[
    ("wget http", "downloads data (wget)"),
    ("curl -o", "downloads data (curl)"),
    ("curl -lo", "downloads data (curl)"),
    ("curl -so", "downloads data (curl)"),
];

/// Whether a script, pipeline or configuration of the repository gives a remote data location
/// (`DATASET_LOC="https://.../dataset.csv"`, `--data s3://bucket/raw`): the location code reads
/// from a parameter is then remote.
fn remote_locations_given<'a>(repo: &Repo<'a>) -> Option<&'a str> {
    const DATA_FILES: &[&str] = &[
        ".csv", ".parquet", ".json", ".jsonl", ".zip", ".tar.gz", ".tsv",
    ];
    repo.sources
        .iter()
        .filter(|source| {
            matches!(
                source.kind,
                Kind::Shell | Kind::Ci(_) | Kind::Makefile | Kind::Config
            )
        })
        .find(|source| {
            let bucket = ["s3://", "gs://", "abfss://"]
                .iter()
                .any(|scheme| source.has(scheme));
            let web_file = source.has("https://")
                && source.code.lines().any(|line| {
                    line.contains("https://")
                        && DATA_FILES.iter().any(|extension| line.contains(extension))
                });
            bucket || web_file
        })
        .map(|source| source.path)
}

/// Names of parameters that hold a data location.
fn names_a_location(name: &str) -> bool {
    ["loc", "location", "url", "uri", "path", "source"]
        .iter()
        .any(|suffix| name == *suffix || name.ends_with(&format!("_{suffix}")))
}

pub(in crate::assess) fn data_gathered_automatically(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python modules", repo.modules());
    let given = remote_locations_given(repo);
    for module in repo.modules() {
        if let Some(detail) = gathers(module) {
            found.add(module, detail);
        } else if let Some(given) = given
            && let Some((call, name)) = reads_a_location_parameter(module)
        {
            found.add(
                module,
                format!("reads the location it is given ({call} of `{name}`), which `{given}` gives as a remote URL"),
            );
        } else if let Some(name) = gathering_name(&module.stem) {
            found.reject(
                module,
                format!("named for gathering data ({name}), but reads no source"),
            );
        }
    }
    for notebook in repo.of_kind(Kind::Notebook) {
        if remote_read(notebook).is_some() {
            found.reject(
                notebook,
                "a notebook reads remote data, but notebooks are run by hand",
            );
        }
    }
    found.reads("DVC files", repo.of_kind(Kind::Dvc));
    for dvc in repo.of_kind(Kind::Dvc) {
        if dvc.is_dvc_pointer() && dvc.has("deps:") && (dvc.has("repo:") || dvc.has("://")) {
            found.add(dvc, "DVC import from a remote source");
        } else if dvc.is_dvc_pipeline()
            && [
                "ingest",
                "download",
                "fetch",
                "get_data",
                "make_dataset",
                "prepare",
            ]
            .iter()
            .any(|word| dvc.has_word_start(word))
        {
            found.add(dvc, "DVC pipeline with a data-gathering stage");
        }
    }
    let scripts_and_pipelines = || {
        repo.sources
            .iter()
            .filter(|source| matches!(source.kind, Kind::Shell | Kind::Ci(_) | Kind::Makefile))
    };
    found.reads(
        "scripts, Makefiles and CI pipelines",
        scripts_and_pipelines(),
    );
    for source in scripts_and_pipelines() {
        let command = GATHERING_COMMANDS
            .iter()
            .find(|(command, _)| source.has(command) && copies_data(source, command));
        let download = (source.kind == Kind::Shell)
            .then(|| {
                SCRIPT_DOWNLOADS
                    .iter()
                    .find(|(command, _)| source.has(command))
            })
            .flatten();
        if let Some((_, detail)) = command.or(download) {
            found.add(source, *detail);
        } else if source.has("dvc pull") {
            found.reject(
                source,
                "`dvc pull` retrieves data already versioned; it gathers nothing new",
            );
        }
    }
    found.met_if_any()
}

/// How the module `module` gathers data, if it does.
fn gathers(module: &Source<'_>) -> Option<String> {
    if let Some(name) = gathering_name(&module.stem)
        && let Some(read) = module.has_any(SOURCE_READS)
    {
        let read = read.trim_end_matches(['(', '.', '_']);
        return Some(format!("{name} script, reads its source ({read})"));
    }
    if let Some(orchestrator) = module.imports_any(ORCHESTRATORS)
        && ["ingest", "extract", "download", "fetch", "load"]
            .iter()
            .any(|word| module.has_word_start(word))
    {
        return Some(format!("{orchestrator} flow that loads data"));
    }
    if let Some(detail) = remote_read(module) {
        return Some(detail);
    }
    for (module_or_call, call, detail) in DATA_APIS {
        let uses_api = module.imports(module_or_call) || module.has(module_or_call);
        if uses_api && module.has(call) {
            return Some((*detail).to_owned());
        }
    }
    DATA_REGISTRATIONS
        .iter()
        .find(|(call, _)| module.has(call))
        .filter(|_| module.has("azure") || module.has("aiplatform"))
        .map(|(_, detail)| (*detail).to_owned())
}

/// A read of a remote location: a read call whose first argument is a remote URL, or a name
/// the same file gives a remote URL (`URL = "https://..."`, `def load(loc="s3://...")`).
fn remote_read(source: &Source<'_>) -> Option<String> {
    if !REMOTE_SCHEMES.iter().any(|scheme| source.has(scheme)) {
        return None;
    }
    for line in source.code.lines() {
        for call in LOCATION_READS {
            let Some(start) = line.find(call) else {
                continue;
            };
            let argument = line[start + call.len()..]
                .split([',', ')'])
                .next()
                .unwrap_or_default()
                .trim();
            let call = call.trim_matches(['(', '.']);
            if let Some(scheme) = REMOTE_SCHEMES
                .iter()
                .find(|scheme| argument.contains(**scheme))
            {
                return Some(format!("reads a remote location ({call} of `{scheme}`)"));
            }
            let name = argument
                .trim_start_matches("f\"")
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default();
            if !name.is_empty()
                && let Some(scheme) = assigned_remote(source, name)
            {
                return Some(format!(
                    "reads a remote location ({call} of `{name}`, a `{scheme}` URL)"
                ));
            }
        }
    }
    None
}

/// Where a value given to code comes from when it is not a function parameter: a notebook
/// widget, the environment, the command line.
const GIVEN_FROM: &[&str] = &["widgets.get(", "environ", "getenv(", "args.", "sys.argv"];

/// A read call of a location given to the code, by a name that says so: a function parameter
/// (`ray.data.read_csv(dataset_loc)` in `def load_data(dataset_loc: str)`) or a variable set
/// from a widget, the environment or the command line; and the name.
fn reads_a_location_parameter<'s>(source: &'s Source<'_>) -> Option<(&'static str, &'s str)> {
    let parameters = source
        .code
        .lines()
        .filter(|line| line.trim_start().starts_with("def "))
        .flat_map(|line| {
            line.split(['(', ',', ')'])
                .skip(1)
                .filter_map(|parameter| parameter.split([':', '=']).next())
                .map(str::trim)
        });
    let given_variables = source.code.lines().filter_map(|line| {
        let (name, value) = line.split_once('=')?;
        let from_outside = GIVEN_FROM.iter().any(|from| value.contains(from));
        (from_outside && !value.starts_with('=')).then(|| name.trim())
    });
    let parameters: Vec<&str> = parameters
        .chain(given_variables)
        .filter(|name| names_a_location(name))
        .collect();
    if parameters.is_empty() {
        return None;
    }
    source.code.lines().find_map(|line| {
        LOCATION_READS.iter().find_map(|call| {
            let start = line.find(call)?;
            let argument = line[start + call.len()..]
                .split([',', ')'])
                .next()
                .unwrap_or_default()
                .trim();
            let name = parameters.iter().find(|name| **name == argument)?;
            Some((call.trim_matches(['(', '.']), *name))
        })
    })
}

/// The remote scheme of the URL the file assigns to `name`, if it does.
fn assigned_remote(source: &Source<'_>, name: &str) -> Option<&'static str> {
    source.code.lines().find_map(|line| {
        let at = line.find(name)?;
        let before_ok = at == 0
            || !line.as_bytes()[at - 1].is_ascii_alphanumeric() && line.as_bytes()[at - 1] != b'_';
        let rest = line[at + name.len()..].trim_start();
        let rest = rest.strip_prefix(':').map_or(rest, |typed| {
            typed.split_once('=').map_or("", |(_, value)| value)
        });
        let value = rest
            .strip_prefix('=')
            .unwrap_or(if rest.is_empty() { "" } else { rest });
        if !before_ok || value.starts_with('=') {
            return None;
        }
        let value = value.trim_start();
        let quoted = value.starts_with(['"', '\'']) || value.starts_with("f\"");
        REMOTE_SCHEMES
            .iter()
            .copied()
            .find(|scheme| quoted && value.contains(scheme))
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{DOWNLOAD, check, evidence_of};

    const GATHERED: &[&str] = &["data-gathered-automatically"];

    #[test]
    fn gathering_by_script_dvc_or_flow_but_not_by_notebook() {
        check(&[DOWNLOAD], GATHERED);
        check(
            &[(
                "notebooks/explore.ipynb",
                r#"{"cells": [{"cell_type": "code", "source": ["import pandas as pd\n", "df = pd.read_csv('https://x/data.csv')"]}]}"#,
            )],
            &[],
        );
        check(
            &[(
                "data/raw.dvc",
                "deps:\n- path: https://example.com/raw.csv\nouts:\n- path: raw.csv\n",
            )],
            GATHERED,
        );
        check(
            &[(
                "dags/refresh.py",
                "from airflow import DAG\nfrom airflow.operators.python import PythonOperator\n\ndef extract():\n    pass\n",
            )],
            GATHERED,
        );
        check(
            &[(
                "src/features.py",
                "import pandas as pd\nframe = pd.read_csv('data/raw.csv')\n",
            )],
            &[],
        );
        // A metrics collector is not a data collector.
        check(
            &[(
                "src/app/collector.py",
                "import json\nstate = json.load(open('state.json'))\n",
            )],
            &[],
        );
    }

    #[test]
    fn gathering_by_what_the_code_does() {
        // Ray is managed compute too.
        check(
            &[(
                "src/pkg/steps.py",
                "import ray\nds = ray.data.read_parquet('s3://anonymous@ray-example-data/iris.parquet')\n",
            )],
            &["data-gathered-automatically", "compute-managed"],
        );
        for code in [
            "import pandas as pd\nSOURCE_URL = \"https://archive.ics.uci.edu/data/churn.csv\"\nframe = pd.read_csv(SOURCE_URL)\n",
            "def load(path: str = 'abfss://raw@lake.dfs.core.windows.net/taxi'):\n    return spark.read.format('delta').load(path)\n",
            "from kaggle.api.kaggle_api_extended import KaggleApi\napi = KaggleApi()\napi.dataset_download_files('owner/churn', path='data/raw')\n",
            "from google.cloud import bigquery\nframe = bigquery.Client().query(SQL).to_dataframe()\n",
        ] {
            check(&[("src/pkg/steps.py", code)], GATHERED);
        }
        // Azure ML is managed compute too.
        check(
            &[(
                "src/pkg/steps.py",
                "from azureml.core import Dataset\nds = Dataset.Tabular.from_delimited_files(path=(datastore, 'diabetes.csv'))\nds.register(ws, name='diabetes')\n",
            )],
            &["data-gathered-automatically", "compute-managed"],
        );
        check(
            &[(
                "scripts/setup.sh",
                "kaggle competitions download -c titanic -p data/raw\n",
            )],
            GATHERED,
        );
        // A location given by a script: `ray.data.read_csv(dataset_loc)`, run with a URL.
        check(
            &[
                (
                    "madewithml/data.py",
                    "import pandas as pd\n\ndef load_data(dataset_loc: str, num_samples: int = None):\n    return pd.read_csv(dataset_loc)\n",
                ),
                (
                    "deploy/jobs/workloads.sh",
                    "export DATASET_LOC=\"https://example.com/datasets/dataset.csv\"\npython madewithml/train.py --dataset-loc $DATASET_LOC\n",
                ),
            ],
            GATHERED,
        );
        // A local path read, whatever the file is called, gathers nothing.
        check(
            &[(
                "src/pkg/steps.py",
                "import pandas as pd\nDOCS = 'https://example.com/docs'\nframe = pd.read_csv(LOCAL_PATH)\n",
            )],
            &[],
        );
    }

    #[test]
    fn rejected_signals_say_why() {
        let pull = (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  t:\n    steps:\n      - run: dvc pull\n",
        );
        let assessment = super::super::testing::assessed(&[pull]);
        let finding = &assessment.findings[0];
        assert_eq!(finding.rejected.len(), 1);
        assert!(
            finding.rejected[0]
                .detail
                .starts_with("`dvc pull` retrieves")
        );
        assert!(evidence_of(&[pull], "data-gathered-automatically").is_empty());
    }
}
