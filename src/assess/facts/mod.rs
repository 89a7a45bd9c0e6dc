//! One file of a repository as `assess` sees it: what kind of file it is (Python, notebook, a CI
//! pipeline of some provider, Dockerfile, DVC, Makefile, configuration), whether it is a test,
//! its code in lowercase with comments and docstrings removed (for a notebook, the source of its
//! code cells: prose never counts as evidence), its Python imports, and for a CI pipeline what
//! starts it. Pure: text in, facts out.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Python,
    Notebook,
    Ci(Provider),
    Dockerfile,
    /// `dvc.yaml`, `dvc.lock`, `*.dvc` pointer files and `.dvc/config`.
    Dvc,
    Makefile,
    Shell,
    /// YAML, TOML, INI, requirements, `MLproject`, `.gitattributes` and the like.
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GithubActions,
    GitlabCi,
    AzurePipelines,
    Jenkins,
    CircleCi,
    Bitbucket,
    Travis,
    Other,
}

impl Provider {
    pub fn label(self) -> &'static str {
        match self {
            Self::GithubActions => "GitHub Actions",
            Self::GitlabCi => "GitLab CI",
            Self::AzurePipelines => "Azure Pipelines",
            Self::Jenkins => "Jenkins",
            Self::CircleCi => "CircleCI",
            Self::Bitbucket => "Bitbucket Pipelines",
            Self::Travis => "Travis CI",
            Self::Other => "CI",
        }
    }
}

impl Kind {
    /// The kind of the file at `path` (relative, with `/`), or `None` if assess has no use for it.
    pub fn of(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
        let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
        let is_yaml = matches!(extension, "yml" | "yaml");
        let in_dir = |dir: &str| path.starts_with(dir) || path.contains(&format!("/{dir}"));
        let provider = if path.starts_with(".github/workflows/") && is_yaml {
            Some(Provider::GithubActions)
        } else if name.ends_with(".gitlab-ci.yml") || (in_dir(".gitlab/") && is_yaml) {
            Some(Provider::GitlabCi)
        } else if (name.starts_with("azure-pipelines") || in_dir(".azure-pipelines/")) && is_yaml {
            Some(Provider::AzurePipelines)
        } else if name.starts_with("jenkinsfile") || name.ends_with(".jenkinsfile") {
            Some(Provider::Jenkins)
        } else if path == ".circleci/config.yml" {
            Some(Provider::CircleCi)
        } else if name == "bitbucket-pipelines.yml" {
            Some(Provider::Bitbucket)
        } else if name == ".travis.yml" {
            Some(Provider::Travis)
        } else if matches!(
            name.as_str(),
            ".drone.yml"
                | "cloudbuild.yaml"
                | "cloudbuild.yml"
                | "buildspec.yml"
                | ".woodpecker.yml"
        ) || (path.starts_with(".buildkite/") && is_yaml)
        {
            Some(Provider::Other)
        } else {
            None
        };
        if let Some(provider) = provider {
            return Some(Self::Ci(provider));
        }
        let kind = match extension {
            "py" => Self::Python,
            "ipynb" => Self::Notebook,
            "dvc" => Self::Dvc,
            "sh" | "bash" => Self::Shell,
            "mk" => Self::Makefile,
            _ if name == "dvc.yaml" || name == "dvc.lock" || path == ".dvc/config" => Self::Dvc,
            _ if name.starts_with("dockerfile")
                || name.ends_with(".dockerfile")
                || name == "containerfile" =>
            {
                Self::Dockerfile
            }
            _ if name == "makefile" || name == "gnumakefile" => Self::Makefile,
            "yml" | "yaml" | "toml" | "cfg" | "ini" => Self::Config,
            "txt" if name.starts_with("requirements") => Self::Config,
            _ if matches!(
                name.as_str(),
                "mlproject" | "procfile" | "pipfile" | ".gitattributes"
            ) =>
            {
                Self::Config
            }
            _ => return None,
        };
        Some(kind)
    }
}

