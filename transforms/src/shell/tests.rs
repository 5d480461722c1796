use super::*;

/// Names (as written, `?` when not static) of all commands, in order.
fn names(script: &Script) -> Vec<String> {
    script
        .commands()
        .iter()
        .map(|command| command.name().unwrap_or("?").to_owned())
        .collect()
}

fn literals(words: &[ShellWord]) -> Vec<Option<&str>> {
    words.iter().map(|word| word.literal.as_deref()).collect()
}

/// The text of each item of each top-level step.
fn chain_texts(script: &Script) -> Vec<Vec<&str>> {
    script
        .top_level()
        .iter()
        .map(|step| {
            step.items
                .iter()
                .map(|item| script.text(&item.range))
                .collect()
        })
        .collect()
}

fn ops(step: &Step) -> Vec<Option<Op>> {
    step.items.iter().map(|item| item.op_before).collect()
}

fn state_kinds(script: &Script) -> Vec<StateKind> {
    script
        .state_changes()
        .iter()
        .map(|change| change.kind.clone())
        .collect()
}

/// Every range in the model slices the source, and words/commands read back as their raw text.
fn assert_ranges_consistent(script: &Script) {
    let source = script.source();
    let fits =
        |range: &Range<usize>| range.start <= range.end && source.get(range.clone()).is_some();
    for command in script.commands() {
        assert!(fits(&command.range), "{command:?}");
        for word in command.words.iter().chain(&command.assignments) {
            assert!(fits(&word.range));
            assert_eq!(&source[word.range.clone()], word.raw);
            assert!(command.range.start <= word.range.start && word.range.end <= command.range.end);
        }
        for redirect in &command.redirects {
            assert!(fits(&redirect.range));
        }
    }
    let mut previous = 0;
    for command in script.commands() {
        assert!(command.range.start >= previous, "commands out of order");
        previous = command.range.start;
    }
    for step in script.top_level() {
        assert!(fits(&step.range));
        for item in &step.items {
            assert!(fits(&item.range));
            assert!(step.range.start <= item.range.start && item.range.end <= step.range.end);
            for &index in &item.command_indices {
                assert!(index < script.commands().len());
            }
        }
    }
    for change in script.state_changes() {
        assert!(fits(&change.range));
    }
    for heredoc in script.heredocs() {
        assert!(fits(&heredoc.marker) && fits(&heredoc.body) && fits(&heredoc.end));
    }
    for comment in script.comments() {
        assert!(fits(comment));
        assert!(source[comment.clone()].starts_with('#'));
    }
}

fn parse(source: &str) -> Script {
    let script = parse_script(source);
    assert_ranges_consistent(&script);
    script
}

#[test]
fn empty_and_comment_only_scripts_have_no_commands() {
    for source in ["", "   \n\t", "# only a comment", "# one\n# two\n"] {
        let script = parse(source);
        assert!(script.commands().is_empty(), "{source:?}");
        assert!(script.top_level().is_empty());
        assert!(!script.is_and_chain());
        assert!(!script.has_errors());
        assert!(script.state_changes().is_empty());
    }
    assert_eq!(parse("# one\n# two\n").comments(), &[0..5, 6..11]);
}

#[test]
fn typical_apt_run_body() {
    let source = "set -eux; apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*";
    let script = parse(source);
    assert!(!script.has_errors());
    assert_eq!(names(&script), ["set", "apt-get", "apt-get", "rm"]);
    assert_eq!(
        chain_texts(&script),
        vec![
            vec!["set -eux"],
            vec![
                "apt-get update",
                "apt-get install -y --no-install-recommends curl ca-certificates",
                "rm -rf /var/lib/apt/lists/*"
            ]
        ]
    );
    assert_eq!(
        ops(&script.top_level()[1]),
        [None, Some(Op::And), Some(Op::And)]
    );
    assert!(!script.is_and_chain(), "two steps");
    assert_eq!(state_kinds(&script), [StateKind::Set]);

    let install = &script.commands()[2];
    assert_eq!(install.subcommand(), Some("install"));
    assert!(install.has_flag(Some('y'), Some("yes")));
    assert!(install.has_flag(None, Some("no-install-recommends")));
    assert!(!install.has_flag(Some('q'), None));
    assert!(install.has_word("curl"));
    assert_eq!((install.step, install.item), (Some(1), Some(1)));
    assert_eq!(script.top_level()[1].items[1].command_indices, [2]);

    let rm = &script.commands()[3];
    assert_eq!(rm.args()[1].raw, "/var/lib/apt/lists/*");
    assert_eq!(rm.args()[1].literal, None, "a glob is not static");
    assert!(rm.has_flag(Some('r'), Some("recursive")) && rm.has_flag(Some('f'), None));

    let set = &script.commands()[0];
    assert!(
        set.has_flag(Some('e'), None)
            && set.has_flag(Some('u'), None)
            && set.has_flag(Some('x'), None)
    );
}

