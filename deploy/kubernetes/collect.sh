#!/usr/bin/env bash
# Collects the reports of a sharded scaletest Job from its pods' logs and merges them.
#
#   deploy/kubernetes/collect.sh [options] [JOB [NAMESPACE]]
#
# JOB defaults to scaletest, NAMESPACE to scaletest. For each pod of the Job (label
# job-name=JOB) it reads `kubectl logs`, takes the text between
#   ----- BEGIN SCALETEST REPORT shard=I -----
#   ----- END SCALETEST REPORT -----
# into OUT/shard-I.json, checks that each of the Job's N shards (0..N-1) is there exactly once,
# then runs
#   scaletest merge OUT/shard-0.json ... OUT/shard-<N-1>.json --json OUT/merged.json --html OUT/merged.html
#
# Options:
#   -o, --out DIR     where to write the files (default: reports)
#   -w, --wait        wait for the Job to finish first (otherwise a running Job is an error)
#   --timeout SECS    with --wait, give up after this long (default 7200)
#   --no-merge        only extract the shards' reports
#   -h, --help        this text
# Environment:
#   KUBECTL    the kubectl command (default: kubectl); KUBECONFIG, contexts etc. as usual
#   SCALETEST  the scaletest command used for the merge (default: scaletest)
#
# Exit status: 0 when every shard's report was collected (and merged); 1 when a report is
# missing, incomplete or duplicated, or the merge failed; 2 for bad usage or a Job not found.
# The Job's own success does not matter here: a shard that failed its thresholds still has a
# report, and the merged report says what failed.
set -euo pipefail

KUBECTL=${KUBECTL:-kubectl}
SCALETEST=${SCALETEST:-scaletest}
BEGIN_PREFIX='----- BEGIN SCALETEST REPORT shard='
END_LINE='----- END SCALETEST REPORT -----'

out=reports
wait_for_end=0
timeout=7200
merge=1
positional=()

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "collect: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        -o | --out) [ $# -ge 2 ] || die "$1 needs a directory"; out=$2; shift 2 ;;
        --out=*) out=${1#--out=}; shift ;;
        -w | --wait) wait_for_end=1; shift ;;
        --timeout) [ $# -ge 2 ] || die "$1 needs seconds"; timeout=$2; shift 2 ;;
        --timeout=*) timeout=${1#--timeout=}; shift ;;
        --no-merge) merge=0; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; positional+=("$@"); break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) positional+=("$1"); shift ;;
    esac
done
[ ${#positional[@]} -le 2 ] || die "expected at most JOB and NAMESPACE, got: ${positional[*]}"
job=${positional[0]:-scaletest}
namespace=${positional[1]:-scaletest}
case $timeout in '' | *[!0-9]*) die "--timeout takes whole seconds, got '$timeout'" ;; esac

k() { "$KUBECTL" --namespace "$namespace" "$@"; }

# The number of shards and the Job's state (its conditions that are True).
job_state() {
    k get job "$job" -o 'jsonpath={.spec.completions}{" "}{.status.conditions[?(@.status=="True")].type}'
}

state=$(job_state) || die "cannot read job/$job in namespace $namespace"
read -r shards conditions <<<"$state" || true
case $shards in '' | *[!0-9]*) die "job/$job has no completion count (is it an Indexed Job?)" ;; esac

finished() { case " $1 " in *" Complete "* | *" Failed "*) return 0 ;; *) return 1 ;; esac; }

if ! finished "$conditions"; then
    if [ "$wait_for_end" -eq 0 ]; then
        echo "collect: job/$job has not finished (conditions: ${conditions:-none});" \
            "run again when it has, or with --wait" >&2
        exit 1
    fi
    echo "collect: waiting for job/$job to finish (at most ${timeout}s) ..." >&2
    start=$SECONDS
    while ! finished "$conditions"; do
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            echo "collect: job/$job still not finished after ${timeout}s" >&2
            exit 1
        fi
        sleep "${COLLECT_POLL_SECONDS:-10}"
        state=$(job_state) || die "cannot read job/$job in namespace $namespace"
        read -r _ conditions <<<"$state" || true
    done
