//! What a Maven pom.xml or a Gradle build script says about the jar the build makes: its file
//! name, and whether it is a Spring Boot jar (of which version, with which layers).

/// A Spring Boot build (its plugin repackages the jar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Boot {
    /// `(major, minor)`; `None` when the build script does not say it literally.
    pub version: Option<(u32, u32)>,
    /// Where the version was looked for (said when it is not known).
    pub source: &'static str,
    /// The layers are configured (custom layers, or turned off): their folders cannot be told.
    pub custom_layers: bool,
}

/// The jar a Maven or Gradle project builds, relative to the project folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JavaProject {
    /// `target/demo-0.0.1-SNAPSHOT.jar`, `build/libs/demo-0.0.1-SNAPSHOT.jar`; `Err`: why it cannot be told.
    pub jar: Result<String, String>,
    pub boot: Option<Boot>,
}

/// `3.2.1` → `(3, 2)`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The elements directly inside `xml`: (name, inner text). Comments and declarations are skipped.
fn children(xml: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut open: Option<(&str, usize)> = None;
    let mut at = 0;
    while let Some(lt) = xml[at..].find('<').map(|i| at + i) {
        let rest = &xml[lt..];
        if rest.starts_with("<!--") {
            at = rest.find("-->").map_or(xml.len(), |e| lt + e + 3);
            continue;
        }
        let Some(gt) = rest.find('>').map(|i| lt + i) else { break };
        let tag = &xml[lt + 1..gt];
        at = gt + 1;
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                if let Some((open_name, start)) = open.take() {
                    if open_name == name.trim() {
                        out.push((open_name, &xml[start..lt]));
                    }
                }
            }
            continue;
        }
        if depth == 0 {
            let name = tag.split(|c: char| c.is_whitespace()).next().unwrap_or(tag);
            open = Some((name, gt + 1));
        }
        depth += 1;
    }
    out
}

fn child<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    children(xml).into_iter().find(|(n, _)| *n == name).map(|(_, inner)| inner)
}

fn text<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    child(xml, name).map(str::trim)
}

/// `${name}` in a pom value replaced from its `<properties>`; `None` when something stays unresolved.
fn resolve(value: &str, properties: &[(&str, &str)]) -> Option<String> {
    let mut out = value.to_string();
    for _ in 0..4 {
        let Some(start) = out.find("${") else { return Some(out) };
        let end = start + out[start..].find('}')?;
        let name = &out[start + 2..end];
        let (_, value) = properties.iter().find(|(n, _)| *n == name)?;
        out = format!("{}{}{}", &out[..start], value.trim(), &out[end + 1..]);
    }
    (!out.contains("${")).then_some(out)
}

pub(super) fn maven(pom: &str) -> JavaProject {
    let Some(project) = child(pom, "project") else {
        return JavaProject { jar: Err("pom.xml has no <project>".into()), boot: None };
    };
    let parent = child(project, "parent");
    let parent_text = |name| parent.and_then(|p| text(p, name));
    let build = child(project, "build").unwrap_or_default();
    let mut properties: Vec<(&str, &str)> = child(project, "properties").map(children).unwrap_or_default();
    let artifact = text(project, "artifactId");
    let version = text(project, "version").or_else(|| parent_text("version"));
    if let Some(artifact) = artifact {
        properties.push(("project.artifactId", artifact));
    }
    if let Some(version) = version {
        properties.push(("project.version", version));
    }
    let packaging = text(project, "packaging").unwrap_or("jar");
    let jar = match (text(build, "finalName"), artifact, version) {
        _ if !matches!(packaging, "jar" | "war") => Err(format!("pom.xml's packaging is `{packaging}`")),
        (Some(name), _, _) => resolve(name, &properties).map(|n| format!("target/{n}.{packaging}")).ok_or_else(|| format!("pom.xml's <finalName>{name}</finalName> is not literal")),
        (None, Some(artifact), Some(version)) => match (resolve(artifact, &properties), resolve(version, &properties)) {
            (Some(a), Some(v)) => Ok(format!("target/{a}-{v}.{packaging}")),
            _ => Err("pom.xml's artifactId or version is not literal".into()),
        },
        _ => Err("pom.xml names no artifactId or version".into()),
    };
    let plugin = child(build, "plugins")
        .map(children)
        .unwrap_or_default()
        .into_iter()
        .find(|(_, p)| text(p, "artifactId") == Some("spring-boot-maven-plugin"))
        .map(|(_, p)| p);
    let boot = plugin.map(|plugin| {
        let managed = child(project, "dependencyManagement")
            .and_then(|m| child(m, "dependencies"))
            .map(children)
            .unwrap_or_default()
            .into_iter()
            .find(|(_, d)| text(d, "artifactId") == Some("spring-boot-dependencies"))
            .and_then(|(_, d)| text(d, "version"));
        let version = match parent_text("artifactId") {
            Some("spring-boot-starter-parent") => parent_text("version"),
            _ => managed.or_else(|| text(plugin, "version")),
        };
        let layers = child(plugin, "configuration").and_then(|c| child(c, "layers"));
        Boot {
            version: version.and_then(|v| resolve(v, &properties)).and_then(|v| major_minor(&v)),
            source: "pom.xml",
            custom_layers: layers.is_some_and(|l| child(l, "configuration").is_some() || text(l, "enabled") == Some("false")),
        }
    });
    JavaProject { jar, boot }
}