#[test]
fn and_chain_detection() {
    assert!(parse("a && b && c").is_and_chain());
    assert!(parse("a").is_and_chain());
    assert!(parse("a | b && c").is_and_chain());
    assert!(parse("a && (cd x && make) && if x; then y; fi").is_and_chain());
    assert!(parse("a && b # trailing comment").is_and_chain());
    assert!(!parse("a; b").is_and_chain());
    assert!(!parse("a\nb").is_and_chain());
    assert!(!parse("a || b").is_and_chain());
    assert!(!parse("a && b || c").is_and_chain());
    assert!(!parse("a && b &").is_and_chain());
    assert!(!parse("").is_and_chain());
}

#[test]
fn pipelines_are_single_items() {
    let script = parse("a | b && c");
    assert!(script.has_pipeline());
    let step = &script.top_level()[0];
    assert_eq!(chain_texts(&script), vec![vec!["a | b", "c"]]);
    assert_eq!(step.items[0].kind, ItemKind::Pipeline);
    assert_eq!(step.items[0].command_indices, [0, 1]);
    assert_eq!(step.items[1].kind, ItemKind::Simple);
    let [a, b, c] = script.commands() else {
        panic!()
    };
    assert!(a.in_pipeline && b.in_pipeline && !c.in_pipeline);
    assert_eq!((b.step, b.item), (Some(0), Some(0)));
    assert!(!parse("a && b").has_pipeline());
    assert!(parse("x && $(a | b)").has_pipeline());
    assert!(parse("a |& b").has_pipeline());
}

#[test]
fn separators_make_steps_and_background_is_recorded() {
    let script = parse("a || b; ! c & d\ne");
    assert_eq!(
        chain_texts(&script),
        vec![vec!["a", "b"], vec!["! c"], vec!["d"], vec!["e"]]
    );
    let steps = script.top_level();
    assert_eq!(ops(&steps[0]), [None, Some(Op::Or)]);
    assert!(steps[1].background && !steps[0].background && !steps[2].background);
    assert!(steps[1].items[0].negated);
    assert!(script.commands()[2].negated);
    assert!(
        script.commands()[0].in_condition,
        "`a` is guarded by `|| b`"
    );
    assert!(!script.commands()[1].in_condition);
}

#[test]
fn or_guards_every_earlier_item() {
    let script = parse("a && b || c && d");
    let guarded: Vec<bool> = script.commands().iter().map(|c| c.in_condition).collect();
    assert_eq!(guarded, [true, true, false, false]);
}

#[test]
fn if_statement() {
    let script = parse("if [ -f x ]; then a; elif b; then c; else d; fi");
    assert_eq!(names(&script), ["[", "a", "b", "c", "d"]);
    let conditions: Vec<bool> = script.commands().iter().map(|c| c.in_condition).collect();
    assert_eq!(conditions, [true, false, true, false, false]);
    let test = &script.commands()[0];
    assert_eq!(test.kind, CommandKind::Test);
    assert_eq!(
        literals(&test.words),
        [Some("["), Some("-f"), Some("x"), Some("]")]
    );
    let step = &script.top_level()[0];
    assert_eq!(step.items.len(), 1);
    assert_eq!(step.items[0].kind, ItemKind::Compound);
    assert_eq!(step.items[0].command_indices, [0, 1, 2, 3, 4]);
    assert!(
        script.commands().iter().all(|c| c.step.is_none()),
        "nested, not chain items"
    );
}

