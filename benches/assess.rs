//! Wall time of `mlops assess` on a synthetic repository of 100,000 files, measured on the release
//! binary as a user runs it. Run with `cargo bench --bench assess`.
//!
//! The repository is built once per run of the benchmark: a small ML project (the evidence) inside
//! a large monorepo of unrelated Python, documentation, front-end and binary files in nested
//! directories, plus what the scan must skip: a virtual environment, a top-level data directory
//! and a build directory named in `.gitignore`. Runs after the first find it in the page cache,
//! as a second `assess` would.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::Timing;

const N_FILES: usize = 100_000;

fn main() {
    let binary = env!("CARGO_BIN_EXE_mlops");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let repo = scratch.path().join("monorepo");
    let created = create_repository(&repo);
    assert_eq!(
        created, N_FILES,
        "the synthetic repository has {N_FILES} files"
    );

    let run = || {
        let output = Command::new(binary)
            .args(["assess"])
            .arg(&repo)
            .args(["--format", "json"])
            .output()
            .expect("mlops runs");
        assert!(output.status.success());
        output
    };
    let report: serde_json::Value = serde_json::from_slice(&run().stdout).unwrap();
    assert_eq!(report["level"], 1, "the project inside is at level 1");
    let files_read = report["files_read"].as_u64().unwrap();
    assert!(
        files_read > 40_000,
        "the unrelated Python files are read too"
    );
    run();
    let timing = Timing::measure(
        15,
        |_| (),
        |()| {
            run();
        },
    );
    timing.report(
        &format!("mlops assess on {N_FILES} files ({files_read} of them read)"),
        Duration::from_secs(1),
    );
}

/// Writes the synthetic repository and returns how many files it holds.
fn create_repository(root: &Path) -> usize {
    let mut writer = Writer { root, count: 0 };
    let mut write = |relative: &str, content: &[u8]| writer.write(relative, content);

    // The ML project: level 1 evidence in a corner of the monorepo.
    write(".gitignore", b"/build/\n*.log\n__pycache__/\n");
    write(
        "ml/churn/ingest.py",
        b"import pandas as pd\n\ndef main():\n    pd.read_csv(URL).to_parquet('raw.parquet')\n",
    );
    write(
        "ml/churn/tests/test_model.py",
        b"import joblib\n\ndef test_predicts():\n    assert joblib.load(PATH).predict(ROWS).shape == (2,)\n",
    );
    write(
        ".github/workflows/ci.yml",
        b"on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n      - uses: docker/build-push-action@v6\n",
    );

    // Unrelated Python: 40 packages of 25 subpackages of 40 modules.
    let module = b"\"\"\"A module of the monorepo.\"\"\"\n\nimport os\nfrom collections import defaultdict\n\n\ndef handler(event, context):\n    counts = defaultdict(int)\n    for key in event:\n        counts[key] += 1\n    return dict(counts), os.getpid()\n";
    for package in 0..40 {
        for subpackage in 0..25 {
            for file in 0..40 {
                write(
                    &format!("services/svc_{package}/pkg_{subpackage}/mod_{file}.py"),
                    module,
                );
            }
        }
    }
    // Documentation, front-end code and images, which the scan walks past without reading.
    for section in 0..100 {
        for page in 0..100 {
            write(
                &format!("docs/section_{section}/page_{page}.md"),
                b"# A page\n\nWe use mlflow and kubectl, in prose.\n",
            );
            write(
                &format!("frontend/src/view_{section}/component_{page}.tsx"),
                b"export const View = () => null;\n",
            );
            write(
                &format!("frontend/assets/img_{section}/icon_{page}.png"),
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            );
        }
    }
    // What the scan skips: a virtual environment, data, and an ignored build directory.
    write(".venv/pyvenv.cfg", b"home = /usr/bin\n");
    for index in 0..9_999 {
        write(
            &format!(
                ".venv/lib/python3.11/site-packages/pkg_{}/m_{index}.py",
                index / 100
            ),
            b"import mlflow\nmlflow.log_metric('x', 1)\n",
        );
    }
    for index in 0..10_000 {
        write(
            &format!("data/shard_{}/part_{index}.csv", index / 500),
            b"a,b\n1,2\n",
        );
    }
    let mut index = 0;
    while writer.count < N_FILES {
        writer.write(
            &format!("build/lib_{}/gen_{index}.py", index / 1000),
            b"from prometheus_client import Counter\n",
        );
        index += 1;
    }
    writer.count
}

struct Writer<'a> {
    root: &'a Path,
    count: usize,
}

impl Writer<'_> {
    fn write(&mut self, relative: &str, content: &[u8]) {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self.count += 1;
    }
}
