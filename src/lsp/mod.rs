//! `dockopt lsp`: a Language Server over stdio.
//!
//! - diagnostics: the findings of the open document, published on open, change and save
//!   (full-text sync); a parse error or a broken `dockopt.toml` is an error diagnostic;
//! - code actions: per diagnostic the client asks about (else per finding under the cursor), that
//!   finding's own fix as a `quickfix` (Unsafe ones marked "(unsafe)"), an "ignore this check here"
//!   `quickfix` that writes `# dockopt ignore=<check>` above the instruction (or adds the check to
//!   the one there), and `source.fixAll.dockopt`, every safe fix at once;
//! - formatting: the safe fixes (what `dockopt fix` does by default), then the formatter (what
//!   `dockopt format` does); range formatting: the formatter alone, on the instructions, comment
//!   and blank lines the range touches (safe fixes may move text across the file, so they are not
//!   cut to a range). No edits for a document that does not parse.
//!
//! A diagnostic's `code` is its check id (`run-cleanup/apt-lists`); a pragma dockopt cannot use
//! is a warning diagnostic with code `pragma`. The config is the nearest `dockopt.toml` above the
//! document, else hadolint's (read again on open and save); the build context is the document's
//! directory. Positions are UTF-16, as the protocol requires.

mod text;
pub mod transport;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, Formatting, RangeFormatting, Request as _};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, Diagnostic, DiagnosticSeverity, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    DocumentFormattingParams, DocumentRangeFormattingParams, InitializeResult, NumberOrString, OneOf, PositionEncodingKind,
    PublishDiagnosticsParams, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, TextEdit, Uri, WorkspaceEdit,
};
use transforms::{Applicability, Context, Outcome, Settings};

use crate::config::Discovery;
use crate::error::FileError;
use crate::process::optimize_contained;

pub use text::{minimal_edits, LineMap};

/// The code action kind of "apply every safe fix".
pub const FIX_ALL_KIND: &str = "source.fixAll.dockopt";
const SOURCE: &str = "dockopt";

/// Serve on stdin/stdout until the client says `exit`; the exit code of the process.
pub fn run() -> i32 {
    // Not lsp-server's stdio threads: their reader ends the server on the first bad frame.
    let (connection, io_threads) = transport::stdio();
    let result = serve(&connection);
    // Close our side so the writer thread ends, then wait for the I/O threads.
    drop(connection);
    let joined = io_threads.join();
    match (result, joined) {
        (Ok(()), Ok(())) => crate::EXIT_OK,
        (Err(e), _) => {
            eprintln!("dockopt lsp: {e}");
            crate::EXIT_ERROR
        }
        (_, Err(e)) => {
            eprintln!("dockopt lsp: {e}");
            crate::EXIT_ERROR
        }
    }
}

fn serve(connection: &Connection) -> Result<(), String> {
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "dockopt".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;

    let mut server = Server::default();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let response = server.request(request);
                send(connection, Message::Response(response));
            }
            Message::Notification(notification) => {
                if notification.method == "exit" {
                    return Ok(());
                }
                for publish in server.notification(notification) {
                    let note = Notification::new(PublishDiagnostics::METHOD.to_string(), publish);
                    send(connection, Message::Notification(note));
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

fn send(connection: &Connection, message: Message) {
    // The client went away: the receiver loop ends on its own.
    let _ = connection.sender.send(message);
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(FIX_ALL_KIND),
            ]),
            resolve_provider: Some(false),
            ..CodeActionOptions::default()
        })),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_range_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// An open document and what it is checked with.
struct Document {
    text: String,
    version: i32,
    settings: Arc<Settings>,
    context: Arc<Context>,
    /// A broken `dockopt.toml`: shown as a diagnostic; nothing else runs until it is fixed.
    config_error: Option<String>,
}

impl Document {
    fn analyze(&self) -> Result<Outcome, FileError> {
        optimize_contained(&self.text, &self.context, &self.settings)
    }