#[test]
fn subshell_with_cd_does_not_leak_state() {
    let script = parse("(cd /app && make)");
    assert_eq!(names(&script), ["cd", "make"]);
    assert!(script.commands().iter().all(|c| c.in_subshell));
    assert!(script.state_changes().is_empty());
    assert_eq!(script.top_level()[0].items[0].kind, ItemKind::Compound);

    let script = parse("cd /app && make");
    assert_eq!(script.state_changes().len(), 1);
    let change = &script.state_changes()[0];
    assert_eq!(
        (change.kind.clone(), script.text(&change.range)),
        (StateKind::Cd, "cd /app")
    );
    assert_eq!(change.command, Some(0));
}

#[test]
fn for_loop() {
    let script = parse("for f in *; do x \"$f\"; done");
    assert_eq!(names(&script), ["x"]);
    assert!(script.commands()[0].in_loop);
    assert_eq!(state_kinds(&script), [StateKind::LoopVariable]);
    let script = parse("while read line; do echo \"$line\"; done < list.txt");
    assert_eq!(names(&script), ["read", "echo"]);
    assert!(script.commands().iter().all(|c| c.in_loop));
    assert!(script.commands()[0].in_condition && !script.commands()[1].in_condition);
    assert_eq!(chain_texts(&script), vec![vec![script.source()]]);
    let script = parse("until false; do :; done");
    assert_eq!(names(&script), ["false", ":"]);
    assert!(script.commands()[0].in_condition);
}

#[test]
fn assignments() {
    let script = parse("FOO=bar BAZ=\"q x\" cmd arg");
    let [command] = script.commands() else {
        panic!()
    };
    assert_eq!(command.name(), Some("cmd"));
    assert_eq!(
        literals(&command.assignments),
        [Some("FOO=bar"), Some("BAZ=q x")]
    );
    assert_eq!(literals(command.args()), [Some("arg")]);
    assert!(
        script.state_changes().is_empty(),
        "prefix assignments only affect `cmd`"
    );

    let script = parse("x=1; y+=2 z=$(which foo)");
    assert_eq!(names(&script), ["?", "?", "which"]);
    assert_eq!(script.commands()[0].kind, CommandKind::Assignment);
    assert_eq!(script.commands()[1].assignments.len(), 2);
    assert!(script.commands()[2].in_substitution);
    assert_eq!(
        state_kinds(&script),
        [StateKind::BareAssignment, StateKind::BareAssignment]
    );
}

#[test]
fn declarations_and_unset() {
    let script = parse("export A=1 B; readonly C=2; local d; unset A B");
    assert_eq!(names(&script), ["export", "readonly", "local", "unset"]);
    let export = &script.commands()[0];
    assert_eq!(export.kind, CommandKind::Declaration);
    assert_eq!(literals(export.args()), [Some("A=1"), Some("B")]);
    assert_eq!(script.commands()[3].kind, CommandKind::Unset);
    assert_eq!(
        state_kinds(&script),
        [
            StateKind::Export,
            StateKind::Declare,
            StateKind::Declare,
            StateKind::Unset
        ]
    );
}

#[test]
fn state_changing_builtins() {
    let script = parse(
        ". ./env.sh; source x; umask 022; alias ll='ls -l'; exec >log 2>&1; trap 'rm x' EXIT; \
         shopt -s globstar; ulimit -n 1024; pushd /x; popd; eval \"$X\"; command cd /y; f() { cd z; }; exit 0",
    );
    assert_eq!(
        state_kinds(&script),
        [
            StateKind::Source,
            StateKind::Source,
            StateKind::Umask,
            StateKind::Alias,
            StateKind::Exec,
            StateKind::Trap,
            StateKind::Shopt,
            StateKind::Ulimit,
            StateKind::PushdPopd,
            StateKind::PushdPopd,
            StateKind::Eval,
            StateKind::Cd,
            StateKind::FunctionDef,
            StateKind::Exit,
        ]
    );
    let function = &script.state_changes()[12];
    assert_eq!(script.text(&function.range), "f() { cd z; }");
    let cd_in_function = script.commands().iter().find(|c| c.has_word("z")).unwrap();
    assert!(cd_in_function.in_function);
    assert_eq!(state_kinds(&parse("sudo cd /x; echo $(cd /y)")), []);
    assert_eq!(
        state_kinds(&parse("read -r x")),
        [StateKind::Other("read".into())]
    );
    assert_eq!(
        state_kinds(&parse("printf x; printf -v v x")),
        [StateKind::Other("printf".into())]
    );
}