/// What starts a CI pipeline. Independent facts, any combination possible, hence the bools.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Triggers {
    /// A push to a branch or a pull or merge request: it runs whenever the code changes.
    pub on_change: bool,
    /// Only on changes to some paths.
    pub path_filters: bool,
    /// A tag or a published release: a person decides.
    pub on_tag: bool,
    pub schedule: bool,
    /// Can be started by hand (`workflow_dispatch`).
    pub manual: bool,
    /// Waits for a person somewhere: `when: manual`, a Jenkins `input`, a manual validation.
    pub approval: bool,
    /// Another pipeline or an event: `workflow_run`, `repository_dispatch`, a pipeline resource.
    pub after_event: bool,
}

impl Triggers {
    /// Runs by itself, when code changes or another pipeline or event calls it.
    pub fn automatic(self) -> bool {
        self.on_change || self.after_event
    }
}

#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub path: &'a str,
    /// The file name, lowercase.
    pub name: String,
    /// The file name up to its first dot, lowercase.
    pub stem: String,
    pub kind: Kind,
    /// A Python test module (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`).
    pub is_test: bool,
    /// Lowercase, comments and docstrings removed; a notebook's code cells; a CI pipeline with
    /// the recipes of the make targets it runs appended.
    pub code: String,
    /// Python modules imported, lowercase and dotted, with `from a import b` giving `a` and `a.b`.
    pub imports: BTreeSet<String>,
    pub triggers: Triggers,
    /// The byte pairs that occur in `code`, to rule out most searches without scanning it.
    pairs: Pairs,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a str, text: &str) -> Option<Self> {
        let kind = Kind::of(path)?;
        let code = match kind {
            Kind::Python => python_code(text),
            Kind::Notebook => python_code(&notebook_code(text)),
            Kind::Ci(Provider::Jenkins) => slash_comments_removed(text),
            _ => hash_comments_removed(text),
        };
        let mut code = code;
        code.make_ascii_lowercase();
        let imports = if matches!(kind, Kind::Python | Kind::Notebook) {
            python_imports(&code)
        } else {
            BTreeSet::new()
        };
        let triggers = match kind {
            Kind::Ci(provider) => triggers(provider, text, &code),
            _ => Triggers::default(),
        };
        let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
        let stem = name
            .split_once('.')
            .map_or(name.as_str(), |(stem, _)| stem)
            .to_owned();
        let pairs = Pairs::of(&code);
        Some(Self {
            pairs,
            path,
            name,
            stem,
            kind,
            is_test: is_python_test(path, kind),
            code,
            imports,
            triggers,
        })
    }

    pub fn is_code(&self) -> bool {
        matches!(self.kind, Kind::Python | Kind::Notebook)
    }

    /// Python or notebook code that is not a test.
    pub fn is_product_code(&self) -> bool {
        self.is_code() && !self.is_test
    }

    pub fn is_ci(&self) -> bool {
        matches!(self.kind, Kind::Ci(_))
    }

    pub fn provider(&self) -> Option<Provider> {
        match self.kind {
            Kind::Ci(provider) => Some(provider),
            _ => None,
        }
    }

    /// A DVC pointer file (`*.dvc`), written by `dvc add` or `dvc import`.
    pub fn is_dvc_pointer(&self) -> bool {
        self.kind == Kind::Dvc
            && self
                .name
                .rsplit_once('.')
                .is_some_and(|(_, extension)| extension == "dvc")
    }

    /// A DVC pipeline, `dvc.yaml`.
    pub fn is_dvc_pipeline(&self) -> bool {
        self.kind == Kind::Dvc && self.name == "dvc.yaml"
    }

    /// Adds `more` to the code (a CI pipeline's make recipes).
    pub fn append_code(&mut self, more: &str) {
        self.code.push_str(more);
        self.pairs = Pairs::of(&self.code);
    }

    pub fn has(&self, needle: &str) -> bool {
        self.pairs.may_contain(needle) && self.code.contains(needle)
    }

    pub fn has_any<'n>(&self, needles: &[&'n str]) -> Option<&'n str> {
        needles.iter().copied().find(|needle| self.has(needle))
    }

    /// `word` with no letter or digit on either side.
    pub fn has_word(&self, word: &str) -> bool {
        self.pairs.may_contain(word) && contains_word(&self.code, word, true)
    }

    /// A word starting with `word`: `train` finds `training` and `make train`, not `constraint`.
    pub fn has_word_start(&self, word: &str) -> bool {
        self.pairs.may_contain(word) && contains_word(&self.code, word, false)
    }

    /// Imports `module` or one of its submodules.
    pub fn imports(&self, module: &str) -> bool {
        if self.imports.is_empty() || !self.pairs.may_contain(module) {
            return false;
        }
        // Sorted, a module's submodules follow it: `a`, `a.b`, `a.c`, `a_d`.
        self.imports
            .range::<str, _>((Bound::Included(module), Bound::Unbounded))
            .take_while(|import| import.starts_with(module))
            .any(|import| import.len() == module.len() || import[module.len()..].starts_with('.'))
    }

    pub fn imports_any<'m>(&self, modules: &[&'m str]) -> Option<&'m str> {
        modules.iter().copied().find(|module| self.imports(module))
    }
}

