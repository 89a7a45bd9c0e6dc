//! The code of a Jupyter notebook: the source of its code cells, never its prose or outputs.

/// The source of a notebook's code cells. A complete notebook is parsed; a prefix cut short
/// is read line by line, as Jupyter writes it (one JSON string per source line).
pub(super) fn notebook_code(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_code: &str) {
        assert_eq!(notebook_code(text), expected_code);
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
            notebook,
            "import pandas as pd\ndf = pd.read_csv(\"data/raw.csv\")  # load\n",
        );
        let cut_short = &notebook[..notebook.find("(\\\"data").unwrap()];
        check(cut_short, "import pandas as pd\n");
    }
}