#[test]
fn dot_source() {
    let script = parse(". ./env.sh");
    assert_eq!(script.commands()[0].name(), Some("."));
    assert_eq!(literals(script.commands()[0].args()), [Some("./env.sh")]);
    assert_eq!(state_kinds(&script), [StateKind::Source]);
}

#[test]
fn heredoc_with_redirect() {
    let source = "cat <<EOF > /x\nhi\nEOF";
    let script = parse(source);
    assert!(script.has_heredoc());
    assert!(!script.has_errors());
    let [cat] = script.commands() else { panic!() };
    assert_eq!(script.text(&cat.range), "cat <<EOF > /x");
    assert_eq!(cat.redirects.len(), 2);
    assert_eq!(cat.redirects[0].operator, "<<");
    assert_eq!(cat.redirects[0].target.as_ref().unwrap().raw, "EOF");
    assert_eq!(cat.redirects[1].operator, ">");
    assert_eq!(cat.redirects[1].target.as_ref().unwrap().raw, "/x");
    let [heredoc] = script.heredocs() else {
        panic!()
    };
    assert_eq!(script.text(&heredoc.marker), "<<EOF");
    assert_eq!(script.text(&heredoc.body), "hi\n");
    assert_eq!(script.text(&heredoc.end), "EOF");
    assert_eq!(heredoc.delimiter, "EOF");
    assert!(!heredoc.quoted && !heredoc.strip_tabs);
    assert_eq!(heredoc.command, Some(0));
    assert_eq!(chain_texts(&script), vec![vec!["cat <<EOF > /x"]]);
    assert_eq!(script.text(&script.top_level()[0].range), source);
}

#[test]
fn heredoc_followed_by_chain_on_its_line() {
    let script = parse("a && cat <<-'EOF' > f && b | c || d\n\tx $(date)\nEOF\ne");
    assert_eq!(
        names(&script),
        ["a", "cat", "b", "c", "d", "e"],
        "quoted heredoc: no `$(date)`"
    );
    assert_eq!(
        chain_texts(&script),
        vec![vec!["a", "cat <<-'EOF' > f", "b | c", "d"], vec!["e"]]
    );
    assert_eq!(
        ops(&script.top_level()[0]),
        [None, Some(Op::And), Some(Op::And), Some(Op::Or)]
    );
    let heredoc = &script.heredocs()[0];
    assert!(heredoc.quoted && heredoc.strip_tabs);
    assert_eq!(heredoc.delimiter, "EOF");
    assert_eq!(heredoc.command, Some(1));
    assert_eq!(script.top_level()[0].items[1].command_indices, [1]);

    let script = parse("cat <<EOF > f && b\nx $(date)\nEOF");
    assert_eq!(names(&script), ["cat", "b", "date"]);
    assert!(script.commands()[2].in_substitution);
    assert_eq!(
        script.top_level()[0].items[0].command_indices,
        [0, 2],
        "body belongs to `cat`"
    );

    let script = parse("cat <<EOF | sh && b\nhi\nEOF");
    assert_eq!(chain_texts(&script), vec![vec!["cat <<EOF | sh", "b"]]);
    assert_eq!(script.top_level()[0].items[0].kind, ItemKind::Pipeline);
    assert!(script.is_and_chain());
}

