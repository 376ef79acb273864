//! `scaletest merge`: what it refuses (not shards, another plan, a shard twice, a shard
//! missing) and what it flags (a late start, a partial merge).

mod common;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use common::text;
use serde_json::Value;

/// Runs shard `shard` of a tiny plan on the embedded sink; the report's path.
fn shard(dir: &Path, shard: &str, extra: &[&str]) -> PathBuf {
    let json = dir.join(format!("shard-{}-{}.json", shard.replace('/', "of"), extra.len()));
    let json_arg = json.to_string_lossy().into_owned();
    let mut args =
        vec!["run", "--shard", shard, "--count", "6", "--clock", "synthetic", "--verify", "off"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--json", &json_arg]);
    let output = common::command(&dir.to_path_buf(), &args).output().expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    json
}

fn merge(files: &[&PathBuf], extra: &[&str]) -> (std::process::Output, Option<Value>) {
    let out = common::temp_dir().join("merged.json");
    let out_arg = out.to_string_lossy().into_owned();
    let mut args = vec!["merge".to_owned()];
    args.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args.extend(["--json".to_owned(), out_arg]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = common::run(&refs);
    let report =
        std::fs::read_to_string(&out).ok().map(|t| serde_json::from_str(&t).expect("JSON"));
    (output, report)
}

fn codes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .map(|notes| notes.iter().filter_map(|n| n["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[test]
fn merge_refuses_what_would_be_meaningless() {
    let dir = common::temp_dir();
    let a = shard(&dir, "0/2", &[]);
    let b = shard(&dir, "1/2", &[]);
    let (output, merged) = merge(&[&a, &b], &["--threshold", "error_rate<1"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let merged = merged.expect("merged report");
    assert_eq!(common::u(&merged, "/traces/started"), 6);
    assert_eq!(merged["thresholds"][0]["passed"], true);

    let (output, _) = merge(&[&a, &b], &["--threshold", "traces_per_s>1000000"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));

    let (output, _) = merge(&[&a], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("shard 1 of 2 missing"), "{}", text(&output));
    let (output, partial) = merge(&[&a], &["--partial"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(codes(&partial.expect("partial")).contains(&"shards_missing".to_owned()));

    let (output, _) = merge(&[&a, &a, &b], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("shard 0 is given twice"), "{}", text(&output));

    let other = shard(&dir, "1/2", &["--rate", "7"]);
    let (output, _) = merge(&[&a, &other], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("different plans"), "{}", text(&output));

    let three = shard(&dir, "1/3", &[]);
    let (output, _) = merge(&[&a, &three], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("one of 2"), "{}", text(&output));

    let whole = dir.join("whole.json");
    let whole_arg = whole.to_string_lossy().into_owned();
    let output =
        common::run(&["run", "--count", "3", "--clock", "synthetic", "--json", &whole_arg]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let (output, _) = merge(&[&a, &whole], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("is not a shard's report"), "{}", text(&output));
}

#[test]
fn a_late_shard_is_merged_with_a_note() {
    let dir = common::temp_dir();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let past = (now - 5).to_string();
    let a = shard(&dir, "0/2", &["--start-at", &past]);
    let b = shard(&dir, "1/2", &["--start-at", &past]);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&a).expect("a")).expect("JSON");
    assert_eq!(report["start_at"]["late"], true);
    assert!(codes(&report).contains(&"started_late".to_owned()));
    let (output, merged) = merge(&[&a, &b], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let merged = merged.expect("merged");
    assert_eq!(codes(&merged).iter().filter(|c| *c == "started_late").count(), 2);
    assert_eq!(merged["shards"][1]["started_late"], true);
    assert!(text(&output).contains("did not start with the other shards"));
}

#[test]
fn bad_shard_settings_name_the_value() {
    for (args, env, expected) in [
        (vec!["--shard", "3/3"], vec![], "--shard `3/3`"),
        (vec!["--shard", "0/0"], vec![], "number of shards is 0"),
        (vec!["--shard", "two"], vec![], "expected I/N"),
        (vec!["--shard", "2/3", "--count", "2"], vec![], "--count 2"),
        (vec!["--shard", "1/3", "--shards", "4"], vec![], "disagree"),
        (vec![], vec![("SCALE_TEST_SHARDS", "3")], "JOB_COMPLETION_INDEX"),
        (vec![], vec![("SCALE_TEST_SHARDS", "3"), ("JOB_COMPLETION_INDEX", "3")], "`3`"),
        (vec!["--start-at", "tomorrow"], vec![], "--start-at `tomorrow`"),
    ] {
        let mut all = vec!["run", "--clock", "synthetic", "--duration", "1s"];
        all.extend_from_slice(&args);
        let output = common::run_env(&all, &env);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {}", text(&output));
        assert!(text(&output).contains(expected), "{args:?}: {}", text(&output));
    }
}

#[test]
fn shards_with_a_read_load_merge_it() {
    let dir = common::temp_dir();
    let read = ["--query-rate", "8", "--query-mix", "list=1,count=1"];
    let a = shard(&dir, "0/2", &read);
    let b = shard(&dir, "1/2", &read);
    let part = |p: &PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("report")).expect("JSON")
    };
    let (pa, pb) = (part(&a), part(&b));
    // Each shard read at its share of the rate.
    assert_eq!(pa["queries"]["target_rate_per_s"], 4.0);
    let (output, merged) = merge(&[&a, &b], &["--threshold", "query_error_rate[list]<=1"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let merged = merged.expect("merged report");
    let q = &merged["queries"];
    assert_eq!(q["target_rate_per_s"], 8.0);
    assert_eq!(q["mix"], "list=1,count=1");
    for (i, op) in ["list", "count"].iter().enumerate() {
        let sum = common::u(&pa, &format!("/queries/operations/{i}/started"))
            + common::u(&pb, &format!("/queries/operations/{i}/started"));
        assert_eq!(q["operations"][i]["op"], *op);
        assert_eq!(common::u(&merged, &format!("/queries/operations/{i}/started")), sum);
        assert!(q["operations"][i]["request"].as_str().is_some_and(|r| !r.is_empty()));
    }
    assert_eq!(merged["thresholds"][0]["metric"], "query_error_rate[list]");
}