    /// The text after every safe fix, or `None` when the document cannot be fixed (parse
    /// error, broken config, a fix loop that failed).
    fn safely_fixed(&self) -> Option<String> {
        if self.config_error.is_some() {
            return None;
        }
        let settings = Settings {
            unsafe_fixes: false,
            ..(*self.settings).clone()
        };
        match optimize_contained(&self.text, &self.context, &settings) {
            Ok(outcome) if outcome.error.is_none() => Some(outcome.text),
            _ => None,
        }
    }

    /// Formatted as the editor asks: `None` for the whole document (every safe fix, then the
    /// formatter), or the formatter alone on what `range` touches. `None` when the document cannot
    /// be formatted (parse error, broken config, a fix loop that failed).
    fn formatted(&self, range: Option<std::ops::Range<usize>>) -> Option<String> {
        if self.config_error.is_some() {
            return None;
        }
        let mut settings = Settings { unsafe_fixes: false, ..(*self.settings).clone() };
        settings.ignore.retain(|name| name != "format");
        match (&range, &mut settings.select) {
            (Some(_), _) => settings.select = Some(vec!["format".to_string()]),
            (None, Some(list)) => list.push("format".to_string()),
            (None, None) => settings.config.format.enabled = true,
        }
        let outcome = match optimize_contained(&self.text, &self.context, &settings) {
            Ok(outcome) if outcome.error.is_none() => outcome,
            _ => return None,
        };
        let Some(range) = range else { return Some(outcome.text) };
        // The formatter alone settles in one pass: its findings carry their edits over this text.
        let edits: Vec<&transforms::Edit> = outcome
            .findings
            .iter()
            .filter(|r| r.applied && r.finding.range.start <= range.end && range.start <= r.finding.range.end)
            .filter_map(|r| r.finding.fix.as_ref())
            .flat_map(|fix| fix.edits.iter())
            .collect();
        Some(transforms::fix::apply_edits(&self.text, &edits))
    }
}

#[derive(Default)]
struct Server {
    documents: HashMap<String, Document>,
}