#[test]
fn redirections_belong_to_their_command() {
    let script = parse("a > /dev/null 2>&1 && b");
    let a = &script.commands()[0];
    assert_eq!(script.text(&a.range), "a > /dev/null 2>&1");
    assert_eq!(a.redirects.len(), 2);
    assert_eq!(a.redirects[1].fd.as_deref(), Some("2"));
    assert_eq!(a.redirects[1].operator, ">&");
    assert_eq!(
        a.redirects[1].target.as_ref().unwrap().literal.as_deref(),
        Some("1")
    );
    assert!(a.args().is_empty());

    // tree-sitter-bash takes `arg` for a second redirect target; it is an argument.
    let script = parse(">x cmd 2>/dev/null arg");
    let cmd = &script.commands()[0];
    assert_eq!(cmd.name(), Some("cmd"));
    assert_eq!(literals(cmd.args()), [Some("arg")]);
    assert_eq!(cmd.redirects.len(), 2);
    assert_eq!(script.text(&cmd.redirects[1].range), "2>/dev/null");

    let script = parse("cmd <<< \"str\"");
    assert_eq!(script.commands()[0].redirects[0].operator, "<<<");
    assert!(!script.has_heredoc());
}

#[test]
fn syntax_errors_still_give_a_model() {
    let script = parse("echo \"unterminated");
    assert!(script.has_errors());
    assert_eq!(names(&script), ["echo"]);
    let script = parse("apt-get update && echo \"unterminated && b");
    assert!(script.has_errors());
    assert_eq!(script.commands()[0].name(), Some("apt-get"));
    for source in [
        "if a; then ; fi",
        "a &&",
        "(",
        ")",
        "a | | b",
        "cat <<EOF",
        "<<EOF cat && b\nx\nEOF",
        "$(",
        "`",
        "{",
        "a <<A <<B\n1\nA\n2\nB",
    ] {
        let script = parse(source);
        assert!(script.has_errors(), "{source:?}");
    }
}

#[test]
fn unicode_and_crlf() {
    let script = parse("echo 'héllo wörld' ✓ && ls /tmp/日本");
    assert_eq!(
        literals(script.commands()[0].args()),
        [Some("héllo wörld"), Some("✓")]
    );
    assert_eq!(literals(script.commands()[1].args()), [Some("/tmp/日本")]);
    let script = parse("apt-get update &&\r\n apt-get install -y curl\r\n");
    assert_eq!(names(&script), ["apt-get", "apt-get"]);
    assert!(script.is_and_chain());
    assert_eq!(
        literals(script.commands()[1].args()),
        [Some("install"), Some("-y"), Some("curl")]
    );
}

#[test]
fn very_long_scripts() {
    let chain = vec!["echo hello"; 2000].join(" && ");
    let script = parse(&chain);
    assert_eq!(script.commands().len(), 2000);
    assert!(script.is_and_chain());
    assert_eq!(script.top_level()[0].items.len(), 2000);
    assert_eq!(script.commands()[1999].item, Some(1999));

    let lines = vec!["apt-get install -y foo"; 1000].join("\n");
    assert_eq!(parse(&lines).top_level().len(), 1000);
}

#[test]
fn deep_nesting_does_not_overflow() {
    for (open, close) in [
        ("$(", ")"),
        ("(", ")"),
        ("{ ", "; }"),
        ("`", "`"),
        ("if a; then ", "; fi"),
    ] {
        let source = format!("{}x{}", open.repeat(3000), close.repeat(3000));
        let script = parse_script(&source);
        assert!(
            script.has_errors() || script.commands().len() <= 3000,
            "{open}"
        );
    }
    let script = parse(&format!("{}x{}", "$(".repeat(20), ")".repeat(20)));
    assert!(!script.has_errors());
    assert_eq!(
        script.commands().len(),
        21,
        "each level's command is named by the next `$(…)`"
    );
}

