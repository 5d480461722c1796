use super::*;
use crate::{checks, Context, Settings};

fn settings(unsafe_fixes: bool) -> Settings {
    Settings { unsafe_fixes, select: Some(vec![NAME.to_string()]), ..Settings::default() }
}

/// The text after the fix loop with only this transform (and it is idempotent).
fn fixed_with(source: &str, context: &Context, unsafe_fixes: bool) -> String {
    let outcome = crate::optimize(source, context, &settings(unsafe_fixes)).expect("parses");
    assert_eq!(outcome.error, None);
    let again = crate::optimize(&outcome.text, context, &settings(unsafe_fixes)).expect("output parses");
    assert_eq!(again.text, outcome.text, "not idempotent");
    outcome.text
}

fn fixed(source: &str) -> String {
    fixed_with(source, &Context::default(), true)
}

fn safe(source: &str) -> String {
    fixed_with(source, &Context::default(), false)
}

fn findings(source: &str) -> Vec<Finding> {
    let file = crate::parse_strict(source).expect("parses");
    let context = Context::default();
    let settings = settings(true);
    let input = Input::new(&file, &context, &settings);
    run(&input)
}

/// The reasons of the findings left without a fix.
fn whys(source: &str) -> Vec<String> {
    findings(source).into_iter().filter(|f| f.fix.is_none()).filter_map(|f| f.why).collect()
}

#[test]
fn chown_after_copy_becomes_copy_chown() {
    let source = "FROM debian\nRUN useradd app\nCOPY . /app\nRUN chown -R app:app /app\nCMD [\"x\"]\n";
    assert_eq!(safe(source), "FROM debian\nRUN useradd app\nCOPY --chown=app:app . /app\nCMD [\"x\"]\n");
}

#[test]
fn chown_keeps_the_folder_a_workdir_made() {
    let source = "FROM debian\nRUN useradd app\nWORKDIR /app\nCOPY . .\nRUN chown -R app:app /app && echo done\n";
    assert_eq!(safe(source), "FROM debian\nRUN useradd app\nWORKDIR /app\nCOPY --chown=app:app . .\nRUN chown app:app /app && echo done\n");
}

#[test]
fn chown_of_a_base_image_user_is_unsafe() {
    let source = "FROM node:20\nCOPY . /srv/app\nRUN chown -R node /srv/app\n";
    assert_eq!(safe(source), source);
    assert_eq!(fixed(source), "FROM node:20\nCOPY --chown=node:0 . /srv/app\n");
}

#[test]
fn chown_refusals() {
    // What `npm run build` wrote into /app is not known: chown -R changes it too.
    let why = whys("FROM node:20\nWORKDIR /app\nCOPY package.json .\nRUN npm ci && npm run build\nCOPY . .\nRUN chown -R node /app\n");
    assert!(why.iter().any(|w| w.contains("writes into `/app` (`npm run build`)")), "{why:?}");
    // An ADD into the folder: no `--chown` for it here.
    let why = whys("FROM debian\nADD vendor.tar /app/vendor\nCOPY . /app\nRUN chown -R 1000 /app\n");
    assert!(why.iter().any(|w| w.contains("the ADD at line 2 also writes into `/app`")), "{why:?}");
    let why = whys("FROM debian\nCOPY . /usr/local\nRUN chown -R 1000 /usr/local\n");
    assert!(why.iter().any(|w| w.contains("base image may already hold files")), "{why:?}");
    let why = whys("FROM debian\nCOPY . /app\nRUN chown -R 1000 /app/data\n");
    assert!(why.iter().any(|w| w.contains("only part")), "{why:?}");
    let why = whys("FROM debian\nCOPY . /app\nRUN chmod -R u+rwX /app\n");
    assert!(why.is_empty(), "symbolic modes are not read: {why:?}");
    assert!(findings("FROM debian\nCOPY . /app\nRUN chmod -R u+rwX /app\n").is_empty());
}

#[test]
fn chown_narrows_to_what_a_run_made() {
    let source = "FROM node:20-slim\nWORKDIR /app\nCOPY package.json .\nRUN npm ci\nCOPY . .\nRUN chown -R node /app\n";
    let context = Context::default();
    assert_eq!(fixed_with(source, &context, false), source);
    assert_eq!(
        fixed_with(source, &context, true),
        "FROM node:20-slim\nWORKDIR /app\nCOPY --chown=node:0 package.json .\nRUN npm ci\nCOPY --chown=node:0 . .\nRUN chown node /app && chown -R node /app/node_modules\n"
    );
}