impl Server {
    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            CodeActionRequest::METHOD => parse::<CodeActionParams>(request)
                .map(|params| serde_json::to_value(self.code_actions(&params))),
            Formatting::METHOD => parse::<DocumentFormattingParams>(request)
                .map(|params| serde_json::to_value(self.format(&params))),
            RangeFormatting::METHOD => parse::<DocumentRangeFormattingParams>(request)
                .map(|params| serde_json::to_value(self.format_range(&params))),
            method => {
                return Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("dockopt does not handle `{method}`"),
                )
            }
        };
        match result {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(e)) => error_response(id, ErrorCode::InternalError, e.to_string()),
            Err(message) => error_response(id, ErrorCode::InvalidParams, message),
        }
    }

    /// Handle a notification; the diagnostics to publish, if any.
    fn notification(&mut self, notification: Notification) -> Vec<PublishDiagnosticsParams> {
        let uri = match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = parse_note::<DidOpenTextDocumentParams>(notification) else {
                    return Vec::new();
                };
                let doc = params.text_document;
                let document = open_document(&doc.uri, doc.text, doc.version);
                self.documents.insert(key(&doc.uri), document);
                doc.uri
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = parse_note::<DidChangeTextDocumentParams>(notification) else {
                    return Vec::new();
                };
                let Some(document) = self.documents.get_mut(&key(&params.text_document.uri)) else {
                    return Vec::new();
                };
                for change in params.content_changes {
                    match change.range {
                        Some(range) => {
                            let map = LineMap::new(&document.text);
                            let start = map.offset(range.start);
                            let end = map.offset(range.end).max(start);
                            document.text.replace_range(start..end, &change.text);
                        }
                        None => document.text = change.text,
                    }
                }
                document.version = params.text_document.version;
                params.text_document.uri
            }
            DidSaveTextDocument::METHOD => {
                let Ok(params) = parse_note::<DidSaveTextDocumentParams>(notification) else {
                    return Vec::new();
                };
                let uri = params.text_document.uri;
                // The config or the build context may have changed: look again.
                let Some(old) = self.documents.remove(&key(&uri)) else {
                    return Vec::new();
                };
                let document = open_document(&uri, old.text, old.version);
                self.documents.insert(key(&uri), document);
                uri
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = parse_note::<DidCloseTextDocumentParams>(notification) else {
                    return Vec::new();
                };
                let uri = params.text_document.uri;
                self.documents.remove(&key(&uri));
                return vec![PublishDiagnosticsParams::new(uri, Vec::new(), None)];
            }
            _ => return Vec::new(),
        };
        match self.documents.get(&key(&uri)) {
            Some(document) => vec![PublishDiagnosticsParams::new(
                uri,
                diagnostics(document),
                Some(document.version),
            )],
            None => Vec::new(),
        }
    }

    fn code_actions(&self, params: &CodeActionParams) -> Option<Vec<CodeActionOrCommand>> {
        let uri = &params.text_document.uri;
        let document = self.documents.get(&key(uri))?;
        if document.config_error.is_some() {
            return Some(Vec::new());
        }
        let only = params.context.only.as_deref();
        let map = LineMap::new(&document.text);
        let wanted = map.offset(params.range.start)..map.offset(params.range.end);
        let mut actions = Vec::new();

        if kind_requested(only, &CodeActionKind::QUICKFIX) {
            let parsed = transforms::parse(&document.text).ok();
            let pragmas = parsed.as_ref().map(transforms::model::pragmas::Pragmas::parse);
            if let Ok(outcome) = document.analyze() {
                let asked: Vec<&Diagnostic> = params
                    .context
                    .diagnostics
                    .iter()
                    .filter(|d| d.source.as_deref() == Some(SOURCE))
                    .collect();
                for reported in &outcome.findings {
                    let own = diagnostic(&map, reported);
                    // The diagnostics the client asks about, each with its own finding's fix;
                    // without any, the findings under the cursor.
                    let wanted_here = if asked.is_empty() {
                        let range = &reported.finding.range;
                        range.start <= wanted.end && wanted.start <= range.end
                    } else {
                        asked.iter().any(|d| same_diagnostic(d, &own))
                    };
                    if wanted_here {
                        actions.extend(quick_fix(uri, &map, reported, own.clone()));
                        if let (Some(file), Some(pragmas)) = (&parsed, &pragmas) {
                            actions.extend(ignore_here(uri, &map, file, pragmas, reported, own));
                        }
                    }
                }
            }
        }

        let fix_all = CodeActionKind::new(FIX_ALL_KIND);
        if kind_requested(only, &fix_all) {
            if let Some(fixed) = document.safely_fixed() {
                let edits = minimal_edits(&document.text, &fixed);
                if !edits.is_empty() {
                    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                        title: "dockopt: apply every safe fix".to_string(),
                        kind: Some(fix_all),
                        edit: Some(workspace_edit(uri, edits)),
                        ..CodeAction::default()
                    }));
                }
            }
        }
        Some(actions)
    }

    /// Formatting = the safe fixes, then the formatter; no edits when the document does not parse.
    fn format(&self, params: &DocumentFormattingParams) -> Option<Vec<TextEdit>> {
        let document = self.documents.get(&key(&params.text_document.uri))?;
        Some(match document.formatted(None) {
            Some(formatted) => minimal_edits(&document.text, &formatted),
            None => Vec::new(),
        })
    }

    /// Range formatting = the formatter, on what the range touches.
    fn format_range(&self, params: &DocumentRangeFormattingParams) -> Option<Vec<TextEdit>> {
        let document = self.documents.get(&key(&params.text_document.uri))?;
        let map = LineMap::new(&document.text);
        let range = map.offset(params.range.start)..map.offset(params.range.end);
        Some(match document.formatted(Some(range)) {
            Some(formatted) => minimal_edits(&document.text, &formatted),
            None => Vec::new(),
        })
    }
}