#[test]
fn words_literal_values() {
    let script = parse(
        r#"cmd plain 'single $x' "double" "with $x" $x ${y} pre$(a)post `b` *.txt a\ b "a"'b' --x="y z" ~/p {a,b} {} -o=x $'tab\t' 1 "esc\"q\$""#,
    );
    let command = &script.commands()[0];
    assert_eq!(
        literals(command.args()),
        [
            Some("plain"),
            Some("single $x"),
            Some("double"),
            None,
            None,
            None,
            None,
            None,
            None,
            Some("a b"),
            Some("ab"),
            Some("--x=y z"),
            None,
            None,
            Some("{}"),
            Some("-o=x"),
            Some("tab\t"),
            Some("1"),
            Some("esc\"q$"),
        ]
    );
    assert_eq!(names(&script), ["cmd", "a", "b"]);
}

#[test]
fn flags_and_options() {
    let script = parse("apt-get -qy -o Dpkg::Options::=--force-confnew install --target-release=bookworm -t sid curl -- -notaflag");
    let command = &script.commands()[0];
    assert!(command.has_flag(Some('q'), None) && command.has_flag(Some('y'), Some("yes")));
    assert!(command.has_flag(None, Some("target-release")));
    assert!(!command.has_flag(Some('n'), None), "after --");
    assert_eq!(
        command.option_value(Some('t'), Some("target-release")),
        Some("bookworm")
    );
    assert_eq!(
        command.option_value(Some('o'), None),
        Some("Dpkg::Options::=--force-confnew")
    );
    assert_eq!(command.option_value(Some('z'), Some("zzz")), None);
    assert_eq!(
        command.subcommand(),
        Some("Dpkg::Options::=--force-confnew"),
        "unknown value options"
    );
    let view = command.view();
    let positionals: Vec<&str> = view
        .positionals(&["-o", "-t"])
        .map(|w| w.raw.as_str())
        .collect();
    assert_eq!(positionals, ["install", "curl", "-notaflag"]);

    let make = parse("make -j4 install");
    assert!(make.commands()[0].has_flag(Some('j'), None));
    assert_eq!(make.commands()[0].option_value(Some('j'), None), Some("4"));
    assert_eq!(make.commands()[0].subcommand(), Some("install"));
    let pip = parse("pip install --no-cache-dir -r requirements.txt");
    assert!(pip.commands()[0].has_flag(None, Some("no-cache-dir")));
    assert_eq!(
        pip.commands()[0].option_value(Some('r'), Some("requirement")),
        Some("requirements.txt")
    );
}

#[test]
fn names_and_basenames() {
    let script = parse("/usr/bin/apt-get update; \"$CMD\" x");
    let apt = &script.commands()[0];
    assert_eq!(apt.name(), Some("/usr/bin/apt-get"));
    assert_eq!(apt.basename(), Some("apt-get"));
    assert!(apt.view().is("apt-get"));
    assert_eq!(script.commands()[1].name(), None);
    assert_eq!(
        script
            .commands_named("apt-get")
            .map(|(i, _)| i)
            .collect::<Vec<_>>(),
        [0]
    );
}

#[test]
fn wrappers_are_seen_through() {
    let cases = [
        (
            "sudo apt-get install -y x",
            Some("apt-get"),
            Some("install"),
        ),
        (
            "sudo -E -u root apt-get update",
            Some("apt-get"),
            Some("update"),
        ),
        (
            "sudo --user=root DEBIAN_FRONTEND=noninteractive apt-get update",
            Some("apt-get"),
            Some("update"),
        ),
        (
            "env DEBIAN_FRONTEND=noninteractive PATH=$PATH:/x apt-get upgrade",
            Some("apt-get"),
            Some("upgrade"),
        ),
        ("env -i -u HOME -- npm ci", Some("npm"), Some("ci")),
        (
            "sudo env X=1 nice -n 10 timeout -s KILL 30s pip install x",
            Some("pip"),
            Some("install"),
        ),
        ("xargs -r -n1 -I{} rm -f {}", Some("rm"), Some("{}")),
        ("nohup ./run.sh", Some("./run.sh"), None),
        (
            "exec -a name gosu app node server.js",
            Some("node"),
            Some("server.js"),
        ),
        ("command -v curl", Some("command"), Some("curl")),
        ("sudo -l", Some("sudo"), None),
        ("sudo", Some("sudo"), None),
        ("env", Some("env"), None),
        ("env -S 'a b'", Some("env"), Some("a b")),
        ("time -p make all", Some("make"), Some("all")),
        ("busybox wget http://x", Some("wget"), Some("http://x")),
        (
            "/usr/bin/sudo /usr/bin/apt-get clean",
            Some("/usr/bin/apt-get"),
            Some("clean"),
        ),
    ];
    for (source, name, subcommand) in cases {
        let script = parse(source);
        let effective = script.commands()[0].effective();
        assert_eq!(
            (effective.name(), effective.subcommand()),
            (name, subcommand),
            "{source}"
        );
    }
    let script = parse("sudo -E apt-get install -y curl");
    assert!(script.commands()[0].effective().has_flag(Some('y'), None));
    assert!(script.commands()[0].has_flag(Some('E'), None));
    assert_eq!(script.commands_named("apt-get").count(), 1);
}

