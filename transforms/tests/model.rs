//! The semantic model (transforms/src/model) through its public API: stages and what ships, the
//! SHELL, ARG/ENV values, WORKDIR and image paths, and context reads as BuildKit resolves them.

use transforms::model::{Dir, Input, Model, Shell};
use transforms::syntax::{expand, parse, Dockerfile, Var};
use transforms::{Config, Context, Settings};

fn model_of(source: &str) -> (Dockerfile, Model) {
    model_with(source, Settings::default())
}

fn model_with(source: &str, settings: Settings) -> (Dockerfile, Model) {
    let file = parse(source).unwrap();
    let model = Model::new(&file, &settings);
    (file, model)
}

/// The index of the first instruction whose text starts with `prefix`.
fn at(file: &Dockerfile, prefix: &str) -> usize {
    file.instructions.iter().position(|i| i.logical.text.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}`"))
}

fn whole(source: &str) -> bool {
    let (file, model) = model_of(source);
    model.takes_whole_context(at(&file, "COPY"))
}

fn paths(source: &str) -> Vec<String> {
    let (file, model) = model_of(source);
    model.reads_of(at(&file, "COPY")).iter().flat_map(|r| r.sources.iter().map(|s| s.path.clone())).collect()
}

#[test]
fn context_paths_are_resolved_as_buildkit_does() {
    for copy in ["COPY . .", "COPY ./ /app", "COPY ./. /app", "COPY .. .", "COPY src/.. .", "COPY ../../ /app", "COPY [\"..\", \".\"]", "COPY * ./", "COPY / /app"] {
        assert!(whole(&format!("FROM a\n{copy}\n")), "{copy}");
    }
    for copy in ["COPY src .", "COPY --from=build . .", "COPY <<EOF /x\nhi\nEOF", "COPY $SRC .", "COPY ./*.json ./"] {
        assert!(!whole(&format!("FROM a AS build\nFROM b\n{copy}\n")), "{copy}");
    }
    assert_eq!(paths("FROM a\nCOPY ./src/../lib/ ../x/../y /app/\n"), vec!["lib", "y"]);
    assert_eq!(paths("FROM a\nCOPY [\"a b/c\", \"./d\", \"/app/\"]\n"), vec!["a b/c", "d"]);
    assert_eq!(paths("# escape=`\nFROM a\nCOPY .\\app\\bin C:\\app\n"), vec!["app/bin"]);
    assert!(whole("# escape=`\nFROM a\nCOPY .\\ C:\\app\n"));
    // Variables: expanded where an ENV says, a wildcard where not.
    assert_eq!(paths("FROM a\nENV SRC=lib\nARG OUT\nCOPY $SRC/x ${OUT}/y app-$V.jar /app/\n"), vec!["lib/x", "**/y", "*"]);
}

#[test]
fn copy_flags_and_destinations() {
    let (file, model) = model_of("FROM a\nWORKDIR /srv\nCOPY --parents --exclude=*.md --exclude=tmp ./a/b ./c/ app/\nCOPY --parents=false x /x\n");
    let read = &model.reads_of(at(&file, "COPY --parents "))[0];
    assert!(read.parents);
    assert_eq!(read.excludes, vec!["*.md", "tmp"]);
    assert_eq!(read.dest, "app/");
    assert_eq!(read.dest_dir.as_ref().and_then(Dir::path).as_deref(), Some("/srv/app"));
    assert!(!model.reads_of(at(&file, "COPY --parents=false"))[0].parents);
    let (file, model) = model_of("FROM a\nCOPY x y/\nADD https://x/y.tgz git@github.com:a/b.git /z/\n");
    assert_eq!(model.reads_of(at(&file, "COPY"))[0].dest_dir.as_ref().map(|d| d.path()), Some(None), "relative to the base image's WORKDIR");
    assert!(model.reads_of(at(&file, "ADD"))[0].sources.is_empty(), "URLs are not the context");
}

