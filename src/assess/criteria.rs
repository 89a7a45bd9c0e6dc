//! The maturity model as data: the sixteen technical criteria of the seed's model (one per line
//! of its model creation, model release and application integration dimensions), each with the
//! detector that decides it, and the people dimension, which no file can show and so is a
//! checklist. The levels themselves, their range and names, are `crate::level`.
//!
//! Ids are stable: template bundles list them (`bundle.toml` `criteria`), `mlops assess` reports
//! them, and scripts read them from its JSON. A criterion belongs to the lowest level that
//! requires it; levels are cumulative, so every higher level requires it too.

use serde::Serialize;

use super::detectors::{Found, Repo, level1, level2, level3, level4};
use crate::level::Level;

/// The seed's technical dimensions; the fourth, people, is [`PEOPLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Dimension {
    ModelCreation,
    ModelRelease,
    ApplicationIntegration,
}

impl Dimension {
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::ModelCreation => "model creation",
            Self::ModelRelease => "model release",
            Self::ApplicationIntegration => "application integration",
        }
    }
}

/// One criterion of the model, declared once in [`ALL`] with the detector that decides it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Criterion {
    pub(super) id: &'static str,
    /// The seed's wording, as a short title.
    pub(super) title: &'static str,
    /// The lowest level that requires it.
    pub(super) level: u8,
    pub(super) dimension: Dimension,
    /// What a repository needs for the criterion to hold, said to someone whose repository lacks it.
    pub(super) to_satisfy: &'static str,
    /// Decides whether the criterion holds in a repository, and with what evidence.
    pub(super) detect: fn(&Repo<'_>) -> Found,
}

use Dimension::{ApplicationIntegration, ModelCreation, ModelRelease};