#[test]
fn inline_shell_scripts_are_opaque_words() {
    let cases = [
        ("sh -c 'apt-get update && x'", Some("apt-get update && x")),
        ("bash -euxo pipefail -c \"echo hi\"", Some("echo hi")),
        ("/bin/bash -o pipefail -c 'y'", Some("y")),
        ("sudo sh -c 'z'", Some("z")),
        ("bash script.sh", None),
        ("sh", None),
        ("python -c 'print(1)'", None),
    ];
    for (source, expected) in cases {
        let script = parse(source);
        let inline = script.commands()[0].effective().inline_script();
        assert_eq!(
            inline.and_then(|w| w.literal.as_deref()),
            expected,
            "{source}"
        );
    }
    let script = parse("sh -c 'cd /x'");
    assert!(
        script.state_changes().is_empty(),
        "inner script is not parsed"
    );
}

#[test]
fn substitutions_and_functions() {
    let script = parse("VERSION=$(curl -s x | jq -r .v) && echo `date` <(ls) && f() { npm ci; }");
    assert_eq!(
        names(&script),
        ["?", "curl", "jq", "echo", "date", "ls", "npm"]
    );
    let flags: Vec<(bool, bool)> = script
        .commands()
        .iter()
        .map(|c| (c.in_substitution, c.in_function))
        .collect();
    assert_eq!(
        flags,
        [
            (false, false),
            (true, false),
            (true, false),
            (false, false),
            (true, false),
            (true, false),
            (false, true)
        ]
    );
    assert!(script.commands()[1].in_pipeline);
    assert!(script.commands()[1].step.is_none());
    assert_eq!(script.top_level()[0].items[0].command_indices, [0, 1, 2]);
}

#[test]
fn case_and_groups() {
    let script =
        parse("case \"$ARCH\" in amd64) a;; arm64|aarch64) b && c;; esac; { d; e; } > log");
    assert_eq!(names(&script), ["a", "b", "c", "d", "e"]);
    assert_eq!(chain_texts(&script)[1], ["{ d; e; } > log"]);
    assert!(script.commands().iter().all(|c| c.step.is_none()));
}

#[test]
fn comments_inside_chains() {
    let script = parse("a &&\n# why b\n b # trailing\n");
    assert_eq!(names(&script), ["a", "b"]);
    assert!(script.is_and_chain());
    let comments: Vec<&str> = script.comments().iter().map(|r| script.text(r)).collect();
    assert_eq!(comments, ["# why b", "# trailing"]);
}

#[test]
fn posix_shell_detection() {
    let shell =
        |words: &[&str]| is_posix_shell(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>());
    assert!(shell(&["/bin/sh", "-c"]));
    assert!(shell(&["/bin/bash", "-o", "pipefail", "-c"]));
    assert!(shell(&["bash", "-c"]));
    assert!(shell(&["/usr/bin/zsh", "-c"]));
    assert!(shell(&["ash", "-c"]));
    assert!(shell(&["dash"]));
    assert!(shell(&["/bin/busybox", "sh", "-c"]));
    assert!(shell(&["/usr/bin/env", "bash", "-c"]));
    assert!(!shell(&["powershell", "-command"]));
    assert!(!shell(&["pwsh", "-Command"]));
    assert!(!shell(&["cmd", "/S", "/C"]));
    assert!(!shell(&["C:\\Windows\\System32\\cmd.exe", "/c"]));
    assert!(!shell(&["C:\\Program Files\\PowerShell\\pwsh.exe"]));
    assert!(!shell(&["/usr/bin/python3", "-c"]));
    assert!(!shell(&[]));
}