#[test]
fn chmod_is_unsafe() {
    let source = "FROM debian\nCOPY entrypoint.sh /usr/local/bin/entrypoint.sh\nRUN chmod 755 /usr/local/bin/entrypoint.sh\n";
    let mut context = Context::default();
    context.files = Some(vec!["entrypoint.sh".into()]);
    assert_eq!(fixed_with(source, &context, false), source);
    assert_eq!(
        fixed_with(source, &context, true),
        "FROM debian\nCOPY --chmod=755 entrypoint.sh /usr/local/bin/entrypoint.sh\n"
    );
}

#[test]
fn archive_left_gets_deleted() {
    let source = "FROM debian\nRUN cd /tmp && curl -fsSLO https://x.org/a-1.0.tar.gz && tar -xzf a-1.0.tar.gz -C /opt\n";
    assert_eq!(safe(source), "FROM debian\nRUN cd /tmp && curl -fsSLO https://x.org/a-1.0.tar.gz && tar -xzf a-1.0.tar.gz -C /opt && rm -f a-1.0.tar.gz\n");
    let removed = "FROM debian\nRUN curl -fsSL -o /tmp/a.zip https://x.org/a.zip && unzip /tmp/a.zip -d /opt && rm /tmp/*.zip\n";
    assert!(findings(removed).is_empty());
}

#[test]
fn archive_is_streamed_under_pipefail() {
    let source = "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL -o /tmp/a.tgz https://x.org/a.tgz && tar -xzf /tmp/a.tgz -C /opt\n";
    assert_eq!(safe(source), "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL -o - https://x.org/a.tgz | tar -xzf - -C /opt\n");
}

#[test]
fn add_url_becomes_one_run() {
    let source = "FROM debian\nRUN apt-get install -y curl\nADD --checksum=sha256:abcd https://x.org/a.tar.gz /tmp/\nRUN tar -xzf /tmp/a.tar.gz -C /opt && rm /tmp/a.tar.gz\n";
    assert_eq!(
        fixed(source),
        "FROM debian\nRUN apt-get install -y curl\nRUN curl -fsSL --create-dirs -o /tmp/a.tar.gz \"https://x.org/a.tar.gz\" && test \"$(sha256sum < /tmp/a.tar.gz)\" = \"abcd  -\" && tar -xzf /tmp/a.tar.gz -C /opt && rm /tmp/a.tar.gz\n"
    );
    let why = whys("FROM debian\nADD https://x.org/a.tar.gz /tmp/\nRUN tar -xzf /tmp/a.tar.gz -C /opt\n");
    assert!(why.iter().any(|w| w.contains("curl or wget")), "{why:?}");
}