/// The quick fix of one finding: its own edits over the document, marked "(unsafe)" when it could
/// change what the image does (never preferred, and never part of fix-all or formatting).
/// `None` when its edits are not known on this text (a fix of a later pass, an extra file).
fn quick_fix(
    uri: &Uri,
    map: &LineMap,
    reported: &transforms::ReportedFinding,
    diagnostic: Diagnostic,
) -> Option<CodeActionOrCommand> {
    let fix = reported.finding.fix.as_ref()?;
    if fix.edits.is_empty() {
        return None;
    }
    let edits = fix
        .edits
        .iter()
        .map(|e| TextEdit::new(map.range(e.range.clone()), e.replacement.clone()))
        .collect();
    let title = match fix.applicability {
        Applicability::Safe => format!("dockopt: {}", fix.title),
        Applicability::Unsafe => format!("dockopt: {} (unsafe)", fix.title),
    };
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(workspace_edit(uri, edits)),
        is_preferred: Some(fix.applicability == Applicability::Safe),
        ..CodeAction::default()
    }))
}

/// "Ignore this check here": the pragma above the finding's instruction (`None` when no
/// instruction holds it, or one of its pragmas names the check already).
fn ignore_here(
    uri: &Uri,
    map: &LineMap,
    file: &transforms::Dockerfile,
    pragmas: &transforms::model::pragmas::Pragmas,
    reported: &transforms::ReportedFinding,
    diagnostic: Diagnostic,
) -> Option<CodeActionOrCommand> {
    let finding = &reported.finding;
    let edit = pragmas.ignore_edit(file, finding.check, finding.range.start)?;
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!("dockopt: ignore {} here (# dockopt ignore=)", finding.check.id),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(workspace_edit(uri, vec![TextEdit::new(map.range(edit.range), edit.replacement)])),
        is_preferred: Some(false),
        ..CodeAction::default()
    }))
}

/// Whether the client's diagnostic is the one a finding publishes (clients send them back as
/// they got them, possibly without the optional fields).
fn same_diagnostic(asked: &Diagnostic, own: &Diagnostic) -> bool {
    asked.range == own.range && asked.code == own.code && asked.message == own.message
}

/// Whether the client asked for `kind` (no filter, or a filter that is `kind` or a parent of it).
fn kind_requested(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    let Some(only) = only else { return true };
    only.iter().any(|asked| {
        let (asked, kind) = (asked.as_str(), kind.as_str());
        kind == asked || kind.starts_with(&format!("{asked}."))
    })
}