/// A set of the byte pairs in a text, hashed into 2048 bits: if a pair of a needle is missing,
/// the text cannot contain the needle. Most files of a large repository mention none of what
/// the detectors look for, and this answers for them in a few instructions a search.
#[derive(Debug, Clone)]
struct Pairs([u64; 32]);

impl Pairs {
    fn of(text: &str) -> Self {
        let mut bits = [0_u64; 32];
        for pair in text.as_bytes().windows(2) {
            let slot = Self::slot(pair[0], pair[1]);
            bits[slot / 64] |= 1 << (slot % 64);
        }
        Self(bits)
    }

    fn slot(first: u8, second: u8) -> usize {
        let pair = (u32::from(first) << 8) | u32::from(second);
        (pair.wrapping_mul(0x9E37_79B1) >> 21) as usize
    }

    fn may_contain(&self, needle: &str) -> bool {
        needle.as_bytes().windows(2).all(|pair| {
            let slot = Self::slot(pair[0], pair[1]);
            self.0[slot / 64] & (1 << (slot % 64)) != 0
        })
    }
}

pub fn contains_word(text: &str, word: &str, whole: bool) -> bool {
    let is_word_char = |byte: u8| byte.is_ascii_alphanumeric();
    let bytes = text.as_bytes();
    text.match_indices(word).any(|(start, _)| {
        let end = start + word.len();
        let starts = start == 0 || !is_word_char(bytes[start - 1]);
        let ends = !whole || end == bytes.len() || !is_word_char(bytes[end]);
        starts && ends
    })
}