#[test]
fn stages_parents_and_shipping() {
    let source = "ARG BASE=base\nFROM debian AS base\nFROM ${BASE} AS build\nRUN make\nFROM debian AS tools\n\
                  FROM debian AS assets\nFROM scratch AS test\nCOPY --from=build /x /x\nFROM debian\nCOPY --from=assets /a /a\n\
                  RUN --mount=type=bind,from=tools,source=/t,target=/t true\nCOPY --from=python:3 /usr /usr\n";
    let (_, model) = model_of(source);
    let stages = model.stages();
    assert_eq!(stages[1].parent, Some(0), "FROM ${{BASE}} resolves through the meta ARG");
    let shipped: Vec<bool> = stages.iter().map(|s| s.ships).collect();
    assert_eq!(shipped, [false, false, true, true, false, true]);
    let in_image: Vec<bool> = stages.iter().map(|s| s.in_final_image).collect();
    assert_eq!(in_image, [false, false, false, false, false, true]);
    assert_eq!(stages[5].takes_from, vec![3, 2]);
    assert_eq!(model.final_stage(), Some(5));
    // A target ships its own chain only; a target no stage has leaves the last stage final.
    let target = |name: &str| Settings { config: Config { target: Some(name.into()), ..Config::default() }, ..Settings::default() };
    let (_, model) = model_with(source, target("TEST"));
    assert_eq!(model.final_stage(), Some(4));
    let shipped: Vec<bool> = model.stages().iter().map(|s| s.ships).collect();
    assert_eq!(shipped, [true, true, false, false, true, false]);
    assert_eq!(model_with(source, target("nope")).1.final_stage(), Some(5));
}

