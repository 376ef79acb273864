//! Suite files: TOML read with positions, `${VAR}` expanded, every run validated exactly as
//! `scaletest run` validates its flags, every component checked, before anything starts.
//!
//! A run's table is turned into the command line of `scaletest run` (`rate = 20` becomes
//! `--rate=20`, an array repeats its flag, `true` sets a switch) and parsed by the same clap
//! arguments ([`RunArgs`]) into the same [`Settings`]: any `run` flag is a run key, with the
//! same defaults, environment variables and messages. Every error names the file, the line and
//! the key, and never shows the value of a variable (it may be a key): such values are replaced
//! by `${NAME}` in every message ([`Secrets`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, FromArgMatches};
use serde::Deserialize;
use toml::Spanned;

use crate::config::{
    ConfigError, RunArgs, Settings, Sources, parse_duration, parse_duration_or_zero,
};

/// A suite file's error: `FILE:LINE: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError(pub String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Values that came from `${VAR}`: never shown; messages and reports show `${VAR}` instead.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// `(value, variable)`, longest value first (so a value inside another is replaced last).
    values: Vec<(String, String)>,
}

/// Values shorter than this are not treated as secrets (`1`, `on`, a port number): replacing
/// them would garble messages, and no credential is that short.
const SECRET_MIN_LEN: usize = 6;

impl Secrets {
    fn add(&mut self, var: &str, value: &str) {
        if value.len() >= SECRET_MIN_LEN && !self.values.iter().any(|(v, _)| v == value) {
            self.values.push((value.to_owned(), var.to_owned()));
            self.values.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        }
    }

    /// `text` with every secret value replaced by `${VAR}`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, var) in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("${{{var}}}"));
            }
        }
        out
    }

    /// Scrubs every string of a JSON value (report files).
    pub fn scrub_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.scrub(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.scrub_json(v)),
            _ => {}
        }
    }
}

/// A validated suite.
#[derive(Debug)]
pub struct Suite {
    pub name: String,
    pub path: PathBuf,
    pub components: Vec<ComponentSpec>,
    pub runs: Vec<RunSpec>,
    pub secrets: Secrets,
}

/// How to start, check and stop one process the runs need (a backend, a collector, ...).
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    pub name: String,
    /// Program and arguments (no shell).
    pub command: Vec<String>,
    /// Added to scaletest's own environment.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    /// Healthy when a GET answers 2xx; without it, started means ready.
    pub health_url: Option<String>,
    pub ready_timeout: Duration,
    pub stop_signal: StopSignalKind,
    /// How long after the stop signal before SIGKILL.
    pub stop_grace: Duration,
    /// Started anew for each run (else once, before the first run that needs it).
    pub fresh: bool,
}

/// The signal a component is stopped with (then SIGKILL after the grace period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignalKind {
    Term,
    Int,
    Quit,
    Hup,
    Kill,
}

impl StopSignalKind {
    fn parse(text: &str) -> Option<StopSignalKind> {
        let t = text.trim().to_ascii_uppercase();
        Some(match t.strip_prefix("SIG").unwrap_or(&t) {
            "TERM" => StopSignalKind::Term,
            "INT" => StopSignalKind::Int,
            "QUIT" => StopSignalKind::Quit,
            "HUP" => StopSignalKind::Hup,
            "KILL" => StopSignalKind::Kill,
            _ => return None,
        })
    }
}

/// One run of the suite: its `run` settings, validated, and the arguments they came from.
#[derive(Debug)]
pub struct RunSpec {
    pub name: String,
    /// Indexes into [`Suite::components`] of the components this run needs.
    pub components: Vec<usize>,
    /// The `scaletest run` arguments the table became (values expanded; never printed).
    pub args: Vec<OsString>,
    pub settings: Settings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: Option<Spanned<String>>,
    #[serde(default)]
    defaults: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    components: Vec<Spanned<RawComponent>>,
    #[serde(default)]
    runs: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    name: Spanned<String>,
    command: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<String>>,
    cwd: Option<Spanned<String>>,
    health_url: Option<Spanned<String>>,
    ready_timeout: Option<Spanned<String>>,
    stop_signal: Option<Spanned<String>>,
    stop_grace: Option<Spanned<String>>,
    #[serde(default)]
    fresh: bool,
}

/// Keys of a run table that are the suite's own, not `run` flags.
const RUN_OWN_KEYS: [&str; 2] = ["name", "components"];

/// Default readiness timeout of a component.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Default grace period between the stop signal and SIGKILL.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);

/// Reads and validates `path`; `env` looks variables up.
pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Suite, FileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileError(format!("cannot read suite file `{}`: {e}", path.display())))?;
    parse(path, &text, env)
}