/// Every criterion, in level order. Adding one is adding an entry here (and its detector); the
/// compiler checks below that ids are unique and levels in order.
pub(super) const ALL: &[Criterion] = &[
    Criterion {
        id: "data-gathered-automatically",
        title: "Data is gathered automatically",
        level: 1,
        dimension: ModelCreation,
        to_satisfy: "add code that gathers the data (an ingest, download or make-dataset script, \
                     a DVC import or pipeline stage, or an orchestrated flow) instead of copying \
                     files by hand",
        detect: level1::data_gathered_automatically,
    },
    Criterion {
        id: "app-unit-tests",
        title: "The application has unit tests",
        level: 1,
        dimension: ApplicationIntegration,
        to_satisfy: "add unit tests (pytest or unittest) for the application code",
        detect: level1::app_unit_tests,
    },
    Criterion {
        id: "model-integration-tests",
        title: "Basic integration tests exist for the model",
        level: 1,
        dimension: ApplicationIntegration,
        to_satisfy: "add a test that loads a trained model and checks its predictions (shape, \
                     type, range, a bad input refused)",
        detect: level1::model_integration_tests,
    },
    Criterion {
        id: "app-ci-cd",
        title: "CI/CD for the application",
        level: 1,
        dimension: ApplicationIntegration,
        to_satisfy: "add a CI pipeline (GitHub Actions, GitLab CI, Azure Pipelines, Jenkins, ...) \
                     that runs the tests and a job that builds and publishes or deploys the \
                     application",
        detect: level1::app_ci_cd,
    },
    Criterion {
        id: "experiments-tracked",
        title: "Experiment results are tracked",
        level: 2,
        dimension: ModelCreation,
        to_satisfy: "log the parameters and metrics of every training run to a tracker (MLflow, \
                     Weights & Biases, DVC experiments, Neptune, ...)",
        detect: level2::experiments_tracked,
    },
    Criterion {
        id: "code-and-models-versioned",
        title: "Training code and resulting models are version controlled",
        level: 2,
        dimension: ModelCreation,
        to_satisfy: "keep training as a script in the repository and version its models in a \
                     registry (MLflow model registry, W&B artifacts, DVC-tracked outputs, ...)",
        detect: level2::code_and_models_versioned,
    },
    Criterion {
        id: "compute-managed",
        title: "Compute is managed",
        level: 2,
        dimension: ModelCreation,
        to_satisfy: "run training as a declared job on compute chosen by configuration (a CI job \
                     whose runner comes from a variable or label, a compute config file, or a \
                     managed service such as SageMaker, Azure ML, Vertex AI, Kubeflow or Ray)",
        detect: level2::compute_managed,
    },
    Criterion {
        id: "scoring-versioned-tested",
        title: "The scoring script is version controlled and tested",
        level: 2,
        dimension: ModelRelease,
        to_satisfy: "move scoring into a module of its own (score, predict or inference) and test \
                     it",
        detect: level2::scoring_versioned_tested,
    },
    Criterion {
        id: "model-ci",
        title: "CI for the model",
        level: 2,
        dimension: ApplicationIntegration,
        to_satisfy: "add a CI pipeline that trains or evaluates the model automatically when \
                     training code or configuration changes",
        detect: level2::model_ci,
    },
    Criterion {
        id: "automated-model-release",
        title: "Model release is automatic, handled by the CI/CD pipeline",
        level: 3,
        dimension: ModelRelease,
        to_satisfy: "release models from a pipeline that starts by itself (after training, on a \
                     registry event or on a push) and deploys or promotes the model",
        detect: level3::automated_model_release,
    },
    Criterion {
        id: "release-tests-per-model",
        title: "Unit and integration tests run for each model release",
        level: 3,
        dimension: ApplicationIntegration,
        to_satisfy: "add release tests that run against a deployed model's URL (contract, \
                     latency, behaviour) and run them in the release pipeline",
        detect: level3::release_tests_per_model,
    },
    Criterion {
        id: "ab-metrics",
        title: "A/B metrics",
        level: 3,
        dimension: ApplicationIntegration,
        to_satisfy: "route traffic between a champion and a challenger model and record metrics \
                     per variant",
        detect: level3::ab_metrics,
    },
    Criterion {
        id: "retraining-on-production-metrics",
        title: "Retraining is triggered automatically by production metrics",
        level: 4,
        dimension: ModelCreation,
        to_satisfy: "monitor drift or performance in production on a schedule and trigger \
                     training when it degrades",
        detect: level4::retraining_on_production_metrics,
    },
    Criterion {
        id: "post-deployment-metrics",
        title: "Post-deployment metrics are gathered",
        level: 4,
        dimension: ApplicationIntegration,
        to_satisfy: "export metrics from the serving application (Prometheus, OpenTelemetry, \
                     StatsD, a cloud metrics API)",
        detect: level4::post_deployment_metrics,
    },
    Criterion {
        id: "compute-tracked",
        title: "Compute is tracked",
        level: 4,
        dimension: ModelCreation,
        to_satisfy: "log each training run's wall time, CPU time, memory and cost (psutil, \
                     resource, MLflow system metrics, CodeCarbon)",
        detect: level4::compute_tracked,
    },
    Criterion {
        id: "automatic-bug-tracking",
        title: "Bugs are tracked automatically",
        level: 4,
        dimension: ModelRelease,
        to_satisfy: "open or update an issue automatically when training, release or monitoring \
                     fails (an issue tracker's API, or an error tracker such as Sentry)",
        detect: level4::automatic_bug_tracking,
    },
];

const _: () = assert!(
    well_formed(ALL),
    "criteria: ids must be unique, levels in order from 1 to the highest"
);

/// Whether `criteria` have unique ids and go up in level order from 1 to the highest level, each
/// level requiring something new.
const fn well_formed(criteria: &[Criterion]) -> bool {
    let mut index = 0;
    while index < criteria.len() {
        let criterion = &criteria[index];
        let level_known = criterion.level >= 1 && criterion.level <= Level::MAX.number();
        let first_of_its_level = index == 0 || criteria[index - 1].level != criterion.level;
        let expected_level = if index == 0 {
            1
        } else {
            criteria[index - 1].level + 1
        };
        if !level_known || (first_of_its_level && criterion.level != expected_level) {
            return false;
        }
        let mut other = 0;
        while other < index {
            if same_str(criteria[other].id, criterion.id) {
                return false;
            }
            other += 1;
        }
        index += 1;
    }
    criteria[criteria.len() - 1].level == Level::MAX.number()
}