fi
echo "collect: job/$job finished (${conditions}); $shards shard(s)" >&2

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scaletest-collect.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Pods of the Job: name and phase, one per line.
k get pods -l "job-name=$job" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{.status.phase}{"\n"}{end}' >"$tmp/pods" ||
    die "cannot list the pods of job/$job"

if ! grep -q . "$tmp/pods"; then
    echo "collect: job/$job has no pods (deleted with the Job, or after its" \
        "ttlSecondsAfterFinished?)" >&2
fi

problems=0
problem() { echo "collect: $*" >&2; problems=$((problems + 1)); }

# Writes the report in log file $1 to $2; prints the shard index. Exit status 3: no report,
# 4: a report without its end marker (cut short), 5: more than one report in the log.
extract() {
    awk -v begin="$BEGIN_PREFIX" -v end="$END_LINE" -v dest="$2" '
        { sub(/\r$/, "") }
        state == 0 && index($0, begin) == 1 {
            rest = substr($0, length(begin) + 1)
            if (rest ~ /^[0-9]+ -----$/) {
                shard = rest; sub(/ -----$/, "", shard)
                printf "" > dest
                state = 1; next
            }
        }
        state == 1 && $0 == end { close(dest); state = 2; next }
        state == 1 { print > dest; next }
        state == 2 && index($0, begin) == 1 { state = 3 }
        END {
            if (state == 0) exit 3
            if (state == 1) exit 4
            if (state == 3) exit 5
            print shard + 0
        }
    ' "$1"
}

while read -r pod phase; do
    [ -n "$pod" ] || continue
    if ! k logs "pod/$pod" -c scaletest >"$tmp/$pod.log" 2>"$tmp/$pod.err"; then
        problem "pod $pod ($phase): cannot read its log: $(head -c 300 "$tmp/$pod.err")"
        continue
    fi
    rc=0
    shard=$(extract "$tmp/$pod.log" "$tmp/$pod.json") || rc=$?
    case $rc in
        0) ;;
        3) problem "pod $pod ($phase): no report in its log; its last lines:"
           tail -n 5 "$tmp/$pod.log" | sed 's/^/    /' >&2
           continue ;;
        4) problem "pod $pod ($phase): the report has no end marker (cut short)"; continue ;;
        5) problem "pod $pod ($phase): more than one report in its log"; continue ;;
        *) problem "pod $pod ($phase): cannot extract its report (awk exit $rc)"; continue ;;
    esac
    if [ "$shard" -ge "$shards" ]; then
        problem "pod $pod: report of shard $shard, but the Job has $shards shard(s)"
    elif [ -e "$tmp/shard-$shard.json" ]; then
        problem "shard $shard: reports from two pods ($(cat "$tmp/shard-$shard.pod") and $pod)"
    else
        mv "$tmp/$pod.json" "$tmp/shard-$shard.json"
        echo "$pod" >"$tmp/shard-$shard.pod"
        echo "collect: shard $shard from pod $pod ($phase)" >&2
    fi
done <"$tmp/pods"

files=()
i=0
while [ "$i" -lt "$shards" ]; do
    if [ -e "$tmp/shard-$i.json" ]; then
        files+=("$out/shard-$i.json")
    else
        problem "shard $i: no report collected"
    fi
    i=$((i + 1))
done

# Keep what was collected, even when something is missing: it can still be looked at.
for f in "$tmp"/shard-*.json; do
    [ -e "$f" ] && cp "$f" "$out/"
done

if [ "$problems" -gt 0 ]; then
    echo "collect: FAILED: $problems problem(s); ${#files[@]} of $shards report(s) in $out/" >&2
    exit 1
fi
echo "collect: all $shards report(s) in $out/" >&2

if [ "$merge" -eq 0 ]; then
    exit 0
fi
if ! command -v "$SCALETEST" >/dev/null 2>&1; then
    echo "collect: '$SCALETEST' not found: install it (cargo install --path cli) or set" \
        "SCALETEST, then run: scaletest merge ${files[*]} --json $out/merged.json" \
        "--html $out/merged.html" >&2
    exit 1
fi
echo "collect: $SCALETEST merge ${files[*]} --json $out/merged.json --html $out/merged.html" >&2
"$SCALETEST" merge "${files[@]}" --json "$out/merged.json" --html "$out/merged.html"