fn is_python_test(path: &str, kind: Kind) -> bool {
    if !matches!(kind, Kind::Python | Kind::Notebook) {
        return false;
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    parts
        .iter()
        .any(|dir| matches!(*dir, "tests" | "test" | "testing"))
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem == "conftest"
}

/// Python without comments and without triple-quoted strings (docstrings, mostly).
fn python_code(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut in_triple: Option<&str> = None;
    for line in text.lines() {
        let line_start = code.len();
        let mut rest = line;
        loop {
            if let Some(quote) = in_triple {
                match rest.find(quote) {
                    Some(end) => {
                        rest = &rest[end + 3..];
                        in_triple = None;
                    }
                    None => break,
                }
            } else {
                let (before, opened) = split_before_comment_or_triple(rest);
                code.push_str(before);
                match opened {
                    Some(quote) => {
                        rest = &rest[before.len() + 3..];
                        in_triple = Some(quote);
                    }
                    None => break,
                }
            }
        }
        let kept = code[line_start..].trim_end().len();
        if code[line_start..].trim_start().is_empty() {
            code.truncate(line_start);
        } else {
            code.truncate(line_start + kept);
            code.push('\n');
        }
    }
    code
}

/// The part of `line` before a `#` comment or a triple quote outside a string, and the triple
/// quote found, if any.
fn split_before_comment_or_triple(line: &str) -> (&str, Option<&'static str>) {
    let bytes = line.as_bytes();
    if !bytes.iter().any(|byte| matches!(byte, b'#' | b'"' | b'\'')) {
        return (line, None);
    }
    let mut quote: Option<u8> = None;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if let Some(open) = quote {
            if byte == b'\\' {
                index += 1;
            } else if byte == open {
                quote = None;
            }
        } else if byte == b'#' {
            return (&line[..index], None);
        } else if line[index..].starts_with("\"\"\"") {
            return (&line[..index], Some("\"\"\""));
        } else if line[index..].starts_with("'''") {
            return (&line[..index], Some("'''"));
        } else if byte == b'"' || byte == b'\'' {
            quote = Some(byte);
        }
        index += 1;
    }
    (line, None)
}

/// Lines without `#` comments: whole-line ones, and trailing ones after a space outside quotes.
fn hash_comments_removed(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        let kept = strip_trailing(line, |rest| rest.starts_with('#'));
        if !kept.trim().is_empty() {
            code.push_str(kept.trim_end());
            code.push('\n');
        }
    }
    code
}

/// Groovy (Jenkinsfiles) without `//` and `/* */` comments.
fn slash_comments_removed(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block {
                match rest.find("*/") {
                    Some(end) => {
                        rest = &rest[end + 2..];
                        in_block = false;
                    }
                    None => break,
                }
            } else {
                let before = strip_trailing(rest, |rest| {
                    rest.starts_with("//") || rest.starts_with("/*")
                });
                kept.push_str(before);
                if rest[before.len()..].starts_with("/*") {
                    rest = &rest[before.len() + 2..];
                    in_block = true;
                } else {
                    break;
                }
            }
        }
        if !kept.trim().is_empty() {
            code.push_str(kept.trim_end());
            code.push('\n');
        }
    }
    code
}

/// `line` up to where `starts_comment` holds at the start of the line or after whitespace,
/// outside quotes (so `https://x` and `a#b` stay).
fn strip_trailing(line: &str, starts_comment: impl Fn(&str) -> bool) -> &str {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    for (index, &byte) in bytes.iter().enumerate() {
        match quote {
            Some(open) if byte == open => quote = None,
            Some(_) => {}
            None => {
                let after_space = index == 0 || bytes[index - 1].is_ascii_whitespace();
                if after_space && starts_comment(&line[index..]) {
                    return &line[..index];
                }
                if byte == b'"' || byte == b'\'' {
                    quote = Some(byte);
                }
            }
        }
    }
    line
}

/// The source of a notebook's code cells. A complete notebook is parsed; a prefix cut short
/// is read line by line, as Jupyter writes it (one JSON string per source line).
fn notebook_code(text: &str) -> String {
    if let Ok(notebook) = serde_json::from_str::<serde_json::Value>(text) {
        let mut code = String::new();
        let cells = notebook["cells"].as_array().map_or(&[][..], Vec::as_slice);
        for cell in cells.iter().filter(|cell| cell["cell_type"] == "code") {
            match &cell["source"] {
                serde_json::Value::String(source) => code.push_str(source),
                serde_json::Value::Array(lines) => {
                    for line in lines.iter().filter_map(serde_json::Value::as_str) {
                        code.push_str(line);
                    }
                }
                _ => {}
            }
            code.push('\n');
        }
        return code;
    }
    let mut code = String::new();
    let mut is_code_cell = false;
    let mut in_source = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(cell_type) = line.strip_prefix("\"cell_type\":") {
            is_code_cell = cell_type.contains("\"code\"");
        } else if let Some(source) = line.strip_prefix("\"source\":") {
            let source = source.trim();
            in_source =
                source.starts_with('[') && !source.ends_with(']') && !source.ends_with("],");
            if is_code_cell && source.starts_with('"') {
                push_json_string(&mut code, source.trim_end_matches(','));
            }
        } else if in_source {
            if line.starts_with(']') {
                in_source = false;
                code.push('\n');
            } else if is_code_cell {
                push_json_string(&mut code, line.trim_end_matches(','));
            }
        }
    }
    code
}