#[test]
fn arbitrary_inputs_do_not_panic() {
    let samples = [
        "\0",
        "\\",
        "'",
        "\"",
        "$",
        "${",
        "$((",
        "<<",
        "<<-",
        "&&",
        "||",
        "|",
        ";;",
        "&",
        "!",
        "a\\\n",
        "a \\\r\n b",
        "case",
        "esac",
        "for",
        "done",
        "function",
        "(( i++ ))",
        "[[",
        "]]",
        "x=(",
        "a=(1 2) b",
        "echo ${a[@]:1:2}",
        "cat <<EOF\n$(\nEOF",
        "\u{feff}echo",
        "é\u{301}",
        "echo $'\\x41' $\"loc\"",
        "a 2>",
        "> f",
        "coproc x",
        "select x in a; do b; done",
    ];
    for sample in samples {
        let _ = parse(sample);
        let _ = parse(&sample.repeat(50));
    }
}

#[test]
fn a_large_script_keeps_every_statement() {
    // Its cost is measured by scripts/bench_scale.py (a timed test would only flake on a busy machine).
    let body = "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \"$(echo x)\" && rm -rf /var/lib/apt/lists/*\n";
    let source = body.repeat(200);
    let script = parse_script(&source);
    assert_eq!(script.top_level().len(), 200);
    assert!(!script.has_errors());
}

#[test]
fn trailing_separators() {
    assert!(parse("a && b;").is_and_chain());
    assert!(parse("a && b\n\n").is_and_chain());
    assert!(!parse("a && b &").is_and_chain());
    assert_eq!(parse("a;;").top_level().len(), 1);
}

#[test]
fn heredoc_feeding_a_loop() {
    let script = parse("while read -r pkg; do echo \"$pkg\"; done <<EOF\ncurl\nEOF");
    assert_eq!(names(&script), ["read", "echo"]);
    let [heredoc] = script.heredocs() else {
        panic!()
    };
    assert_eq!(
        heredoc.command, None,
        "feeds the loop, not a simple command"
    );
    assert_eq!(script.text(&heredoc.body), "curl\n");
    assert_eq!(
        chain_texts(&script),
        vec![vec!["while read -r pkg; do echo \"$pkg\"; done <<EOF"]]
    );
}

/// What run-cleanup and merge-runs will do: append `&& …` at the end of the last item.
#[test]
fn appending_after_the_last_item_keeps_the_chain() {
    for source in [
        "apt-get update && apt-get install -y curl",
        "apt-get update && apt-get install -y curl # why",
        "cat <<EOF > /etc/x && apt-get install -y curl\nbody\nEOF",
        "apt-get install -y curl && cat <<EOF > /etc/x\nbody\nEOF",
        "apt-get install -y curl 2>/dev/null | tee log",
    ] {
        let script = parse(source);
        let end = script.top_level()[0].items.last().unwrap().range.end;
        let edited = format!(
            "{} && rm -rf /var/lib/apt/lists/*{}",
            &source[..end],
            &source[end..]
        );
        let edited = parse(&edited);
        assert!(!edited.has_errors(), "{source:?}");
        assert!(edited.is_and_chain(), "{source:?}");
        let last = edited.top_level()[0].items.last().unwrap();
        assert_eq!(
            edited.text(&last.range),
            "rm -rf /var/lib/apt/lists/*",
            "{source:?}"
        );
    }
}

#[test]
fn text_of_a_bad_range_is_empty() {
    let script = parse("é");
    assert_eq!(script.text(&(0..1)), "");
    assert_eq!(script.text(&(0..99)), "");
    assert_eq!(script.text(&(0..2)), "é");
}
