//! `dockopt lsp` driven over stdio with Content-Length framing, as an editor would:
//! initialize → didOpen → publishDiagnostics → codeAction → formatting → didChange → shutdown/exit.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// `ENV A 🐳`: the whale is two UTF-16 units, one code point, four bytes.
const DIRTY: &str = "FROM debian:bookworm\nMAINTAINER Jane <j@x.org>\nENV A 🐳\nADD app /app\n";
const FIXED: &str =
    "FROM debian:bookworm\nLABEL maintainer=\"Jane <j@x.org>\"\nENV A=\"🐳\"\nCOPY app /app\n";
const MALFORMED: &str = "FROM debian:bookworm\nRUN <<EOF\necho hi\n";
const TIMEOUT: Duration = Duration::from_secs(20);

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start(cwd: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dockopt"))
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Send a request and wait for its response (notifications that arrive first are kept).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let response = self.receive(|m| m["id"] == id && m.get("method").is_none());
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The next message that matches, failing after TIMEOUT.
    fn receive(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .messages
                .recv_timeout(TIMEOUT)
                .expect("the server answered in time");
            if wanted(&message) {
                return message;
            }
        }
    }

    fn diagnostics(&mut self, uri: &str) -> Value {
        let message = self.receive(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"].clone()
    }

    fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "dockerfile", "version": 1, "text": text } }),
        );
        self.diagnostics(uri)
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.display().to_string().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// Byte offset of an LSP position (UTF-16 characters).
fn offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let character = position["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// Apply LSP text edits (non-overlapping) to `text`.
fn apply(text: &str, edits: &Value) -> String {
    let mut edits: Vec<(usize, usize, &str)> = edits
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort();
    let mut out = text.to_string();
    for (start, end, new_text) in edits.into_iter().rev() {
        out.replace_range(start..end, new_text);
    }
    out
}

fn range(start: (u64, u64), end: (u64, u64)) -> Value {
    json!({
        "start": { "line": start.0, "character": start.1 },
        "end": { "line": end.0, "character": end.1 },
    })
}

#[test]
fn an_editor_session() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    };
    // Only `modernize`, so transforms still being written do not change what this test sees.
    write("dockopt.toml", "select = [\"modernize\"]\n");
    let doc = write("my app/Dockerfile", DIRTY);
    write("my app/app/main.py", "print('hi')\n");
    let quiet = write("quiet/Dockerfile", DIRTY);
    write(
        "quiet/dockopt.toml",
        "select = [\"modernize\"]\nignore = [\"modernize\"]\n",
    );
    let broken = write("broken/Dockerfile", DIRTY);
    write("broken/dockopt.toml", "selectt = [\"modernize\"]\n");
    let uri = file_uri(&doc);

    let mut server = Server::start(root);
    let init = server.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    let capabilities = &init["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-16");
    assert_eq!(capabilities["documentFormattingProvider"], true);
    assert_eq!(capabilities["documentRangeFormattingProvider"], true);
    assert_eq!(
        capabilities["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll.dockopt"])
    );
    assert_eq!(init["serverInfo"]["name"], "dockopt");
    server.notify("initialized", json!({}));

    // Diagnostics on open, with UTF-16 columns.
    let published = server.open(&uri, DIRTY);
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 3, "{published}");
    // The code is the check id, what `# dockopt ignore=` and `--ignore` take.
    let codes: Vec<&str> = diagnostics.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["modernize/maintainer", "modernize/legacy-env", "modernize/add-to-copy"]);
    for d in diagnostics {
        assert_eq!(d["source"], "dockopt");
        assert_eq!(d["severity"], 2);
    }
    assert_eq!(diagnostics[0]["range"], range((1, 0), (1, 10)));
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("MAINTAINER is deprecated: use `LABEL maintainer=...`\nregistries"));
    assert_eq!(
        diagnostics[1]["range"],
        range((2, 0), (2, 8)),
        "ENV A 🐳 is 8 UTF-16 units"
    );
    assert_eq!(diagnostics[2]["range"], range((3, 0), (3, 3)));

    // A quick fix for the finding under the cursor, "ignore it here", and the fix-all action.
    let actions = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": range((2, 5), (2, 5)),
            "context": { "diagnostics": [diagnostics[1]] },
        }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 3, "{actions:?}");
    let quickfix = &actions[0];
    assert_eq!(quickfix["kind"], "quickfix");
    assert_eq!(quickfix["title"], "dockopt: Write `A=\"🐳\"`");
    assert_eq!(quickfix["isPreferred"], true);
    assert_eq!(quickfix["diagnostics"][0]["range"], diagnostics[1]["range"]);
    let edits = &quickfix["edit"]["changes"][&uri];
    assert_eq!(
        edits,
        &json!([{ "range": range((2, 4), (2, 8)), "newText": "A=\"🐳\"" }])
    );
    assert_eq!(
        apply(DIRTY, edits),
        DIRTY.replace("ENV A 🐳", "ENV A=\"🐳\"")
    );
    // Ignore it here: the pragma above the instruction; applied, the finding is gone (suppressed).
    let ignore = &actions[1];
    assert_eq!(ignore["kind"], "quickfix");
    assert_eq!(ignore["title"], "dockopt: ignore modernize/legacy-env here (# dockopt ignore=)");
    assert_eq!(ignore["isPreferred"], false);
    let ignored = apply(DIRTY, &ignore["edit"]["changes"][&uri]);
    assert_eq!(ignored, DIRTY.replace("ENV A 🐳", "# dockopt ignore=modernize/legacy-env\nENV A 🐳"));
    assert_eq!(actions[2]["kind"], "source.fixAll.dockopt");
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": ignored }] }),
    );
    let codes: Vec<Value> = server.diagnostics(&uri)["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].clone()).collect();
    assert_eq!(codes, [json!("modernize/maintainer"), json!("modernize/add-to-copy")]);
    // A pragma naming an unknown check is a warning diagnostic.
    let typo = DIRTY.replace("ENV A 🐳", "# dockopt ignore=modernize/legacy-evn\nENV A 🐳");
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": typo }] }),
    );
    let published = server.diagnostics(&uri);
    let pragma = published["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "pragma").expect("a pragma warning").clone();
    assert_eq!((pragma["severity"].clone(), pragma["range"]["start"].clone()), (json!(2), json!({ "line": 2, "character": 0 })));
    assert!(pragma["message"].as_str().unwrap().contains("did you mean `modernize/legacy-env`?"), "{pragma}");
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": DIRTY }] }),
    );
    server.diagnostics(&uri);

    // Only what was asked for: `source.fixAll` covers `source.fixAll.dockopt`.
    let actions = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": range((0, 0), (0, 0)),
            "context": { "diagnostics": [], "only": ["source.fixAll"] },
        }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["title"], "dockopt: apply every safe fix");
    assert_eq!(apply(DIRTY, &actions[0]["edit"]["changes"][&uri]), FIXED);

    // Formatting applies the safe fixes, touching only the changed lines.
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(apply(DIRTY, &edits), FIXED);
    assert!(edits
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["range"]["start"]["line"] != 0));

    // After the edit: clean, and formatting again changes nothing.
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 5 }, "contentChanges": [{ "text": FIXED }] }),
    );
    let published = server.diagnostics(&uri);
    assert_eq!(published["version"], 5);
    assert_eq!(published["diagnostics"], json!([]));
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits, json!([]));

    // A document that does not parse: the error is a diagnostic, formatting does nothing.
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 6 }, "contentChanges": [{ "text": MALFORMED }] }),
    );
    let published = server.diagnostics(&uri);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["severity"], 1);
    assert_eq!(diagnostics[0]["code"], "syntax");
    assert_eq!(diagnostics[0]["range"], range((1, 0), (1, 9)));
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("unterminated heredoc"));
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits, json!([]));
    let actions = server.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": range((1, 0), (1, 0)), "context": { "diagnostics": [] } }),
    );
    assert_eq!(actions, json!([]));

    // The config is the nearest dockopt.toml above each document.
    let published = server.open(&file_uri(&quiet), DIRTY);
    assert_eq!(
        published["diagnostics"],
        json!([]),
        "modernize is ignored there"
    );
    let published = server.open(&file_uri(&broken), DIRTY);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["code"], "config");
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown field `selectt`"));

    // A closed document's diagnostics are cleared.
    server.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": file_uri(&quiet) } }),
    );
    assert_eq!(
        server.diagnostics(&file_uri(&quiet))["diagnostics"],
        json!([])
    );

    // An unknown request is an error, not a crash.
    let id = server.next_id;
    server.next_id += 1;
    server
        .send(json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": {} }));
    let response = server.receive(|m| m["id"] == id);
    assert_eq!(response["error"]["code"], -32601);

    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    let status = wait(&mut server.child);
    assert_eq!(status, Some(0));
}

