//! `.env.example` documents every variable scaletest reads: each flag's environment variable
//! and each platform's settings.

use scenario_runtime::platform::PlatformId;

const EXAMPLE: &str = include_str!("../../.env.example");
const SOURCES: [&str; 2] =
    [include_str!("../src/config/mod.rs"), include_str!("../src/sink_cmd.rs")];

/// `NAME` is documented when a line (commented or not) sets it.
fn documented(name: &str) -> bool {
    EXAMPLE
        .lines()
        .map(|l| l.trim_start_matches('#').trim())
        .any(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
}

#[test]
fn every_flag_variable_is_documented() {
    let mut names = Vec::new();
    for source in SOURCES {
        for part in source.split("env = \"").skip(1) {
            if let Some(name) = part.split('"').next() {
                names.push(name.to_owned());
            }
        }
    }
    assert!(names.len() > 30, "found only {names:?}");
    let missing: Vec<_> = names.iter().filter(|n| !documented(n)).collect();
    assert!(missing.is_empty(), ".env.example lacks {missing:?}");
}

#[test]
fn every_platform_setting_is_documented() {
    let missing: Vec<_> = PlatformId::ALL
        .iter()
        .flat_map(|p| p.settings_env().iter().map(|(var, _)| *var))
        .filter(|var| !documented(var))
        .collect();
    assert!(missing.is_empty(), ".env.example lacks {missing:?}");
}