fn push_json_string(code: &mut String, literal: &str) {
    if let Ok(text) = serde_json::from_str::<String>(literal) {
        code.push_str(&text);
    }
}

fn python_imports(code: &str) -> BTreeSet<String> {
    let mut imports = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim();
        if let Some(modules) = line.strip_prefix("import ") {
            for module in modules.split(',') {
                let module = module.split_whitespace().next().unwrap_or_default();
                if !module.is_empty() {
                    imports.insert(module.to_owned());
                }
            }
        } else if let Some(rest) = line.strip_prefix("from ")
            && let Some((module, names)) = rest.split_once(" import ")
        {
            let module = module.trim();
            imports.insert(module.to_owned());
            let names = names.trim().trim_start_matches('(');
            for name in names.split(',') {
                let name = name.split_whitespace().next().unwrap_or_default();
                let name = name.trim_end_matches(')');
                if !name.is_empty() && name != "*" {
                    let joined = if module.ends_with('.') {
                        format!("{module}{name}")
                    } else {
                        format!("{module}.{name}")
                    };
                    imports.insert(joined);
                }
            }
        }
    }
    imports
}

fn triggers(provider: Provider, text: &str, code: &str) -> Triggers {
    if provider == Provider::GithubActions {
        return github_triggers(text).unwrap_or_else(|| github_triggers_from_text(code));
    }
    let has = |needle: &str| code.contains(needle);
    let mut triggers = Triggers {
        on_change: true,
        ..Triggers::default()
    };
    match provider {
        Provider::GitlabCi => {
            triggers.schedule = has("\"schedule\"") || has("- schedules");
            triggers.approval = has("when: manual");
            triggers.after_event =
                has("\"pipeline\"") || has("\"trigger\"") || has("\"api\"") || has("- triggers");
            triggers.on_tag = has("$ci_commit_tag") || has("- tags");
        }
        Provider::AzurePipelines => {
            triggers.schedule = has("schedules:");
            triggers.after_event = has("pipelines:") && has("resources:");
            let no_trigger = has("trigger: none");
            let no_pr = !has("pr:") || has("pr: none");
            triggers.on_change = !(no_trigger && no_pr);
            triggers.manual = !triggers.on_change;
            triggers.approval = has("manualvalidation");
        }
        Provider::Jenkins => {
            triggers.schedule = has("cron(") || has("cron '") || has("cron \"");
            triggers.approval = has("input(") || has("input {") || has("input message");
            triggers.after_event = has("upstream(");
        }
        Provider::CircleCi | Provider::Bitbucket | Provider::Travis | Provider::Other => {
            triggers.schedule = has("schedule") || has("cron");
        }
        Provider::GithubActions => unreachable!("handled above"),
    }
    triggers
}

