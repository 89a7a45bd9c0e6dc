//! The answers file (`--answers FILE`): a flat table of scalars, TOML or YAML by extension.
//!
//! Read with a size limit and only if it is a regular file, so that a FIFO or `/dev/zero` given
//! by mistake is an error rather than a hang.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::AnswerError;
use super::key::AnswerKey;
use crate::exit::Usage;
use crate::project::read::{FileRead, Follow, read_file};

/// An answers file is a handful of lines; anything much larger is not one.
const LIMIT: u64 = 1024 * 1024;

/// Reads and parses the answers file at `path`.
pub(crate) fn read(path: &Path) -> anyhow::Result<BTreeMap<AnswerKey, String>> {
    let shown = path.display();
    let content = match read_file(path, LIMIT, Follow::Yes) {
        Ok(FileRead::Regular(content)) => content,
        Ok(FileRead::Missing) => {
            return Err(Usage::new(format!(
                "cannot read the answers file `{shown}`: there is no such file"
            ))
            .into());
        }
        Ok(FileRead::NotAFile(what)) => {
            return Err(Usage::new(format!(
                "cannot read the answers file `{shown}`: it is {what}, not a file"
            ))
            .into());
        }
        Ok(FileRead::TooLarge(size)) => {
            return Err(Usage::new(format!(
                "cannot read the answers file `{shown}`: it has {size} bytes, more than an answers \
                 file's {LIMIT}"
            ))
            .into());
        }
        Ok(FileRead::Symlink) => unreachable!("symlinks are followed"),
        Err(error) => {
            return Err(
                Usage::new(format!("cannot read the answers file `{shown}`: {error}")).into(),
            );
        }
    };
    let text = String::from_utf8(content).map_err(|_| {
        Usage::new(AnswerError::MalformedFile {
            path: shown.to_string(),
            reason: "it is not UTF-8 text".to_owned(),
        })
    })?;
    parse(path, &text).map_err(|error| Usage::new(error).into())
}

/// Parses the answers file's text; `path` gives the format by its extension and names the file
/// in errors.
pub(crate) fn parse(path: &Path, text: &str) -> Result<BTreeMap<AnswerKey, String>, AnswerError> {
    let shown = path.display().to_string();
    let malformed = |reason: String| AnswerError::MalformedFile {
        path: shown.clone(),
        reason,
    };
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("");
    let table: BTreeMap<String, ScalarValue> = match extension {
        "toml" => toml::from_str(text).map_err(|error| malformed(error.message().to_owned()))?,
        "yaml" | "yml" => {
            if text.trim().is_empty() {
                BTreeMap::new()
            } else {
                serde_saphyr::from_str(text)
                    .map_err(|error| malformed(first_line(&error.to_string())))?
            }
        }
        _ => {
            return Err(malformed(
                "the extension must be `.toml`, `.yaml` or `.yml`".to_owned(),
            ));
        }
    };
    let mut answers = BTreeMap::new();
    for (key, value) in table {
        let Some(known) = AnswerKey::parse(&key) else {
            return Err(AnswerError::Unknown {
                key,
                origin: format!(" in `{shown}`"),
            });
        };
        answers.insert(known, value.0);
    }
    Ok(answers)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_owned()
}

/// A string, number or boolean from an answers file, kept as the text the user meant.
struct ScalarValue(String);

impl<'de> Deserialize<'de> for ScalarValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ScalarValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<ScalarValue, E> {
                // A YAML `3.11` arrives as a float; its shortest form is what the user wrote,
                // except that `3.10` reads back as `3.1`, which validation then refuses.
                Ok(ScalarValue(value.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_files_in_toml_and_yaml() {
        let toml = parse(Path::new("a.toml"), "level = 2\ntask = \"regression\"\n").unwrap();
        assert_eq!(toml[&AnswerKey::Level], "2");
        assert_eq!(toml[&AnswerKey::Task], "regression");
        let yaml = parse(Path::new("a.yaml"), "level: 3\npython_version: \"3.12\"\n").unwrap();
        assert_eq!(yaml[&AnswerKey::Level], "3");
        assert_eq!(yaml[&AnswerKey::PythonVersion], "3.12");
        let unknown = parse(Path::new("a.toml"), "colour = \"red\"\n").unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("unknown answer `colour` in `a.toml`"),
            "{unknown}"
        );
        let nested = parse(Path::new("a.toml"), "[task]\nx = 1\n").unwrap_err();
        assert!(
            nested
                .to_string()
                .starts_with("malformed answers file `a.toml`"),
            "{nested}"
        );
        let extension = parse(Path::new("a.json"), "{}").unwrap_err();
        assert!(extension.to_string().contains("the extension must be"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_device_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("answers.toml");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let error = read(&fifo).unwrap_err();
        assert!(
            error.to_string().ends_with("it is a FIFO, not a file"),
            "{error}"
        );
        let zero = dir.path().join("zero.toml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let error = read(&zero).unwrap_err();
        assert!(
            error.to_string().ends_with("it is a device, not a file"),
            "{error}"
        );
    }
}