fn workspace_edit(uri: &Uri, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

fn key(uri: &Uri) -> String {
    uri.as_str().to_string()
}

fn parse<P: serde::de::DeserializeOwned>(request: Request) -> Result<P, String> {
    serde_json::from_value(request.params).map_err(|e| format!("invalid params: {e}"))
}

fn parse_note<P: serde::de::DeserializeOwned>(notification: Notification) -> Result<P, String> {
    serde_json::from_value(notification.params).map_err(|e| format!("invalid params: {e}"))
}

fn error_response(id: RequestId, code: ErrorCode, message: String) -> Response {
    Response::new_err(id, code as i32, message)
}

/// A document with the config and build context of its path (defaults for a document that is
/// not a file, e.g. an unsaved buffer).
fn open_document(uri: &Uri, text: String, version: i32) -> Document {
    let dir = file_path(uri).and_then(|p| p.parent().map(Path::to_path_buf));
    let mut document = Document {
        text,
        version,
        settings: Arc::new(Settings::default()),
        context: Arc::new(Context::default()),
        config_error: None,
    };
    let Some(dir) = dir else {
        return document;
    };
    match Discovery::default().for_dir(&dir) {
        Ok(loaded) => {
            let flags = crate::cli::Common::default();
            let mut settings = crate::config::settings(&flags, &loaded.config);
            if let Some(path) = file_path(uri) {
                settings.editor = crate::editorconfig::for_path(&path);
            }
            document.settings = Arc::new(settings);
        }
        Err(e) => document.config_error = Some(e),
    }
    if dir.is_dir() {
        document.context = Arc::new(crate::discover::context(&dir, false));
    }
    document
}

/// The path of a `file:` URI (percent-decoded), or `None` for any other scheme.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file://host/path`: only a local (empty or localhost) host is a path here.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(rest)?;
    // `/C:/x` on Windows is `C:/x`.
    let bytes = decoded.as_bytes();
    let windows = bytes.len() >= 3 && bytes[2] == b':' && bytes[1].is_ascii_alphabetic();
    if cfg!(windows) && windows {
        return Some(PathBuf::from(&decoded[1..]));
    }
    Some(PathBuf::from(decoded))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn diagnostics(document: &Document) -> Vec<Diagnostic> {
    // A new, empty buffer is not an error to shout about while the user starts typing.
    if document.text.trim().is_empty() && document.config_error.is_none() {
        return Vec::new();
    }
    let map = LineMap::new(&document.text);
    if let Some(error) = &document.config_error {
        return vec![error_diagnostic(
            lsp_types::Range::default(),
            error.trim_end().to_string(),
            "config",
        )];
    }
    match document.analyze() {
        Ok(outcome) => {
            let mut list: Vec<Diagnostic> = outcome
                .findings
                .iter()
                .map(|reported| diagnostic(&map, reported))
                .collect();
            list.extend(outcome.warnings.iter().map(|w| Diagnostic {
                range: map.range(w.range.clone()),
                severity: Some(DiagnosticSeverity::WARNING),
                code: Some(NumberOrString::String("pragma".to_string())),
                source: Some(SOURCE.to_string()),
                message: w.message.clone(),
                ..Diagnostic::default()
            }));
            if let Some(error) = outcome.error {
                list.push(error_diagnostic(
                    map.range(error.offset..error.offset),
                    error.message,
                    "fix-loop",
                ));
            }
            list
        }
        Err(FileError::Syntax(error)) => {
            // From the error to the end of its line, so the editor underlines something.
            let start = error.offset.min(document.text.len());
            let end = document.text[start..]
                .find(['\r', '\n'])
                .map_or(document.text.len(), |n| start + n);
            vec![error_diagnostic(
                map.range(start..end),
                error.message,
                "syntax",
            )]
        }
        Err(error) => vec![error_diagnostic(
            lsp_types::Range::default(),
            error.message(),
            "internal",
        )],
    }
}

fn diagnostic(map: &LineMap, reported: &transforms::ReportedFinding) -> Diagnostic {
    let finding = &reported.finding;
    let mut message = finding.message.clone();
    if let Some(why) = &finding.why {
        message.push('\n');
        message.push_str(why.trim_end());
    }
    Diagnostic {
        range: map.range(finding.range.clone()),
        severity: Some(DiagnosticSeverity::WARNING),
        code: Some(NumberOrString::String(finding.check.id.to_string())),
        source: Some(SOURCE.to_string()),
        message,
        ..Diagnostic::default()
    }
}

fn error_diagnostic(range: lsp_types::Range, message: String, code: &str) -> Diagnostic {
    Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String(code.to_string())),
        source: Some(SOURCE.to_string()),
        message,
        ..Diagnostic::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_become_paths() {
        let uri: Uri = "file:///tmp/my%20app/Dockerfile".parse().unwrap();
        assert_eq!(
            file_path(&uri),
            Some(PathBuf::from("/tmp/my app/Dockerfile"))
        );
        let uri: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(file_path(&uri), None);
        assert_eq!(percent_decode("a%2"), None);
    }

    #[test]
    fn code_action_kinds_match_by_prefix() {
        let fix_all = CodeActionKind::new(FIX_ALL_KIND);
        assert!(kind_requested(None, &fix_all));
        assert!(kind_requested(
            Some(&[CodeActionKind::SOURCE_FIX_ALL]),
            &fix_all
        ));
        assert!(kind_requested(Some(&[CodeActionKind::SOURCE]), &fix_all));
        assert!(!kind_requested(Some(&[CodeActionKind::QUICKFIX]), &fix_all));
        assert!(!kind_requested(
            Some(&[CodeActionKind::new("source.fix")]),
            &fix_all
        ));
    }
}