#[test]
fn build_deps_are_purged() {
    let source = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc libpq-dev python3-pip && pip install psycopg2\nCMD [\"python3\", \"app.py\"]\n";
    assert_eq!(
        fixed(source),
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc libpq-dev python3-pip && pip install psycopg2 \\\n    && apt-mark manual libpq5 python3 && apt-get purge -y --auto-remove gcc libpq-dev python3-pip\nCMD [\"python3\", \"app.py\"]\n"
    );
    let alpine = "FROM alpine:3.19\nRUN apk add --no-cache python3 py3-pip gcc musl-dev postgresql-dev && pip install psycopg2\n";
    assert_eq!(
        fixed(alpine),
        "FROM alpine:3.19\nRUN apk add --no-cache python3 libpq && apk add --no-cache --virtual .build-deps py3-pip gcc musl-dev postgresql-dev && pip install psycopg2 \\\n    && apk del .build-deps\n"
    );
}

#[test]
fn build_deps_refusals() {
    let why = whys("FROM debian\nRUN apt-get install -y gcc && make\nRUN make test\n");
    assert!(why.iter().any(|w| w.contains("uses them too")), "{why:?}");
    let why = whys("FROM python:3.12\nRUN apt-get install -y libpq-dev && pip install psycopg2\n");
    assert!(why.iter().any(|w| w.contains("already has compilers")), "{why:?}");
    // Installed and never used to build: said, not fixed (the program may run it).
    let unused = findings("FROM debian\nRUN apt-get install -y git\nCMD [\"app\"]\n");
    assert!(unused.len() == 1 && unused[0].fix.is_none(), "{unused:?}");
    assert!(unused[0].why.as_deref().is_some_and(|w| w.contains("unless the program itself runs it")), "{unused:?}");
    // …unless a script the Dockerfile does not show, or a build stage that does not ship, may use it.
    assert!(findings("FROM debian\nRUN apt-get install -y gcc\nRUN ./build.sh\n").is_empty());
    assert!(findings("FROM debian\nRUN apt-get install -y gcc\nENTRYPOINT [\"/entrypoint.sh\"]\n").is_empty());
    assert!(findings("FROM debian AS build\nRUN apt-get install -y gcc\nFROM debian\nCMD [\"app\"]\n").is_empty());
}

#[test]
fn a_jdk_used_to_compile_keeps_its_jre_for_the_command() {
    let source = "FROM debian:bookworm-slim\nRUN apt-get install -y default-jdk-headless && javac Main.java\nCMD [\"java\", \"Main\"]\n";
    let fixed = fixed_with(source, &Context::default(), true);
    assert!(fixed.contains("apt-mark manual default-jre-headless && apt-get purge -y --auto-remove default-jdk-headless"), "{fixed}");
}

#[test]
fn late_delete_moves_into_the_creating_run() {
    let source = "FROM debian\nRUN git clone https://x.org/r.git /src/r && make -C /src/r install\nENV A=1\nRUN rm -rf /src/r\n";
    assert_eq!(safe(source), "FROM debian\nRUN git clone https://x.org/r.git /src/r && make -C /src/r install \\\n    && rm -rf /src/r\nENV A=1\n");
    let why = whys("FROM debian\nCOPY . /src\nRUN make -C /src\nRUN rm -rf /src/tests\n");
    assert!(why.iter().any(|w| w.contains("COPY at line 2 brings them")), "{why:?}");
}


#[test]
fn late_delete_refuses_what_its_own_run_may_write_again() {
    // `make` in /src/r may write /src/r/build again before the delete: moving the delete away
    // would keep those files in this layer.
    let source = "FROM debian\nRUN git clone https://x.org/r.git /src/r && make -C /src/r\nENV A=1\nRUN cd /src/r && make && rm -rf /src/r/build\n";
    assert!(findings(source).iter().all(|f| f.check.id != checks::LAYER_WASTE_LATE_DELETE.id));
    assert_eq!(fixed(source), source);
}

#[test]
fn late_delete_needs_the_one_run_that_created_it() {
    // Downloaded by one RUN, unpacked by the next: the bytes are in the first; moving the delete
    // into the second would save nothing.
    let source = "FROM debian\nWORKDIR /opt\nRUN curl -sL -O https://x.org/v1.0/tool.zip\nRUN unzip tool.zip\nRUN rm tool.zip\n";
    assert!(findings(source).iter().all(|f| f.check.id != checks::LAYER_WASTE_LATE_DELETE.id));
    // Only a folder above it is named: not known to be the creator.
    let source = "FROM debian\nRUN mkdir -p /steam\nRUN /steam/steamcmd.sh +runscript /steam/script\nRUN rm -r /steam/tf/addons/configs\n";
    assert!(findings(source).is_empty());
    // `curl -O` creates it: moved there.
    let source = "FROM debian\nWORKDIR /opt\nRUN curl -sL -O https://x.org/v1.0/tool.zip && unzip tool.zip\nENV A=1\nRUN rm tool.zip\n";
    assert_eq!(safe(source), "FROM debian\nWORKDIR /opt\nRUN curl -sL -O https://x.org/v1.0/tool.zip && unzip tool.zip \\\n    && rm tool.zip\nENV A=1\n");
}

#[test]
fn add_url_refusals() {
    let why = whys("FROM debian\nRUN apt-get install -y curl && useradd app\nUSER app\nADD https://x.org/a.tar.gz /tmp/\nRUN tar -xzf /tmp/a.tar.gz -C /home/app\n");
    assert!(why.iter().any(|w| w.contains("runs as `app`")), "{why:?}");
}

#[test]
fn dnf_keeps_what_it_cannot_mark() {
    // `dnf remove python3-pip` would also remove python3 that it pulled in: pip stays.
    let source = "FROM fedora:40\nRUN dnf install -y gcc python3-pip && pip install psycopg2-binary\n";
    assert_eq!(fixed(source), "FROM fedora:40\nRUN dnf install -y gcc python3-pip && pip install psycopg2-binary \\\n    && dnf remove -y gcc\n");
}

#[test]
fn build_deps_stay_for_a_later_composer_install() {
    // composer fetches VCS dependencies with git.
    let why = whys("FROM php:8.3-fpm\nRUN apt-get update && apt-get install -y git unzip && docker-php-ext-install pdo_mysql\nCOPY . .\nRUN composer install\n");
    assert!(why.iter().any(|w| w.contains("composer install")), "{why:?}");
}

#[test]
fn chown_of_a_variable_the_image_sets() {
    let source = "FROM debian\nENV APP_HOME /srv/app\nRUN useradd app\nCOPY . $APP_HOME\nRUN chown -R app:app \"$APP_HOME\"\n";
    assert_eq!(safe(source), "FROM debian\nENV APP_HOME /srv/app\nRUN useradd app\nCOPY --chown=app:app . $APP_HOME\n");
    // A value the build decides (an ARG) is not known.
    let source = "FROM debian\nARG APP_HOME=/srv/app\nRUN useradd app\nCOPY . $APP_HOME\nRUN chown -R app:app $APP_HOME\n";
    assert_eq!(safe(source), source);
}