const fn same_str(left: &str, right: &str) -> bool {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    if left.len() != right.len() {
        return false;
    }
    let mut index = 0;
    while index < left.len() {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// The people dimension of the seed, by the level where each item first holds.
pub(super) const PEOPLE: &[(u8, &str)] = &[
    (
        2,
        "data people convert experiments into repeatable code and scripts",
    ),
    (2, "data scientists work with data engineers"),
    (2, "the software team manages model releases"),
    (3, "the data team and the software team work together"),
    (
        4,
        "data scientists work with the software team to identify markers for data engineers",
    ),
    (
        4,
        "data engineers work with data scientists and software engineers to manage inputs and \
         outputs",
    ),
    (
        4,
        "software engineers automate model integration and implement post-deployment metrics \
         gathering",
    ),
];

#[cfg(test)]
fn get(id: &str) -> Option<&'static Criterion> {
    ALL.iter().find(|criterion| criterion.id == id)
}

/// The name of a level's stage, such as `Automated Training`.
pub(super) fn level_name(level: u8) -> &'static str {
    Level::new(level).map_or("", Level::name)
}

/// The highest level.
pub(super) fn max_level() -> u8 {
    Level::MAX.number()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::templates::with_embedded;

    #[test]
    fn ids_are_unique_and_levels_ordered() {
        let ids: BTreeSet<&str> = ALL.iter().map(|criterion| criterion.id).collect();
        assert_eq!(ids.len(), ALL.len());
        assert!(ALL.windows(2).all(|pair| pair[0].level <= pair[1].level));
        assert!(
            ALL.iter()
                .all(|criterion| (1..=max_level()).contains(&criterion.level))
        );
        assert_eq!(max_level(), crate::level::Level::MAX.number());
        for level in 1..=max_level() {
            assert!(
                ALL.iter().any(|criterion| criterion.level == level),
                "level {level} requires nothing new"
            );
        }
    }

    #[test]
    fn the_declaration_check_refuses_duplicates_gaps_and_disorder() {
        let at = |id, level| Criterion {
            id,
            level,
            ..ALL[0]
        };
        let complete = [at("a", 1), at("b", 2), at("c", 3), at("d", 3), at("e", 4)];
        assert!(well_formed(ALL));
        assert!(well_formed(&complete));
        let mut duplicate = complete;
        duplicate[3].id = "c";
        assert!(!well_formed(&duplicate));
        assert!(!well_formed(&[at("a", 1), at("b", 3), at("c", 4)]));
        assert!(!well_formed(&[at("a", 2), at("b", 3), at("c", 4)]));
        assert!(!well_formed(&[at("a", 1), at("b", 2), at("c", 3)]));
        assert!(!well_formed(&[
            at("a", 1),
            at("b", 2),
            at("c", 1),
            at("d", 3),
            at("e", 4)
        ]));
    }

    #[test]
    fn bundles_claim_known_criteria_of_their_own_level() {
        with_embedded(|templates| {
            for bundle in templates.bundles() {
                let level = bundle.meta.level;
                for id in &bundle.meta.criteria {
                    let criterion =
                        get(id).unwrap_or_else(|| panic!("level {level} claims unknown `{id}`"));
                    assert_eq!(
                        criterion.level, level,
                        "level {level} claims `{id}`, a level-{} criterion",
                        criterion.level
                    );
                }
            }
        });
    }

    #[test]
    fn hints_read_as_lowercase_instructions() {
        for criterion in ALL {
            let first = criterion.to_satisfy.chars().next().unwrap();
            assert!(first.is_lowercase(), "`{}`", criterion.id);
            assert!(!criterion.to_satisfy.ends_with('.'), "`{}`", criterion.id);
            assert!(!criterion.to_satisfy.contains("  "), "`{}`", criterion.id);
        }
    }
}