/// The quoted string right after `at` in `text` (skipping blanks, `(`, `=`): `'x'` or `"x"`.
fn quoted_after(text: &str, at: usize) -> Option<&str> {
    let rest = text[at..].trim_start_matches(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '=');
    let quote = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = &rest[1..];
    inner.find(quote).map(|end| &inner[..end])
}

/// A top-level `<key> = 'value'` / `<key> 'value'` / `<key> = "value"` assignment of a Gradle script.
fn gradle_assignment<'a>(script: &'a str, key: &str) -> Option<Result<&'a str, ()>> {
    let line = script.lines().map(str::trim).find(|l| {
        l.strip_prefix(key).is_some_and(|rest| rest.starts_with([' ', '=', '\t', '(']))
    })?;
    Some(quoted_after(line, key.len()).ok_or(()))
}

/// A Gradle build: its build script (`script_name`: build.gradle or build.gradle.kts), its settings script and
/// gradle.properties when known, and the project folder's name (the default project name).
pub(super) fn gradle(script_name: &'static str, script: &str, settings: Option<&str>, properties: Option<&str>, folder: &str) -> JavaProject {
    const PLUGIN: &str = "org.springframework.boot";
    // The plugin (not a dependency on Spring Boot's starters): its id in quotes, its buildscript
    // classpath, or a version catalog's alias.
    let applied = script.match_indices(PLUGIN).any(|(at, _)| script[at + PLUGIN.len()..].starts_with(['\'', '"']))
        || script.contains("spring-boot-gradle-plugin")
        || script.lines().any(|l| l.contains("alias(") && l.contains("spring") && l.to_ascii_lowercase().contains("boot"));
    let boot = applied.then(|| {
        // `id 'org.springframework.boot' version '3.2.0'`, `id("org.springframework.boot") version "3.2.0"`,
        // or the buildscript classpath `org.springframework.boot:spring-boot-gradle-plugin:2.7.0`.
        let by_id = script.match_indices(PLUGIN).find_map(|(at, _)| {
            let rest = script[at + PLUGIN.len()..].trim_start_matches(['\'', '"', ')']);
            let rest = rest.trim_start_matches([' ', '\t']).strip_prefix("version")?;
            quoted_after(rest, 0)
        });
        let classpath = script.find("spring-boot-gradle-plugin:").map(|at| {
            let rest = &script[at + "spring-boot-gradle-plugin:".len()..];
            &rest[..rest.find(['\'', '"', ')']).unwrap_or(rest.len())]
        });
        Boot {
            version: by_id.or(classpath).and_then(major_minor),
            source: script_name,
            custom_layers: script.contains("layered"),
        }
    });
    let included = settings.is_some_and(|s| s.lines().any(|l| l.trim_start().starts_with("include")));
    let renamed = ["archiveFileName", "archiveBaseName", "archiveVersion", "archiveClassifier", "archivesBaseName", "archivesName"]
        .iter()
        .find(|k| script.contains(*k));
    let name = match settings.and_then(|s| gradle_assignment(s, "rootProject.name")) {
        Some(Ok(name)) => Ok(name.to_string()),
        Some(Err(())) => Err("settings.gradle's rootProject.name is not literal".to_string()),
        None => Ok(folder.to_string()),
    };
    let version = match gradle_assignment(script, "version") {
        Some(Ok(v)) => Ok(Some(v.to_string())),
        Some(Err(())) => Err("the build script's version is not literal".to_string()),
        None => match properties.and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("version")?.trim_start().strip_prefix('='))) {
            Some(v) => Ok(Some(v.trim().to_string())),
            None => Ok(None),
        },
    };
    let jar = if included {
        Err("settings.gradle includes subprojects: which one's jar runs cannot be told".to_string())
    } else if let Some(key) = renamed {
        Err(format!("the build script sets `{key}`"))
    } else {
        name.and_then(|n| version.map(|v| format!("build/libs/{n}{}.jar", v.map(|v| format!("-{v}")).unwrap_or_default())))
    };
    JavaProject { jar, boot }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOT_POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-starter-parent</artifactId>
    <version>3.2.5</version>
    <relativePath/> <!-- lookup parent from repository -->
  </parent>
  <artifactId>demo</artifactId>
  <version>0.0.1-SNAPSHOT</version>
  <dependencies><dependency><artifactId>spring-boot-starter-web</artifactId><version>9.9</version></dependency></dependencies>
  <build><plugins><plugin>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-maven-plugin</artifactId>
  </plugin></plugins></build>