#[test]
fn earlier_and_later_follow_from_stage() {
    let (file, model) = model_of("FROM a AS one\nRUN x\nFROM one AS two\nRUN y\nFROM b\nRUN z\nFROM two\nRUN w\n");
    let y = at(&file, "RUN y");
    assert_eq!(model.earlier(y).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(model.later(1).collect::<Vec<_>>(), vec![2, 3, 6, 7]);
    assert_eq!(model.lineage(3).collect::<Vec<_>>(), vec![3, 1, 0]);
    assert!(model.is_earlier(1, y) && model.is_earlier(2, y) && !model.is_earlier(5, y) && !model.is_earlier(y, y));
}

#[test]
fn shells_are_inherited_through_from_stage() {
    let source = "FROM debian AS a\nSHELL [\"/bin/bash\", \"-c\"]\nFROM a\nRUN x\nSHELL [\"pwsh\", \"-c\"]\nRUN y\n\
                  FROM mcr.microsoft.com/windows/servercore\nRUN z\n";
    let (file, model) = model_of(source);
    assert_eq!(model.shell(at(&file, "RUN x")), &Shell::Set(vec!["/bin/bash".into(), "-c".into()]));
    assert!(model.shell(at(&file, "RUN x")).is_posix());
    assert!(!model.shell(at(&file, "RUN y")).is_posix());
    assert_eq!(model.shell(at(&file, "RUN z")), &Shell::Default { windows: true });
    let (file, model) = model_of("# escape=`\nFROM a\nRUN x\n");
    assert!(!model.shell(at(&file, "RUN x")).is_posix());
}

#[test]
fn variables_at_each_instruction() {
    let source = "ARG V=1\nARG NODEF\nFROM a AS base\nENV A=/opt B=x\nENV A=$A/bin C=$A\nARG V\nARG NODEF\nRUN one\n\
                  ENV V=env\nRUN two\nARG V=arg\nFROM base\nRUN three\nFROM other\nRUN four\n";
    let (file, model) = model_of(source);
    let one = at(&file, "RUN one");
    let value = |name: &str, i: usize| model.binding(name, i).map(|b| (b.value.clone(), b.known, b.from_arg));
    assert_eq!(value("A", one), Some(("/opt/bin".into(), true, false)));
    assert_eq!(value("C", one), Some(("/opt".into(), true, false)), "values see the variables before the instruction");
    assert_eq!(value("V", one), Some(("1".into(), false, true)), "ARG V takes the meta default, which --build-arg overrides");
    assert_eq!(value("NODEF", one), Some((String::new(), false, true)));
    assert_eq!(value("V", at(&file, "RUN two")), Some(("env".into(), true, false)));
    assert_eq!(value("A", at(&file, "RUN three")), Some(("/opt/bin".into(), true, false)), "ENV is inherited through FROM <stage>");
    assert_eq!(value("V", at(&file, "RUN three")), Some(("arg".into(), false, true)), "the last ENV or ARG wins, ARGs too are inherited");
    assert_eq!(value("A", at(&file, "RUN four")), None);
    assert_eq!(model.expand("$V", one, None).unknown.as_deref(), Some("V"), "paths do not trust ARG values");
    assert_eq!(model.expand("$A/lib:${B:-y}:$HOME", one, None).text, "/opt/bin/lib:x:$HOME");
}

#[test]
fn workdirs_at_each_instruction() {
    let source = "FROM a AS base\nRUN zero\nWORKDIR app\nRUN one\nWORKDIR /srv\nENV SUB=api\nWORKDIR $SUB/../$SUB\nRUN two\n\
                  FROM base\nRUN three\nARG D\nWORKDIR $D\nRUN four\n";
    let (file, model) = model_of(source);
    let dir = |prefix: &str| model.workdir(at(&file, prefix)).map(|d| d.path().unwrap_or_else(|| format!("{:?}", d.below(&Dir::image()))));
    assert_eq!(dir("RUN zero").as_deref(), Some("Some([])"), "the base image's WORKDIR, not known");
    assert_eq!(dir("RUN one").as_deref(), Some("Some([\"app\"])"));
    assert_eq!(dir("RUN two").as_deref(), Some("/srv/api"));
    assert_eq!(dir("RUN three").as_deref(), Some("/srv/api"), "inherited through FROM <stage>");
    assert_eq!(dir("RUN four"), None, "an ARG: not known");
}

#[test]
fn steps_follow_cd_and_exports() {
    let source = "FROM a\nWORKDIR /src\nENV CGO_ENABLED=1\nRUN cd cmd && export GOOS=linux && CGO_ENABLED=0 go build -o /out/app && (cd /tmp) && env X=1 make\n";
    let file = parse(source).unwrap();
    let (context, settings) = (Context::default(), Settings::default());
    let input = Input::new(&file, &context, &settings);
    let steps = input.steps(at(&file, "RUN")).unwrap();
    let names: Vec<&str> = steps.steps.iter().filter_map(|s| s.command.name()).collect();
    assert_eq!(names, ["go", "cd", "env"]);
    let go = &steps.steps[0];
    assert_eq!(go.cwd.as_ref().and_then(Dir::path).as_deref(), Some("/src/cmd"));
    assert_eq!(steps.var(go, "CGO_ENABLED").as_deref(), Some("0"));
    assert_eq!(steps.var(go, "GOOS").as_deref(), Some("linux"));
    assert_eq!(steps.var(&steps.steps[2], "X").as_deref(), Some("1"));
    assert_eq!(steps.var(&steps.steps[2], "CGO_ENABLED").as_deref(), Some("1"));
}

#[test]
fn large_files_stay_linear() {
    // 20,000 ENV lines: one binding each, looked up by binary search.
    let mut source = String::from("FROM a\n");
    for i in 0..20_000 {
        source.push_str(&format!("ENV V{i}=x{i} P=/opt/{i}/bin:$P\nWORKDIR d{}\n", i % 3));
    }
    source.push_str("RUN end\n");
    let (file, model) = model_of(&source);
    let end = at(&file, "RUN end");
    assert_eq!(model.binding("V19999", end).map(|b| b.value.as_str()), Some("x19999"));
    assert!(model.binding("P", end).is_some_and(|b| b.value.starts_with("/opt/19999/bin:")));
    assert!(model.workdir(end).is_none(), "deeper than a path can be: not followed");
}

#[test]
fn dirs_follow_workdir_and_cd() {
    let root = Dir::image();
    let app = root.join("/app").unwrap();
    assert_eq!(app.join("client").unwrap().below(&app), Some(vec!["client".to_string()]));
    assert_eq!(app.join("../app/./x/..").unwrap(), app);
    assert_eq!(root.join("src").unwrap().below(&root), Some(vec!["src".to_string()]));
    assert!(root.join("..").is_none());
    let var = root.join("$APP_HOME").unwrap();
    assert_eq!(var.join("a").unwrap().below(&var), Some(vec!["a".to_string()]));
    assert!(var.below(&app).is_none());
    assert!(app.disjoint(&root.join("/usr/local/bin").unwrap()));
    assert!(!app.disjoint(&root.join("/").unwrap()));
}

#[test]
fn absolute_paths_as_text() {
    let app = Dir::absolute("/app/").unwrap();
    assert_eq!(app.path().as_deref(), Some("/app"));
    assert_eq!(Dir::resolve(Some("/app"), "../usr/./bin/x").as_deref(), Some("/usr/bin/x"));
    assert_eq!(Dir::resolve(None, "bin/x"), None, "relative to the base image's WORKDIR");
    assert_eq!(Dir::resolve(None, "/x/../../y").as_deref(), Some("/y"));
    assert_eq!(Dir::absolute("/").unwrap().path().as_deref(), Some("/"));
    assert_eq!(Dir::absolute("/app/bin").unwrap().below(&app), Some(vec!["bin".to_string()]));
    assert_eq!(Dir::absolute("/srv").unwrap().below(&app), None);
    assert!(Dir::resolve(Some("/app"), "$OUT/bin").is_none());
    assert_eq!(Dir::inside("/app/bin/x", "/app").as_deref(), Some("bin/x"));
    assert_eq!(Dir::inside("/application", "/app"), None);
    assert_eq!(Dir::inside("/app", "/").as_deref(), Some("app"));
    let deep = "a/".repeat(300);
    assert!(Dir::image().join(&deep).is_none());
}

#[test]
fn expands_as_buildkit_does() {
    let var = |name: &str| match name {
        "PY" => Var::Value("3.12".into()),
        "EMPTY" => Var::Value(String::new()),
        "ARG" => Var::Unset,
        _ => Var::Unknown,
    };
    let word = |text: &str| {
        let e = expand(text, Some('\\'), &var);
        e.unknown.map_or(Ok(e.text), Err)
    };
    assert_eq!(word("python:${PY}-slim"), Ok("python:3.12-slim".into()));
    assert_eq!(word("\"python:$PY\""), Ok("python:3.12".into()));
    assert_eq!(word("'$PY'"), Ok("$PY".into()));
    assert_eq!(word("${ARG:-node:20}"), Ok("node:20".into()));
    assert_eq!(word("${EMPTY:-a}"), Ok("a".into()));
    assert_eq!(word("${EMPTY-a}"), Ok("".into()));
    assert_eq!(word("x${PY:+-debug}"), Ok("x-debug".into()));
    assert_eq!(word("x${ARG:+-debug}"), Ok("x".into()));
    assert_eq!(word("${ARG:-${PY}}"), Ok("3.12".into()));
    assert_eq!(word("$ARG"), Err("ARG".into()));
    assert_eq!(word("${PY%.*}"), Err("PY".into()));
    assert_eq!(word("a$ b\\$PY"), Ok("a$ b$PY".into()));
    let partial = expand("/opt/$PY/bin:$PATH", None, &var);
    assert_eq!((partial.text.as_str(), partial.unknown.as_deref()), ("/opt/3.12/bin:$PATH", Some("PATH")));
    let doubling = |_: &str| Var::Value("x".repeat(3000));
    assert!(expand("$A$A", None, &doubling).unknown.is_some(), "results are bounded");
}

#[test]
fn unknown_variables_read_as_wildcards() {
    let (file, model) = model_of("FROM a\nARG APP\nARG SUB\nCOPY $APP/src ${APP:-x}/$SUB.txt java-${V}.msi ${V%.*}/a /app/\n");
    let read = &model.reads_of(at(&file, "COPY"))[0];
    let paths: Vec<&str> = read.sources.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["**/src", "**/*", "*", "**/a"]);
    assert!(read.sources.iter().all(|s| s.glob && s.variable));
}

#[test]
fn final_copy_sources_follow_buildkit_paths_and_the_final_stage() {
    let sources = |text: &str| transforms::final_copy_sources(text).unwrap();
    assert_eq!(sources("FROM a AS b\nCOPY x /x\nFROM c\nCOPY ./src/.. /app\nCOPY --from=b /x /y\n"), [""]);
    assert_eq!(sources("FROM a\nENV D=lib\nCOPY [\"./app.py\", \"$D/\", \"conf/*.ini\", \"/app/\"]\n"), ["app.py", "conf/*.ini"]);
    assert_eq!(sources("FROM a\nADD https://x/y.tgz /y\n"), Vec::<String>::new());
    assert!(transforms::final_copy_sources("RUN x\n").is_err() || sources("RUN x\n").is_empty());
}