/// The `on:` of a GitHub Actions workflow, parsed.
fn github_triggers(text: &str) -> Option<Triggers> {
    let workflow: serde_json::Value = serde_saphyr::from_str(text).ok()?;
    let on = workflow.get("on")?;
    let mut events: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    match on {
        serde_json::Value::String(event) => {
            events.insert(event.clone(), serde_json::Value::Null);
        }
        serde_json::Value::Array(list) => {
            for event in list.iter().filter_map(serde_json::Value::as_str) {
                events.insert(event.to_owned(), serde_json::Value::Null);
            }
        }
        serde_json::Value::Object(map) => {
            events.extend(map.iter().map(|(key, value)| (key.clone(), value.clone())));
        }
        _ => return None,
    }
    let mut triggers = Triggers::default();
    for (event, filters) in &events {
        let has_filter = |key: &str| filters.get(key).is_some();
        match event.as_str() {
            "push" => {
                let tags_only = (has_filter("tags") || has_filter("tags-ignore"))
                    && !has_filter("branches")
                    && !has_filter("branches-ignore")
                    && !has_filter("paths");
                if tags_only {
                    triggers.on_tag = true;
                } else {
                    triggers.on_change = true;
                }
                triggers.path_filters |= has_filter("paths");
            }
            "pull_request" | "pull_request_target" | "merge_group" => {
                triggers.on_change = true;
                triggers.path_filters |= has_filter("paths");
            }
            "release" => triggers.on_tag = true,
            "schedule" => triggers.schedule = true,
            "workflow_dispatch" => triggers.manual = true,
            "workflow_run"
            | "repository_dispatch"
            | "registry_package"
            | "deployment"
            | "deployment_status" => triggers.after_event = true,
            _ => {}
        }
    }
    Some(triggers)
}

/// The triggers of a workflow that does not parse (a prefix cut short), from its text.
fn github_triggers_from_text(code: &str) -> Triggers {
    let has = |needle: &str| code.contains(needle);
    Triggers {
        on_change: has("pull_request")
            || code.lines().any(|line| {
                let line = line.trim();
                line == "push:" || line.starts_with("on: push") || line.starts_with("on: [push")
            }),
        path_filters: has("paths:"),
        on_tag: has("tags:"),
        schedule: has("schedule:") || has("cron:"),
        manual: has("workflow_dispatch"),
        approval: false,
        after_event: has("workflow_run") || has("repository_dispatch"),
    }
}

/// The targets of a Makefile: prerequisites and recipe text, lowercase.
#[derive(Debug, Clone, Default)]
pub struct MakeTargets {
    targets: BTreeMap<String, (Vec<String>, String)>,
}

impl MakeTargets {
    pub fn parse(code: &str) -> Self {
        let mut targets: BTreeMap<String, (Vec<String>, String)> = BTreeMap::new();
        let mut current: Vec<String> = Vec::new();
        for line in code.lines() {
            if line.starts_with('\t') {
                for target in &current {
                    let recipe = &mut targets.entry(target.clone()).or_default().1;
                    recipe.push_str(line.trim());
                    recipe.push('\n');
                }
                continue;
            }
            current.clear();
            let Some((names, prerequisites)) = line.split_once(':') else {
                continue;
            };
            if prerequisites.starts_with('=') || names.contains('=') || names.starts_with('.') {
                continue;
            }
            let prerequisites: Vec<String> = prerequisites
                .split(';')
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            for name in names.split_whitespace() {
                targets
                    .entry(name.to_owned())
                    .or_default()
                    .0
                    .extend(prerequisites.iter().cloned());
                current.push(name.to_owned());
            }
        }
        Self { targets }
    }

    /// The recipes that `make ...` invocations in `code` run, prerequisites included.
    pub fn expand(&self, code: &str) -> String {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<String> = Vec::new();
        for (start, _) in code.match_indices("make ") {
            let before_ok = start == 0 || !code.as_bytes()[start - 1].is_ascii_alphanumeric();
            if !before_ok {
                continue;
            }
            let rest = &code[start + "make ".len()..];
            let command = rest
                .split(['\n', ';', '&', '|', ')'])
                .next()
                .unwrap_or_default();
            pending.extend(
                command
                    .split_whitespace()
                    .filter(|word| !word.starts_with('-') && !word.contains('='))
                    .map(|word| word.trim_matches(|c| c == '"' || c == '\'').to_owned()),
            );
        }
        let mut expanded = String::new();
        while let Some(target) = pending.pop() {
            if !seen.insert(target.clone()) {
                continue;
            }
            if let Some((prerequisites, recipe)) = self.targets.get(&target) {
                expanded.push_str(recipe);
                pending.extend(prerequisites.iter().cloned());
            }
        }
        expanded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, text: &str, expected_code: &str) {
        let source = Source::new(path, text).unwrap();
        assert_eq!(source.code, expected_code);
    }

