//! Java: the jar `java -jar` runs, on the JRE of the build's JDK (same vendor and major), and a
//! Spring Boot jar split into its layers so that dependencies sit in their own image layer.

use super::jvm_manifests::{self, Boot, JavaProject};
use super::knowledge::knowledge;
use super::plan::{basename, builds, empty_plan, packages, relative_error, Plan};
use super::runtime::{jre_of, slim_of, Runtime};
use super::scan::{Manager, Scan};
use crate::model::reference::{glob, ImageRef};
use crate::model::{Dir, Input};
use crate::shell::ShellWord;

/// Spring Boot's layers, in the order their folders are copied (least often changed first).
const LAYERS: [&str; 4] = ["dependencies", "spring-boot-loader", "snapshot-dependencies", "application"];

pub(super) fn java(input: &Input, scan: &Scan, image: &ImageRef, programs: &[Vec<ShellWord>]) -> Result<Plan, String> {
    let k = knowledge();
    let workdir = scan.final_workdir.as_deref();
    let jar = programs
        .iter()
        .filter(|line| line.first().and_then(|w| w.literal.as_deref()).is_some_and(|p| basename(p) == "java"))
        .find_map(|line| line.iter().position(|w| w.is("-jar")).and_then(|at| line.get(at + 1)))
        .ok_or("the CMD does not run a jar with `java -jar`: which files the JRE needs cannot be told")?;
    let project = project(input, scan);
    let (from, to) = match &jar.literal {
        Some(path) => {
            let abs = Dir::resolve(workdir, path).ok_or_else(|| relative_error(path, "the jar"))?;
            (abs.clone(), abs)
        }
        None if jar.raw.contains('*') && jar.raw.chars().all(|c| c.is_ascii_alphanumeric() || "_./*-".contains(c)) => {
            // A glob in a shell-form CMD: copying the same glob into the same folder keeps its meaning.
            let abs = Dir::resolve(workdir, &jar.raw).ok_or_else(|| relative_error(&jar.raw, "the jar"))?;
            let dir = abs.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_else(|| "/".into());
            (abs, dir)
        }
        None => return Err(format!("the jar `{}` is not a static path", jar.raw)),
    };
    let toolchain_image = k.image_toolchain(image).is_some_and(|e| e.name == "java");
    let runtime = if toolchain_image {
        let jre = jre_of(image)?;
        let manager = if jre.contains("alpine") {
            Some(Manager::Apk)
        } else if jre.contains("ubi") {
            None
        } else {
            Some(Manager::Apt)
        };
        Runtime { image: jre, manager }
    } else {
        slim_of(image)?
    };
    let mut plan = empty_plan(runtime);
    // The one jar the build makes, by name: what the CMD names, or what the project says its glob matches.
    let built = project.as_ref().and_then(|(dir, p)| p.jar.as_ref().ok().and_then(|j| Dir::resolve(Some(dir), j)));
    let single = if jar.literal.is_some() { Some(from.clone()) } else { built.clone().filter(|b| glob(&from, b)) };
    let boot = project.as_ref().and_then(|(_, p)| p.boot.clone());
    match &boot {
        Some(boot) => {
            if let Err(why) = layered(input, scan, jar, single.as_deref(), boot, &mut plan) {
                plan.notes.push(format!("The Spring Boot jar is copied whole, not in layers: {why}"));
                plan.copies.push(whole_jar(&from, &to, single.as_deref(), boot, &mut plan.notes));
            }
        }
        None => plan.copies.push((from, to)),
    }
    packages(scan, image, "java", &mut plan)?;
    if !toolchain_image && !plan.packages.iter().any(|p| p.contains("jre")) {
        plan.packages.push("default-jre-headless".into());
    }
    Ok(plan)
}

/// The project folder of the Maven or Gradle build and what its build files say.
fn project(input: &Input, scan: &Scan) -> Option<(String, JavaProject)> {
    let built = builds(scan, "java").last()?;
    let view = built.view();
    // Another build file or project folder than the working directory's.
    if ["-f", "--file", "-p", "--project-dir", "-b", "--build-file"].iter().any(|f| view.args().iter().any(|w| w.is(f))) {
        return None;
    }
    let dir = built.cwd.clone()?;
    let read = |name: &str| scan.context_path(&Dir::resolve(Some(&dir), name)?).and_then(|p| input.context.contents.get(&p)).map(String::as_str);
    let project = if matches!(view.basename(), Some("mvn" | "mvnw")) {
        jvm_manifests::maven(read("pom.xml")?)
    } else {
        let (name, script) = [("build.gradle", read("build.gradle")), ("build.gradle.kts", read("build.gradle.kts"))].into_iter().find_map(|(n, s)| Some((n, s?)))?;
        let settings = read("settings.gradle").or_else(|| read("settings.gradle.kts"));
        jvm_manifests::gradle(name, script, settings, read("gradle.properties"), basename(&dir))
    };
    Some((dir, project))
}