/// Wait for the server to exit (at most TIMEOUT); its exit code.
fn wait(child: &mut Child) -> Option<i32> {
    let deadline = std::time::Instant::now() + TIMEOUT;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// Three findings on two RUNs, one of them Unsafe: the Safe merge of the RUNs, the Safe apt lists
/// cleanup and pip cache flag, and the Unsafe `--no-install-recommends`.
const RUNS: &str = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc\nRUN pip install flask\n";

fn start_in(root: &Path) -> Server {
    let mut server = Server::start(root);
    server.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    server.notify("initialized", json!({}));
    server
}

/// The edits `dockopt check --format json` gives each finding, keyed by (transform, message), as
/// LSP text edits (the text is ASCII: code points are UTF-16 units).
fn cli_edits(dir: &Path) -> Vec<((String, String), Value)> {
    let output = Command::new(env!("CARGO_BIN_EXE_dockopt"))
        .args(["check", "--format", "json", "Dockerfile"])
        .current_dir(dir)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let position = |p: &Value| json!({ "line": p["line"].as_u64().unwrap() - 1, "character": p["column"].as_u64().unwrap() - 1 });
    doc["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let edits: Vec<Value> = f["fix"]["edits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| json!({ "range": { "start": position(&e["start"]), "end": position(&e["end"]) }, "newText": e["content"] }))
                .collect();
            let key = (f["check"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string());
            (key, Value::from(edits))
        })
        .collect()
}