/// Where a byte offset is: `FILE:LINE`.
struct Locator<'a> {
    file: String,
    text: &'a str,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    fn at(&self, offset: usize, message: impl std::fmt::Display) -> FileError {
        FileError(format!("{}:{}: {message}", self.file, self.line(offset)))
    }
}

/// Parses and validates a suite file's text.
pub fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Suite, FileError> {
    let loc = Locator { file: path.display().to_string(), text };
    let raw: RawSuite = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        loc.at(offset, e.message().trim_end())
    })?;
    let mut secrets = Secrets::default();

    let mut components: Vec<ComponentSpec> = Vec::new();
    for raw in &raw.components {
        let raw = raw.get_ref();
        let name = raw.name.get_ref().trim().to_owned();
        if name.is_empty() || components.iter().any(|c| c.name == name) {
            return Err(loc.at(
                raw.name.span().start,
                format!("component name `{name}` is empty or used twice: expected a unique name"),
            ));
        }
        let what = |key: &str| format!("component `{name}`, {key}");
        let mut command = Vec::new();
        for part in raw.command.get_ref() {
            command.push(expand_at(&loc, env, &mut secrets, part, &what("command"))?);
        }
        if command.first().is_none_or(|p| p.trim().is_empty()) {
            return Err(loc.at(
                raw.command.span().start,
                format!(
                    "{}: expected a program and its arguments, e.g. [\"phoenix\", \"serve\"]",
                    what("command")
                ),
            ));
        }
        let mut vars = Vec::new();
        for (key, value) in &raw.env {
            let key_text = key.get_ref();
            if key_text.is_empty() || key_text.contains(['=', '\0']) {
                return Err(loc.at(
                    key.span().start,
                    format!("{}: invalid variable name `{key_text}`", what("env")),
                ));
            }
            vars.push((
                key_text.clone(),
                expand_at(&loc, env, &mut secrets, value, &what(&format!("env {key_text}")))?,
            ));
        }
        let cwd = match &raw.cwd {
            Some(dir) => {
                let expanded =
                    PathBuf::from(expand_at(&loc, env, &mut secrets, dir, &what("cwd"))?);
                if !expanded.is_dir() {
                    return Err(loc.at(
                        dir.span().start,
                        format!(
                            "{}: `{}` is not a directory",
                            what("cwd"),
                            secrets.scrub(&expanded.display().to_string())
                        ),
                    ));
                }
                Some(expanded)
            }
            None => None,
        };
        let health_url = match &raw.health_url {
            Some(url) => {
                let expanded = expand_at(&loc, env, &mut secrets, url, &what("health_url"))?;
                crate::config::check_url(&what("health_url"), &expanded)
                    .map_err(|e| loc.at(url.span().start, secrets.scrub(&e.0)))?;
                Some(expanded)
            }
            None => None,
        };
        let duration =
            |value: &Option<Spanned<String>>, key: &str, zero_ok: bool, default: Duration| {
                match value {
                    Some(v) => {
                        let parsed = if zero_ok {
                            parse_duration_or_zero(&what(key), v.get_ref())
                        } else {
                            parse_duration(&what(key), v.get_ref())
                        };
                        parsed.map_err(|e| loc.at(v.span().start, e.0))
                    }
                    None => Ok(default),
                }
            };
        let ready_timeout =
            duration(&raw.ready_timeout, "ready_timeout", false, DEFAULT_READY_TIMEOUT)?;
        let stop_grace = duration(&raw.stop_grace, "stop_grace", true, DEFAULT_STOP_GRACE)?;
        let stop_signal = match &raw.stop_signal {
            Some(s) => StopSignalKind::parse(s.get_ref()).ok_or_else(|| {
                loc.at(
                    s.span().start,
                    format!(
                        "invalid {} `{}`: expected SIGTERM, SIGINT, SIGQUIT, SIGHUP or SIGKILL",
                        what("stop_signal"),
                        s.get_ref()
                    ),
                )
            })?,
            None => StopSignalKind::Term,
        };
        components.push(ComponentSpec {
            name,
            command,
            env: vars,
            cwd,
            health_url,
            ready_timeout,
            stop_signal,
            stop_grace,
            fresh: raw.fresh,
        });
    }

    if raw.runs.is_empty() {
        return Err(loc.at(text.len(), "no runs: expected at least one [[runs]] table"));
    }
    let flags = run_flags();
    let mut runs: Vec<RunSpec> = Vec::new();
    for (index, table) in raw.runs.iter().enumerate() {
        let line = loc.line(table.span().start);
        let table = table.get_ref();
        let name = match table.get("name").map(|v| (v, v.get_ref())) {
            Some((_, toml::Value::String(s))) if !s.trim().is_empty() => s.trim().to_owned(),
            Some((v, _)) => {
                return Err(loc.at(v.span().start, "run name: expected a non-empty string"));
            }
            None => format!("run-{}", index + 1),
        };
        if runs.iter().any(|r| r.name == name) {
            return Err(loc.at(
                table.get("name").map_or(0, |v| v.span().start),
                format!("run name `{name}` is used twice: expected unique names"),
            ));
        }
        let needed = match table.get("components") {
            None => (0..components.len()).collect(),
            Some(v) => {
                let list = match v.get_ref() {
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                };
                let Some(list) = list else {
                    return Err(loc.at(
                        v.span().start,
                        format!("run `{name}`, components: expected an array of component names"),
                    ));
                };
                let mut indexes = Vec::new();
                for wanted in list {
                    let Some(i) = components.iter().position(|c| c.name == wanted) else {
                        return Err(loc.at(v.span().start, format!(
                            "run `{name}`, components: unknown component `{wanted}`: expected one of {}",
                            components.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                        )));
                    };
                    indexes.push(i);
                }
                indexes
            }
        };
        // Defaults first, the run's own keys over them.
        let mut merged: BTreeMap<String, &Spanned<toml::Value>> = BTreeMap::new();
        for (key, value) in raw.defaults.iter().chain(table.iter()) {
            let k = key.get_ref().as_str();
            if RUN_OWN_KEYS.contains(&k) {
                continue;
            }
            merged.insert(k.replace('-', "_"), value);
            if !flags.iter().any(|f| f.id == k.replace('-', "_")) {
                return Err(loc.at(key.span().start, format!(
                    "run `{name}`: unknown key `{k}`: expected `name`, `components` or a `scaletest run` flag without its dashes ({})",
                    flags.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let mut args: Vec<OsString> = vec!["run".into()];
        let mut key_lines: Vec<(String, usize, Vec<String>)> = Vec::new();
        for (key, value) in &merged {
            let flag =
                flags.iter().find(|f| &f.id == key).map_or_else(Default::default, Clone::clone);
            key_lines.push((flag.long.clone(), value.span().start, Vec::new()));
            let what = format!("run `{name}`, {key}");
            let items: Vec<&toml::Value> = match value.get_ref() {
                toml::Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                let text = match item {
                    toml::Value::String(s) => expand_vars(s, env, &mut secrets)
                        .map_err(|e| loc.at(value.span().start, format!("{what}: {e}")))?,
                    toml::Value::Integer(n) => n.to_string(),
                    toml::Value::Float(x) => x.to_string(),
                    toml::Value::Boolean(b) if !flag.takes_value => {
                        if *b {
                            args.push(format!("--{}", flag.long).into());
                        }
                        continue;
                    }
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => {
                        return Err(loc.at(
                            value.span().start,
                            format!(
                                "{what}: expected a string, number, boolean or an array of them"
                            ),
                        ));
                    }
                };
                if let Some(entry) = key_lines.last_mut() {
                    entry.2.push(secrets.scrub(&text));
                }
                if !flag.takes_value {
                    return Err(loc.at(
                        value.span().start,
                        format!("{what}: `--{}` is a switch: expected true or false", flag.long),
                    ));
                }
                args.push(format!("--{}={text}", flag.long).into());
            }
        }
        let located = |message: String| {
            let message = secrets.scrub(&message);
            // The key whose flag the message names, or whose value it quotes, else the run's
            // table.
            let offset = key_lines
                .iter()
                .find(|(long, _, _)| message.contains(&format!("--{long}")))
                .or_else(|| {
                    key_lines.iter().find(|(_, _, values)| {
                        values.iter().any(|v| !v.is_empty() && message.contains(&format!("`{v}`")))
                    })
                })
                .map(|(_, o, _)| *o);
            let line = offset.map_or(line, |o| loc.line(o));
            FileError(format!("{}:{line}: run `{name}`: {message}", loc.file))
        };
        let settings = run_settings(&args).map_err(|e| located(e.0))?;
        settings.plan(env).map_err(|e| located(e.0))?;
        runs.push(RunSpec { name, components: needed, args, settings });
    }
    let name = raw.name.as_ref().map(|n| n.get_ref().clone()).unwrap_or_else(|| {
        path.file_stem().map_or("suite".to_owned(), |s| s.to_string_lossy().into_owned())
    });
    Ok(Suite { name, path: path.to_owned(), components, runs, secrets })
}

/// [`expand_vars`] with the error located at `value`.
fn expand_at(
    loc: &Locator<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
    value: &Spanned<String>,
    what: &str,
) -> Result<String, FileError> {
    expand_vars(value.get_ref(), env, secrets)
        .map_err(|e| loc.at(value.span().start, format!("{what}: {e}")))
}

/// A `run` flag: its id (the key), its long name and whether it takes a value.
#[derive(Debug, Clone, Default)]
struct Flag {
    id: String,
    long: String,
    takes_value: bool,
}

fn run_command() -> clap::Command {
    RunArgs::augment_args(clap::Command::new("run"))
}

fn run_flags() -> Vec<Flag> {
    run_command()
        .get_arguments()
        .filter_map(|a| {
            Some(Flag {
                id: a.get_id().as_str().to_owned(),
                long: a.get_long()?.to_owned(),
                takes_value: a.get_action().takes_values(),
            })
        })
        .filter(|f| f.id != "env_file")
        .collect()
}

/// `scaletest run`'s validation of `args` (the first is the command's name): the same clap
/// arguments, sources and checks as the command line.
pub fn run_settings(args: &[OsString]) -> Result<Settings, ConfigError> {
    let matches = run_command().try_get_matches_from(args).map_err(|e| {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("invalid arguments");
        ConfigError(first.trim_start_matches("error: ").to_owned())
    })?;
    let run = RunArgs::from_arg_matches(&matches).map_err(|e| ConfigError(e.to_string()))?;
    run.settings_with(&Sources::from_matches(Some(&matches)))
}

/// Expands `${NAME}` (`$${` is a literal `${`; any other `$` stays as it is); a missing variable is an error naming it. Every
/// value used is remembered as a secret.
pub fn expand_vars(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("unclosed `${`: expected ${NAME}".to_owned());
            };
            let name = &inner[..end];
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "invalid variable name `{name}` in `${{{name}}}`: expected letters, digits and _"
                ));
            }
            let Some(value) = env(name) else {
                return Err(format!("variable `{name}` is not set (referenced as `${{{name}}}`)"));
            };
            secrets.add(name, &value);
            out.push_str(&value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("tok-123456789".to_owned()),
            "PORT" => Some("6006".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn variables_expand_and_their_values_are_scrubbed() {
        let mut secrets = Secrets::default();
        let text =
            expand_vars("Bearer ${TOKEN} on :${PORT}, $HOME and $${LITERAL}", &env, &mut secrets);
        assert_eq!(text.as_deref(), Ok("Bearer tok-123456789 on :6006, $HOME and ${LITERAL}"));
        // The token is a secret; a 4-character port is not worth hiding.
        assert_eq!(secrets.scrub("sent tok-123456789 to :6006"), "sent ${TOKEN} to :6006");
        let missing = expand_vars("${NOPE}", &env, &mut secrets);
        assert!(missing.is_err_and(|e| e.contains("`NOPE` is not set")));
        assert!(expand_vars("${unclosed", &env, &mut secrets).is_err());
        assert!(expand_vars("${1BAD}", &env, &mut secrets).is_err());
    }

    #[test]
    fn a_run_table_becomes_the_run_settings() {
        let text = "[defaults]\nclock = \"synthetic\"\nrate = 7\n\n[[runs]]\nname = \"a\"\nthreshold = [\"error_rate<0.1\", \"export_p99_ms<900\"]\nno_verify = true\n\n[[runs]]\nname = \"b\"\nrate = 9.5\n";
        let suite = parse(Path::new("t.toml"), text, &env).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(suite.name, "t");
        let [a, b] = &suite.runs[..] else { unreachable!("two runs") };
        assert_eq!(a.settings.thresholds.len(), 2);
        assert_eq!(a.settings.verify, scenario_runtime::engine::plan::VerifyMode::Off);
        assert_eq!(a.settings.clock, scenario_runtime::engine::schedule::ClockKind::Synthetic);
        assert!(format!("{:?}", a.settings.load).contains("7.0"), "{:?}", a.settings.load);
        assert!(format!("{:?}", b.settings.load).contains("9.5"), "{:?}", b.settings.load);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases = [
            ("[[runs]]\nname = \"a\"\nrate = -3\n", "t.toml:3:"),
            ("[[runs]]\nname = \"a\"\n[[runs]]\nname = \"a\"\n", "t.toml:4:"),
            ("[[components]]\nname = \"c\"\ncommand = []\n[[runs]]\n", "t.toml:3:"),
            (
                "[[components]]\nname = \"c\"\ncommand = [\"x\"]\nstop_signal = \"SIGFOO\"\n[[runs]]\n",
                "t.toml:4:",
            ),
            (
                "[[components]]\nname = \"c\"\ncommand = [\"x\"]\nhealth_url = \"ftp://x\"\n[[runs]]\n",
                "t.toml:4:",
            ),
            (
                "[[components]]\nname = \"c\"\ncommand = [\"x\"]\ncolour = 1\n[[runs]]\n",
                "t.toml:4:",
            ),
            ("name = \"s\"\n", "t.toml:2:"),
        ];
        for (text, at) in cases {
            let e = parse(Path::new("t.toml"), text, &env).err().map(|e| e.0).unwrap_or_default();
            assert!(e.starts_with(at), "{text:?}: {e}");
        }
    }
}