/// A Spring Boot jar copied whole: a CMD glob over Gradle's build/libs would also copy the
/// `-plain.jar` Spring Boot 2.5+ builds beside it, so the jar the project names is copied instead.
fn whole_jar(from: &str, to: &str, single: Option<&str>, boot: &Boot, notes: &mut Vec<String>) -> (String, String) {
    let plain_beside = boot.version.is_some_and(|v| v >= (2, 5)) && from.contains('*') && from.contains("/build/libs/");
    match single {
        Some(jar) if plain_beside => {
            notes.push("The `-plain.jar` Gradle builds beside the Spring Boot jar is not copied".into());
            (jar.to_string(), to.to_string())
        }
        _ => (from.to_string(), to.to_string()),
    }
}

/// The build stage extracts the jar's layers; the runtime copies them in order and runs the launcher.
fn layered(input: &Input, scan: &Scan, jar: &ShellWord, single: Option<&str>, boot: &Boot, plan: &mut Plan) -> Result<(), String> {
    let version = boot.version.ok_or_else(|| format!("{} does not name Spring Boot's version literally", boot.source))?;
    let (major, minor) = version;
    if version < (2, 4) {
        return Err(format!("Spring Boot {major}.{minor} layers its jars only when told to (from 2.4 on by default)"));
    }
    if boot.custom_layers {
        return Err(format!("{} configures the jar's layers: which folders they extract to cannot be told", boot.source));
    }
    let jar_path = single.ok_or("the jar's name cannot be told from the build files (the CMD names it by a glob)")?;
    let workdir = scan.final_workdir.as_deref().ok_or("no WORKDIR: where the layers go cannot be told")?;
    let launcher = if version >= (3, 2) { "org.springframework.boot.loader.launch.JarLauncher" } else { "org.springframework.boot.loader.JarLauncher" };
    let (old, new) = launcher_rewrite(input, scan, jar, launcher)?;
    let dir = jar_path.rsplit_once('/').map_or("", |(d, _)| d);
    let extracted = format!("{dir}/layers");
    let extract = if version >= (3, 3) {
        format!("RUN java -Djarmode=tools -jar {jar_path} extract --layers --launcher --destination {extracted}")
    } else {
        format!("RUN java -Djarmode=layertools -jar {jar_path} extract --destination {extracted}")
    };
    plan.build_appends.push(extract);
    for layer in LAYERS {
        plan.copies.push((format!("{extracted}/{layer}/"), format!("{}/", workdir.trim_end_matches('/'))));
    }
    plan.replacements.push((old, new));
    plan.notes.push(format!(
        "Spring Boot {major}.{minor}: the build stage extracts the jar's layers and the runtime copies {} in that order, so that a change of the application's code rebuilds only its last layer; the image runs {launcher} instead of `java -jar`, with the same options and arguments",
        LAYERS.join(", ")
    ));
    Ok(())
}

/// `-jar <jar>` in the CMD or ENTRYPOINT's text replaced by the launcher class: JVM options before
/// it and the application's arguments after it stay where they are.
fn launcher_rewrite(input: &Input, scan: &Scan, jar: &ShellWord, launcher: &str) -> Result<(String, String), String> {
    let written = jar.literal.clone().filter(|_| jar.range.is_empty()).unwrap_or_else(|| jar.raw.clone());
    let exec = format!("\"{}\"", written.replace('\\', "\\\\").replace('"', "\\\""));
    let mut found = Vec::new();
    for index in [scan.entrypoint, scan.cmd].into_iter().flatten() {
        let text = &input.file.source[input.file.instructions[index].span.clone()];
        for (at, _) in text.match_indices("-jar") {
            let after = &text[at + 4..];
            let (start, rest, new) = if text[..at].ends_with('"') && after.starts_with('"') {
                let rest = after[1..].trim_start_matches([' ', '\t']).strip_prefix(',').map(|r| r.trim_start_matches([' ', '\t']));
                (at - 1, rest.and_then(|r| r.strip_prefix(exec.as_str())), format!("\"{launcher}\""))
            } else {
                let bounded = text[..at].chars().next_back().is_some_and(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '[' | ','));
                let rest = after.strip_prefix([' ', '\t']).map(|r| r.trim_start_matches([' ', '\t']));
                (at, rest.filter(|_| bounded).and_then(|r| r.strip_prefix(written.as_str())), launcher.to_string())
            };
            let Some(rest) = rest else { continue };
            if rest.chars().next().is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '\'' | ']' | ',' | ';' | '&' | '|')) {
                let end = text.len() - rest.len();
                found.push((text[start..end].to_string(), new));
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!("`-jar {written}` is not written once in the CMD/ENTRYPOINT: the launcher cannot replace it")),
    }
}
