//! The modules a Python file imports, from its code (lowercase, without comments).

use std::collections::BTreeSet;

/// Modules imported, dotted, with `from a import b` giving `a` and `a.b`.
pub(super) fn python_imports(code: &str) -> BTreeSet<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: &str, expected: &[&str]) {
        let imports = python_imports(code);
        let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
        assert_eq!(imports, expected, "{code:?}");
    }

    #[test]
    fn imports_are_dotted() {
        check(
            "import os, mlflow.sklearn as ms\nfrom sklearn import datasets, metrics\nfrom . import scoring\nfrom prometheus_client import (\n    counter,\n)\n",
            &[
                ".",
                ".scoring",
                "mlflow.sklearn",
                "os",
                "prometheus_client",
                "sklearn",
                "sklearn.datasets",
                "sklearn.metrics",
            ],
        );
    }
}
