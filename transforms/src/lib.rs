//! dockopt's engine: a pure library. No file system, no process exit, no printing.
//!
//! Data flows one way: `optimize(source, &Context, &Settings)` parses the Dockerfile losslessly,
//! runs the selected transforms in a fix loop and returns the new text with the findings.

pub mod approved_base;
pub mod catalog;
pub mod checks;
pub mod config;
pub mod dockerignore;
pub mod engine;
pub mod fix;
mod knowledge;
pub mod model;
pub mod settings;
pub mod shell;
pub mod syntax;

mod format;
mod layer_waste;
mod lint_fixes;
mod manifest_first;
mod merge_runs;
mod modernize;
mod multi_stage;
mod run_cleanup;

pub use approved_base::{inventory, BaseStatus, BaseUse, Inventory, InventoryEntry, ReplacedBy, UnresolvedBase};
pub use catalog::{catalog, check_selector, find_transform, Selector, TransformInfo};
pub use checks::Check;
pub use config::{Config, FinalNewline, FormatConfig, Indent, OperatorPlacement};
pub use engine::{final_copy_sources, optimize, FixLoopError, Outcome, ReportedFinding, Suppressed};
pub use model::pragmas::Warning;
pub use fix::{Applicability, Artifact, Edit, Finding, Fix};
pub use model::matcher;
pub use settings::{is_source, wants_content, wants_source, wants_sources, Context, EditorSettings, Settings, MAX_CONTENT_BYTES, MAX_SOURCE_BYTES, MAX_SOURCE_FILES};
pub use syntax::{parse, parse_strict, Dockerfile, LineIndex, SyntaxError};