/// Each diagnostic's quick fix is its own finding's fix (its edits, not a neighbour's), Unsafe
/// ones are offered marked "(unsafe)", and neither fix-all nor formatting applies them.
#[test]
fn each_diagnostic_gets_its_own_quick_fix() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("dockopt.toml"), "select = [\"run-cleanup\", \"merge-runs\"]\n").unwrap();
    let doc = root.join("Dockerfile");
    std::fs::write(&doc, RUNS).unwrap();
    let uri = file_uri(&doc);
    let expected = cli_edits(root);

    let mut server = start_in(root);
    let published = server.open(&uri, RUNS);
    let diagnostics = published["diagnostics"].as_array().unwrap().clone();
    assert_eq!(diagnostics.len(), 4, "{published}");
    let mut unsafe_seen = false;
    for d in &diagnostics {
        let message = d["message"].as_str().unwrap();
        let first_line = message.lines().next().unwrap();
        let key = (d["code"].as_str().unwrap().to_string(), first_line.to_string());
        let own = &expected.iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("{key:?} in {expected:?}")).1;
        // As an editor asks: the range of the diagnostic, with that diagnostic in the context.
        let actions = server.request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": d["range"],
                "context": { "diagnostics": [d], "only": ["quickfix"] },
            }),
        );
        let (ignore, actions): (Vec<&Value>, Vec<&Value>) =
            actions.as_array().unwrap().iter().partition(|a| a["title"].as_str().is_some_and(|t| t.starts_with("dockopt: ignore ")));
        assert_eq!(actions.len(), 1, "{key:?}: one quick fix, its own: {actions:?}");
        assert_eq!(ignore.len(), 1, "{key:?}: one way to ignore it here: {ignore:?}");
        assert_eq!(ignore[0]["title"], format!("dockopt: ignore {} here (# dockopt ignore=)", key.0));
        let action = actions[0];
        assert_eq!(action["diagnostics"], json!([d]), "{key:?}");
        assert_eq!(&action["edit"]["changes"][&uri], own, "{key:?}: the finding's own edits");
        let title = action["title"].as_str().unwrap();
        if message.contains("--no-install-recommends") {
            unsafe_seen = true;
            assert!(title.ends_with(" (unsafe)"), "{title}");
            assert_eq!(action["isPreferred"], false);
        } else {
            assert!(!title.contains("unsafe"), "{title}");
            assert_eq!(action["isPreferred"], true);
        }
    }
    assert!(unsafe_seen, "the Unsafe finding is offered as a quick fix");

    // Without diagnostics in the context: the findings under the cursor, each with its own fix.
    let actions = server.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": range((2, 6), (2, 6)), "context": { "diagnostics": [], "only": ["quickfix"] } }),
    );
    let titles: Vec<&str> = actions.as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert!(titles.iter().any(|t| t.contains("--no-cache-dir")), "{titles:?}");

    // Fix-all and formatting apply the Safe fixes only: what `dockopt fix -` writes.
    let fixed = Command::new(env!("CARGO_BIN_EXE_dockopt"))
        .args(["fix", "-", "--stdin-filename", "Dockerfile"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(RUNS.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let fixed = String::from_utf8(fixed.stdout).unwrap();
    assert!(!fixed.contains("--no-install-recommends") && fixed.contains("--no-cache-dir"), "{fixed}");
    let actions = server.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": range((0, 0), (0, 0)), "context": { "diagnostics": [], "only": ["source.fixAll"] } }),
    );
    assert_eq!(apply(RUNS, &actions[0]["edit"]["changes"][&uri]), fixed);
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(apply(RUNS, &edits), fixed);

    // An empty buffer: no diagnostics, and formatting is no error (no edits).
    let empty = file_uri(&root.join("new/Dockerfile"));
    let published = server.open(&empty, "");
    assert_eq!(published["diagnostics"], json!([]));
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": empty }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits, json!([]));

    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(wait(&mut server.child), Some(0));
}

/// A client that sends broken frames: each is answered (`-32700` / `-32600` when its request id
/// can be read) or skipped, and the server keeps serving the request that follows.
#[test]
fn bad_frames_are_answered_or_skipped_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dockopt.toml"), "select = [\"modernize\"]\n").unwrap();
    let doc = dir.path().join("Dockerfile");
    std::fs::write(&doc, DIRTY).unwrap();
    let uri = file_uri(&doc);
    let mut server = Server::start(dir.path());
    let raw = |server: &mut Server, bytes: &[u8]| {
        server.stdin.write_all(bytes).unwrap();
        server.stdin.flush().unwrap();
    };
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());

    // Before the handshake too.
    raw(&mut server, frame("{oops").as_bytes());
    server.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    server.notify("initialized", json!({}));
    server.open(&uri, DIRTY);

    let cases: Vec<(&str, Vec<u8>, Option<(Value, i64)>)> = vec![
        ("invalid JSON, id readable", frame(r#"{"jsonrpc":"2.0","id":900,"method":"textDocument/formatting","params":{"#).into_bytes(), Some((json!(900), -32700))),
        ("invalid JSON, string id", frame(r#"{"jsonrpc":"2.0","params":{"id":1,"x":[1]},"id":"a-7","method":"#).into_bytes(), Some((json!("a-7"), -32700))),
        ("invalid JSON, no id", frame("{not json}").into_bytes(), None),
        ("an empty array", frame("[]").into_bytes(), None),
        ("a number", frame("42").into_bytes(), None),
        ("an id but no method", frame(r#"{"jsonrpc":"2.0","id":901}"#).into_bytes(), Some((json!(901), -32600))),
        ("no Content-Length", b"Content-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":902,\"method\":\"shutdown\"}".to_vec(), None),
        ("a negative Content-Length", b"Content-Length: -5\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":903,\"method\":\"shutdown\"}".to_vec(), None),
        ("a Content-Length that is not a number", b"Content-Length: ten\r\n\r\n{}".to_vec(), None),
        // The request inside must not run: it is cut, and its tail is not a frame.
        ("too short a Content-Length", b"Content-Length: 10\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":904,\"method\":\"shutdown\"}".to_vec(), None),
        // Far above the limit: refused, not allocated (lsp-server would try, and abort).
        ("a huge Content-Length", b"Content-Length: 1000000000000\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":905,\"method\":\"shutdown\"}".to_vec(), None),
        ("a line that is no header", b"hello there\r\n".to_vec(), None),
        ("garbage, then a header on the same line", b"}}garbage".to_vec(), None),
    ];
    for (what, bytes, reply) in cases {
        raw(&mut server, &bytes);
        if let Some((id, code)) = reply {
            let response = server.receive(|m| m["id"] == id);
            assert_eq!(response["error"]["code"], code, "{what}: {response}");
        }
        // The next ordinary request is served, and nothing before it was taken for a message.
        let edits = server.request("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }));
        assert_eq!(apply(DIRTY, &edits), FIXED, "{what}");
    }
    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(wait(&mut server.child), Some(0));
}

/// The framing layer alone, on byte streams no editor would send.
#[test]
fn the_frame_reader_resynchronises_on_the_next_header() {
    use dockopt::lsp::transport::read_all;
    let ok = r#"{"jsonrpc":"2.0","id":1,"method":"m"}"#;
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
    for (what, stream) in [
        ("header split over reads", format!("xx{}", frame(ok))),
        ("blank lines before a header", format!("\r\n\r\n{}", frame(ok))),
        ("lower-case header and a Content-Type", format!("content-length: {}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{ok}", ok.len())),
        ("a body of noise without newline before", format!("Content-Length: 3\r\n\r\n{{{{{{{}", frame(ok))),
    ] {
        // A one-byte buffer: every header straddles reads.
        let mut input = std::io::BufReader::with_capacity(1, stream.as_bytes());
        let (messages, received) = crossbeam_channel::unbounded();
        let (replies, _) = crossbeam_channel::unbounded();
        read_all(&mut input, &messages, &replies, &mut std::io::sink()).unwrap();
        let got: Vec<_> = received.try_iter().collect();
        assert_eq!(got.len(), 1, "{what}: {got:?}");
    }
}

/// `textDocument/formatting` = the safe fixes, then the formatter (with the document's
/// `.editorconfig`); `textDocument/rangeFormatting` = the formatter on what the range touches.
#[test]
fn formatting_and_range_formatting() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("dockopt.toml"), "select = [\"modernize\"]\n").unwrap();
    std::fs::write(root.join(".editorconfig"), "root = true\n[Dockerfile]\nindent_size = 2\n").unwrap();
    let doc = root.join("Dockerfile");
    let text = "from debian:bookworm\nmaintainer Jane\nrun a && \\\n      b\nrun c && \\\n      d\n";
    std::fs::write(&doc, text).unwrap();
    let uri = file_uri(&doc);

    let mut server = Server::start(root);
    let init = server.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    assert_eq!(init["capabilities"]["documentRangeFormattingProvider"], true);
    server.notify("initialized", json!({}));
    server.open(&uri, text);

    let options = json!({ "tabSize": 4, "insertSpaces": true });
    let edits = server.request("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": options }));
    assert_eq!(
        apply(text, &edits),
        "FROM debian:bookworm\nLABEL maintainer=\"Jane\"\nRUN a \\\n  && b\nRUN c \\\n  && d\n"
    );
    // Only the first RUN (lines 2-3) is in the range: the rest stays as written, fixes included.
    let edits = server.request(
        "textDocument/rangeFormatting",
        json!({ "textDocument": { "uri": uri }, "range": range((2, 0), (3, 3)), "options": options }),
    );
    assert_eq!(apply(text, &edits), "from debian:bookworm\nmaintainer Jane\nRUN a \\\n  && b\nrun c && \\\n      d\n");

    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(wait(&mut server.child), Some(0));
}