    #[test]
    fn kinds_come_from_paths() {
        let cases = [
            (
                ".github/workflows/ci.yml",
                Some(Kind::Ci(Provider::GithubActions)),
            ),
            (".gitlab-ci.yml", Some(Kind::Ci(Provider::GitlabCi))),
            ("ci/train.gitlab-ci.yml", Some(Kind::Ci(Provider::GitlabCi))),
            (
                "azure-pipelines.yml",
                Some(Kind::Ci(Provider::AzurePipelines)),
            ),
            ("Jenkinsfile", Some(Kind::Ci(Provider::Jenkins))),
            (
                "jenkins/train.Jenkinsfile",
                Some(Kind::Ci(Provider::Jenkins)),
            ),
            (".circleci/config.yml", Some(Kind::Ci(Provider::CircleCi))),
            ("src/pkg/train.py", Some(Kind::Python)),
            ("notebooks/eda.ipynb", Some(Kind::Notebook)),
            ("docker/Dockerfile.gpu", Some(Kind::Dockerfile)),
            ("dvc.yaml", Some(Kind::Dvc)),
            ("data/raw.dvc", Some(Kind::Dvc)),
            ("Makefile", Some(Kind::Makefile)),
            ("configs/train.yaml", Some(Kind::Config)),
            ("requirements-dev.txt", Some(Kind::Config)),
            ("MLproject", Some(Kind::Config)),
            ("README.md", None),
            ("data.csv", None),
            ("notes.txt", None),
        ];
        for (path, expected) in cases {
            assert_eq!(Kind::of(path), expected, "{path}");
        }
    }

    #[test]
    fn python_loses_comments_and_docstrings_but_keeps_strings() {
        check(
            "a.py",
            "\"\"\"Uses mlflow.\n\nMore.\n\"\"\"\nimport os  # not mlflow\nURL = \"http://x/#a\"\nx = '#'\ndef f():\n    '''doc'''\n    return 1\n",
            "import os\nurl = \"http://x/#a\"\nx = '#'\ndef f():\n    return 1\n",
        );
    }

    #[test]
    fn yaml_and_groovy_lose_comments() {
        check(
            "ci.yml",
            "# train nightly\nrun: pytest  # tests\nurl: https://x/#y\n",
            "run: pytest\nurl: https://x/#y\n",
        );
        check(
            "Jenkinsfile",
            "// train\nsh 'pytest' // run\n/* a\nb */ sh 'curl https://x'\n",
            "sh 'pytest'\n sh 'curl https://x'\n",
        );
    }

