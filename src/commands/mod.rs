//! One module per subcommand, each thin glue: parsed arguments in, the domain call, the report
//! out, an exit status back.

pub(crate) mod assess;
pub(crate) mod completions;
pub(crate) mod generate_man;
pub(crate) mod levels;
pub(crate) mod new;
pub(crate) mod update;
pub(crate) mod upgrade;