</project>"#;

    #[test]
    fn maven_jar_and_boot_version() {
        let p = maven(BOOT_POM);
        assert_eq!(p.jar.as_deref(), Ok("target/demo-0.0.1-SNAPSHOT.jar"));
        assert_eq!(p.boot.map(|b| b.version), Some(Some((3, 2))));
        let plain = maven("<project><artifactId>a</artifactId><version>${revision}</version><properties><revision>1.2</revision></properties></project>");
        assert_eq!(plain.jar.as_deref(), Ok("target/a-1.2.jar"));
        assert!(plain.boot.is_none());
        let final_name = maven("<project><artifactId>a</artifactId><version>1</version><build><finalName>app</finalName></build></project>");
        assert_eq!(final_name.jar.as_deref(), Ok("target/app.jar"));
        assert!(maven("<project><artifactId>a</artifactId><version>${x}</version></project>").jar.is_err());
    }

    #[test]
    fn gradle_jar_and_boot_version() {
        let script = "plugins {\n  id 'java'\n  id 'org.springframework.boot' version '3.3.1'\n}\nversion = '0.0.1-SNAPSHOT'\n";
        let p = gradle("build.gradle", script, Some("rootProject.name = 'demo'\n"), None, "app");
        assert_eq!(p.jar.as_deref(), Ok("build/libs/demo-0.0.1-SNAPSHOT.jar"));
        assert_eq!(p.boot.map(|b| b.version), Some(Some((3, 3))));
        let kts = "plugins {\n  id(\"org.springframework.boot\") version \"2.7.18\"\n}\n";
        let p = gradle("build.gradle.kts", kts, None, Some("version=1.0\n"), "app");
        assert_eq!(p.jar.as_deref(), Ok("build/libs/app-1.0.jar"));
        assert_eq!(p.boot.map(|b| b.version), Some(Some((2, 7))));
        let catalog = gradle("build.gradle", "plugins { alias(libs.plugins.spring.boot) }\n", None, None, "x");
        assert_eq!(catalog.boot.map(|b| b.version), Some(None));
        let starters_only = gradle("build.gradle", "dependencies { implementation 'org.springframework.boot:spring-boot-starter:3.2.0' }\n", None, None, "x");
        assert!(starters_only.boot.is_none());
        assert!(gradle("build.gradle", "bootJar { archiveFileName = 'app.jar' }\n", None, None, "x").jar.is_err());
    }
}