    #[test]
    fn notebooks_give_their_code_cells_only() {
        let notebook = r#"{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {},
   "source": ["We could use mlflow here.\n"]
  },
  {
   "cell_type": "code",
   "metadata": {},
   "outputs": [{"text": ["import wandb\n"]}],
   "source": [
    "import pandas as pd\n",
    "df = pd.read_csv(\"data/raw.csv\")  # load"
   ]
  }
 ]
}"#;
        check(
            "eda.ipynb",
            notebook,
            "import pandas as pd\ndf = pd.read_csv(\"data/raw.csv\")\n",
        );
        let cut_short = &notebook[..notebook.find("(\\\"data").unwrap()];
        check("eda.ipynb", cut_short, "import pandas as pd\n");
    }

    #[test]
    fn imports_are_dotted_and_lowercase() {
        let source = Source::new(
            "a.py",
            "import os, mlflow.sklearn as ms\nfrom sklearn import datasets, metrics\nfrom . import scoring\nfrom prometheus_client import (\n    Counter,\n)\n",
        )
        .unwrap();
        let imports: Vec<&str> = source.imports.iter().map(String::as_str).collect();
        assert_eq!(
            imports,
            [
                ".",
                ".scoring",
                "mlflow.sklearn",
                "os",
                "prometheus_client",
                "sklearn",
                "sklearn.datasets",
                "sklearn.metrics"
            ]
        );
        assert!(source.imports("mlflow"));
        assert!(!source.imports("mlfl"));
    }

    #[test]
    fn pairs_never_rule_out_what_is_there() {
        let text = "import mlflow\nmlflow.log_metric('f1', f1)\n";
        let pairs = Pairs::of(text);
        for start in 0..text.len() {
            for end in start..=text.len() {
                assert!(
                    pairs.may_contain(&text[start..end]),
                    "{:?}",
                    &text[start..end]
                );
            }
        }
        assert!(!pairs.may_contain("prometheus_client"));
        assert!(!pairs.may_contain("kubectl"));
    }

    #[test]
    fn words_have_boundaries() {
        assert!(contains_word("make train", "train", true));
        assert!(contains_word("python -m pkg.training", "train", false));
        assert!(!contains_word("constraint", "train", false));
        assert!(!contains_word("training", "train", true));
        assert!(contains_word("run_ab_test()", "ab_test", true));
    }

    fn check_triggers(path: &str, text: &str, expected: Triggers) {
        assert_eq!(
            Source::new(path, text).unwrap().triggers,
            expected,
            "{text}"
        );
    }

    #[test]
    fn github_triggers_are_parsed() {
        let default = Triggers::default();
        check_triggers(
            ".github/workflows/a.yml",
            "on: [push, pull_request]\njobs: {}\n",
            Triggers {
                on_change: true,
                ..default
            },
        );
        check_triggers(
            ".github/workflows/a.yml",
            "on:\n  push:\n    tags: [\"v*\"]\n",
            Triggers {
                on_tag: true,
                ..default
            },
        );
        check_triggers(
            ".github/workflows/a.yml",
            "on:\n  pull_request:\n    paths: [\"src/**\"]\n  workflow_dispatch:\n  schedule:\n    - cron: \"0 3 * * *\"\n  workflow_run:\n    workflows: [Train]\n",
            Triggers {
                on_change: true,
                path_filters: true,
                schedule: true,
                manual: true,
                after_event: true,
                ..default
            },
        );
        check_triggers(
            ".github/workflows/a.yml",
            "on:\n  workflow_dispatch:\njobs:\n  x: [\n",
            Triggers {
                manual: true,
                ..default
            },
        );
    }

    #[test]
    fn other_providers_run_on_change_unless_told_otherwise() {
        let gitlab = Source::new(
            ".gitlab-ci.yml",
            "deploy:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"schedule\"\n  when: manual\n",
        )
        .unwrap();
        assert!(gitlab.triggers.on_change && gitlab.triggers.schedule && gitlab.triggers.approval);
        let azure = Source::new("azure-pipelines.yml", "trigger: none\npr: none\n").unwrap();
        assert!(!azure.triggers.automatic());
        let jenkins = Source::new("Jenkinsfile", "triggers { cron('H 2 * * *') }").unwrap();
        assert!(jenkins.triggers.schedule);
    }

    #[test]
    fn make_invocations_expand_to_their_recipes() {
        let targets = MakeTargets::parse(
            "PY ?= python\n.PHONY: all\nci: lint gate\nlint:\n\truff check .\ngate: train\n\t$(PY) -m pkg.gate\ntrain:\n\t$(PY) -m pkg.train\n",
        );
        let expanded = targets.expand("run: make ci\nrun: cmake x\n");
        assert!(expanded.contains("ruff check"));
        assert!(expanded.contains("pkg.gate"));
        assert!(expanded.contains("pkg.train"));
        assert_eq!(targets.expand("run: make -j2 lint V=1"), "ruff check .\n");
        assert_eq!(targets.expand("run: cmake train"), "");
    }
}
